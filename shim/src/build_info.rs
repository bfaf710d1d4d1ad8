//! What this binary is: version, compiled trigger types, wasmtime version, Spin
//! compatibility.

/// This crate's version.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The wasmtime version the runtime is built on.
pub(crate) const WASMTIME_VERSION: &str = "48.0.8";
/// The Spin level this runtime matches (see `worlds.rs` for the guest worlds).
pub(crate) const SPIN_COMPATIBILITY: &str =
    "Spin 4.1 and 3.x apps (spin.toml v1 and v2, locked app v0/v1, spin:up@4.1 \
     with wasi:http@0.3.0 and spin:*@3.x, spin:up@3.x, fermyon:spin@2.0.0, wasi:http@0.2.x)";

/// A one-line description for `--version`: version, triggers, wasmtime.
pub fn version_line() -> &'static str {
    static LINE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LINE.get_or_init(|| {
        format!("{VERSION} (triggers: {}; wasmtime {WASMTIME_VERSION})", super::triggers::compiled_types().join(","))
    })
}
