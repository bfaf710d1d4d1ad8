#![no_main]
//! `cargo fuzz run trigger_configs`: see `spin_fuzz::trigger_configs`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| spin_fuzz::trigger_configs(data));
