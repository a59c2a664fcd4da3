//! Integration tests of the sparsify workspace live in `it/`; this library is empty.
