//! Integration tests: properties.
