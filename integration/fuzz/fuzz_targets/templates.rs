#![no_main]
//! `cargo fuzz run templates`: see `spin_fuzz::templates`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| spin_fuzz::templates(data));
