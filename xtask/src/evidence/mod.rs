//! Evidence: `cargo xtask bench` and `cargo xtask harden` measure, print one table each, and
//! rewrite their section of BENCHMARKS.md. Nothing here generates code.

pub(crate) mod bench;
pub(crate) mod harden;
mod report;
