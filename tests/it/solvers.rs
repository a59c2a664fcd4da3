//! Integration tests: solvers.
