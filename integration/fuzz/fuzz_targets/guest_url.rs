#![no_main]
//! `cargo fuzz run guest_url`: see `spin_fuzz::guest_url`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| spin_fuzz::guest_url(data));
