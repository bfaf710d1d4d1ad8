//! Running an app with `spin-shim up`, the way tools drive `spin up`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::paths;
use crate::process::Running;

/// A served app: the process and its base URL (scraped from `Serving http://...`).
pub struct ServedApp {
    /// The `spin-shim up` process.
    pub process: Running,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

/// Starts `spin-shim up -f <app> --listen 127.0.0.1:0` with `env` and `args`, and
/// waits for its `Serving` line.
pub fn serve(app: &Path, env: &[(&str, &str)], args: &[&str]) -> anyhow::Result<ServedApp> {
    let mut cmd = Command::new(paths::cli());
    cmd.args(["up", "-f"]).arg(app).args(["--listen", "127.0.0.1:0"]).args(args);
    cmd.env_remove("SPIN_HTTP_LISTEN_ADDR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut process = Running::spawn(cmd)?;
    let line = process.wait_for_line("Serving http://", Duration::from_secs(120))?;
    let base = line.trim().trim_start_matches("Serving ").to_string();
    Ok(ServedApp { process, base })
}

/// Runs `spin-shim up` on an app expected to fail at start; returns exit code and output.
pub fn run_to_failure(app: &Path) -> anyhow::Result<(i32, String)> {
    let mut cmd = Command::new(paths::cli());
    cmd.args(["up", "-f"]).arg(app).args(["--listen", "127.0.0.1:0"]);
    let mut process = Running::spawn(cmd)?;
    process.wait(Duration::from_secs(120))
}
