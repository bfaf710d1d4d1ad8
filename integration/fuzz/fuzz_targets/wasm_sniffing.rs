#![no_main]
//! `cargo fuzz run wasm_sniffing`: see `spin_fuzz::wasm_sniffing`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| spin_fuzz::wasm_sniffing(data));
