#![no_main]
//! `cargo fuzz run router`: see `spin_fuzz::router`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| spin_fuzz::router(data));
