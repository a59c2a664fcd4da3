//! Project automation: `cargo xtask figures | verify | bench`.
fn main() {}
