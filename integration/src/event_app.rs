//! Running apps that print no `Serving` line (command, cron, redis, sqs, mqtt
//! triggers) with `spin-shim up`: wait for a given output line, or for the process
//! to exit, and collect its output and exit code.

use std::path::Path;
use std::time::Duration;

use crate::cli_app::Up;
pub use crate::cli_app::START_TIMEOUT;
use crate::process::Running;

/// A running `spin-shim up` process; killed when dropped.
pub struct EventApp {
    /// The `spin-shim up` process (stdout and stderr interleaved, line by line).
    pub process: Running,
}

/// Starts `spin-shim up -f <app> [-- guest_args...]` with `env` added to its
/// environment (see [`Up`]). Does not wait for anything.
pub fn start(app: &Path, env: &[(&str, &str)], guest_args: &[&str]) -> anyhow::Result<EventApp> {
    Ok(EventApp { process: Up::new(app).env(env).guest_args(guest_args).spawn()? })
}

/// Runs `spin-shim up` on `app` until it exits by itself (within `timeout`); returns
/// its exit code and everything it printed.
pub fn run_to_exit(
    app: &Path,
    env: &[(&str, &str)],
    guest_args: &[&str],
    timeout: Duration,
) -> anyhow::Result<(i32, String)> {
    Up::new(app).env(env).guest_args(guest_args).run(timeout)
}

impl EventApp {
    /// Waits up to `timeout` for a line containing `needle`; returns that line.
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> anyhow::Result<String> {
        self.process.wait_for_line(needle, timeout)
    }

    /// Waits until `count` lines containing `needle` were printed (within
    /// `timeout`); returns them in order.
    pub fn wait_for_lines(&mut self, needle: &str, count: usize, timeout: Duration) -> anyhow::Result<Vec<String>> {
        let end = std::time::Instant::now() + timeout;
        loop {
            let found = self.lines_containing(needle);
            if found.len() >= count {
                return Ok(found);
            }
            if std::time::Instant::now() > end || self.process.try_status().is_some() {
                anyhow::bail!(
                    "{} of {count} lines containing {needle:?} within {timeout:?}; output:\n{}",
                    found.len(),
                    self.process.output()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every line printed so far that contains `needle`.
    pub fn lines_containing(&mut self, needle: &str) -> Vec<String> {
        self.process.output().lines().filter(|l| l.contains(needle)).map(str::to_string).collect()
    }

    /// Sends SIGTERM and waits up to `timeout` for the exit; returns code and output.
    pub fn terminate(&mut self, timeout: Duration) -> anyhow::Result<(i32, String)> {
        self.process.signal(libc::SIGTERM);
        self.process.wait(timeout)
    }

    /// Everything printed so far.
    pub fn output(&mut self) -> String {
        self.process.output()
    }
}
