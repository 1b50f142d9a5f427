//! The `gov` command line: a thin client of the library.

fn main() {}
