//! cargo fuzz target `bulk_line`: see `tim_fuzz::check_bulk_line` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tim_fuzz::check_bulk_line(data));
