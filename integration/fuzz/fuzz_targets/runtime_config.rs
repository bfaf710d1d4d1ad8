#![no_main]
//! `cargo fuzz run runtime_config`: see `spin_fuzz::runtime_config`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| spin_fuzz::runtime_config(data));
