//! `cargo xtask harden`: filled in by the hardening issue.

pub(crate) fn run(_root: &std::path::Path) -> Result<Vec<String>, Vec<String>> {
    Err(vec!["cargo xtask harden is not implemented yet".into()])
}
