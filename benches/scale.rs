//! The scale benchmark (issue 14): being written.
fn main() {}
