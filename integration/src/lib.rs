//! Test harness for real-process tests: locating the built binaries and guests,
//! running apps through the CLI or a private containerd, and an HTTP client.

pub mod bench_apps;
pub mod cli_app;
pub mod compile_cache;
pub mod containerd;
pub mod cri;
pub mod event_app;
pub mod fixtures;
pub mod guests;
pub mod http;
pub mod images;
pub mod paths;
pub mod process;
pub mod reuse;
pub mod scenarios;
pub mod services;
pub mod suite;
pub mod two_step_task;
pub mod upstream;
