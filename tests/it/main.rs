//! Cross-crate tests of tim-rs: one binary, one module per concern.

mod props;
mod samples;
mod spec_json;
mod usersig_interop;
