//! A plain WASI command: exports only `wasi:cli/run`, no HTTP handler.
//! Declared as an http component in spin.toml to exercise the host's
//! "component does not export an HTTP handler" error.
fn main() {
    println!("I am a command, not an HTTP handler");
}
