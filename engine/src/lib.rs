//! Spin-compatible application engine: the app model (manifest, locked app), the
//! loader, the wasmtime runtime, host capabilities, and the trigger plugin model.

pub mod allowed_hosts;
pub mod host;
pub mod limits;
pub mod loader;
pub mod locked;
pub mod manifest;
pub mod runtime;
pub mod runtime_config;
pub mod telemetry;
pub mod trigger;
pub mod variables;

pub use wasmtime;
