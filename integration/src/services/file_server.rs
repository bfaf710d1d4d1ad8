//! A real static HTTP file server (Python's `http.server`) on 127.0.0.1 over a
//! folder, for `{ url, digest }` sources; stopped when dropped.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::process::{free_port, Running};

/// How long a start may take before the server must answer.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// `python3 -m http.server` serving one folder.
pub struct FileServer {
    port: u16,
    _process: Running,
}

impl FileServer {
    /// Serves `dir` on a free port and waits until it answers.
    pub fn start(dir: &Path) -> anyhow::Result<Self> {
        let port = free_port();
        let mut cmd = Command::new("python3");
        cmd.args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"]).arg(dir).arg(port.to_string());
        let mut process = Running::spawn(cmd).context("starting python3 -m http.server")?;
        let end = Instant::now() + START_TIMEOUT;
        let base = format!("http://127.0.0.1:{port}/");
        loop {
            if crate::http::get(&base).is_ok() {
                return Ok(Self { port, _process: process });
            }
            if let Some(code) = process.try_status() {
                anyhow::bail!("http.server exited with {code}:\n{}", process.output());
            }
            if Instant::now() > end {
                anyhow::bail!("http.server did not answer within {START_TIMEOUT:?}:\n{}", process.output());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The URL of `file` in the served folder.
    pub fn url(&self, file: &str) -> String {
        format!("http://127.0.0.1:{}/{file}", self.port)
    }
}
