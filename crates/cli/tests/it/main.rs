//! End-to-end tests: the `tim` binary against an emulator on loopback.

mod bulk;
mod commands;
mod harness;
mod secrets;
