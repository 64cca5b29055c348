//! `cargo xtask bench`: filled in by the benchmarks issue.

pub(crate) fn run(_root: &std::path::Path) -> Result<Vec<String>, Vec<String>> {
    Err(vec!["cargo xtask bench is not implemented yet".into()])
}
