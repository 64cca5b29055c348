//! tim-emulator: filled in by a later issue.
