#![no_main]
//! `cargo fuzz run allowed_hosts`: see `spin_fuzz::allowed_hosts`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| spin_fuzz::allowed_hosts(data));
