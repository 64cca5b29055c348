//! cargo fuzz target `decode`: see `tim_fuzz::check_decode` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tim_fuzz::check_decode(data));
