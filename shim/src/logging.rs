//! Process logging: `tracing` to stderr at `RUST_LOG` (default `warn`), so nothing
//! is logged per request unless asked for; and the shim's own error lines.

/// Installs the subscriber once with the filter `rust_log` (the `RUST_LOG`
/// the container or the process sets); later calls are no-ops.
pub fn init(rust_log: Option<&str>) {
    let filter = rust_log
        .and_then(|f| tracing_subscriber::EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Writes one line, prefixed with the shim's name, to its stderr (containerd's
/// log, for the shim daemon and the processes runwasi forks from it).
pub(crate) fn log_error(msg: &str) {
    eprintln!("containerd-shim-spin: {msg}");
}
