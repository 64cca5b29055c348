//! Cross-crate tests of tim-rs: one binary, one module per concern.

mod client_fake;
mod client_suite;
mod fuzz_regressions;
mod http_server;
mod pager;
mod props;
mod redaction;
mod retry_table;
mod samples;
mod spec_json;
mod tag_sets;
mod usersig_interop;
