//! The `sparsify` command-line tool.
fn main() {}
