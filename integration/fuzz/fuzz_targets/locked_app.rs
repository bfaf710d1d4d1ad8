#![no_main]
//! `cargo fuzz run locked_app`: see `spin_fuzz::locked_app`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| spin_fuzz::locked_app(data));
