#![doc = include_str!("../../README.md")]
//!
//! (This crate holds the cross-crate tests in `it/`; its docs are the workspace README, so that
//! every Rust example in the README is compiled and run by `cargo test --workspace`.)
