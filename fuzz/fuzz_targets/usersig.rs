//! cargo fuzz target `usersig`: see `tim_fuzz::check_usersig` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tim_fuzz::check_usersig(data));
