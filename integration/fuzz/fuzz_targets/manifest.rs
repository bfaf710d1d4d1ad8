#![no_main]
//! `cargo fuzz run manifest`: see `spin_fuzz::manifest`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| spin_fuzz::manifest(data));
