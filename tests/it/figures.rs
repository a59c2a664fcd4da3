//! Integration tests: figures.
