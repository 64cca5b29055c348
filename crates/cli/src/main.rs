//! `tim`: the command-line tool (filled in by a later issue).

fn main() {}
