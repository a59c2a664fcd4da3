//! Integration tests: snapshots.
