//! Running an app with `spin-shim up`, the way tools drive `spin up`. [`Up`] is
//! the one place that starts the CLI; every test and tool of this crate goes
//! through it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::paths;
use crate::process::Running;

/// How long a start (including compiling the component) may take.
pub const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A `spin-shim up` command line:
/// `<binary> up -f <app> --listen <addr> [flags...] [-- guest args...]`.
///
/// The child inherits the test's environment minus `SPIN_HTTP_LISTEN_ADDR` (so
/// `--listen` decides where it listens), plus the variables given to [`Up::env`].
/// Its stdout and stderr are collected line by line, and it is killed when the
/// [`Running`] (or [`ServedApp`]) holding it is dropped.
pub struct Up {
    binary: PathBuf,
    app: PathBuf,
    listen: String,
    flags: Vec<String>,
    env: Vec<(String, String)>,
    guest_args: Vec<String>,
    working_dir: Option<PathBuf>,
}

/// A served app: the process and its base URL (scraped from `Serving http://...`).
pub struct ServedApp {
    /// The `spin-shim up` process.
    pub process: Running,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl ServedApp {
    /// Sends `method path` (no body), asserts a 200 and returns the body.
    pub fn ok(&self, method: &str, path: &str) -> String {
        let r = crate::http::request(method, &format!("{}{path}", self.base), &[], "").unwrap();
        assert_eq!(r.status, 200, "{method} {path}: {r:?}");
        r.body
    }
}

impl Up {
    /// `spin-shim up` (the full CLI under test) on `app`, a directory holding
    /// `spin.toml` or a `.wasm` file, listening on a free port of 127.0.0.1.
    pub fn new(app: &Path) -> Self {
        Self::with_binary(paths::cli(), app)
    }

    /// The same command with another `spin-shim` binary (a slim variant's).
    pub fn with_binary(binary: PathBuf, app: &Path) -> Self {
        Self {
            binary,
            app: app.to_path_buf(),
            listen: "127.0.0.1:0".into(),
            flags: Vec::new(),
            env: Vec::new(),
            guest_args: Vec::new(),
            working_dir: None,
        }
    }

    /// Adds `env` to the child's environment.
    pub fn env(mut self, env: &[(&str, &str)]) -> Self {
        self.env.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }

    /// Adds `flags` of `up` itself (`--runtime-config-file <f>`, `--no-cache`, ...).
    pub fn flags(mut self, flags: &[&str]) -> Self {
        self.flags.extend(flags.iter().map(|f| f.to_string()));
        self
    }

    /// Listens on `addr` instead of a free port.
    pub fn listen(mut self, addr: &str) -> Self {
        self.listen = addr.to_string();
        self
    }

    /// Runs the process in `dir` (where Spin's `.env` file is read).
    pub fn working_dir(mut self, dir: &Path) -> Self {
        self.working_dir = Some(dir.to_path_buf());
        self
    }

    /// Arguments for the guest, passed after `--` (a command component gets them
    /// after its id in argv).
    pub fn guest_args(mut self, args: &[&str]) -> Self {
        self.guest_args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// The command line, not started.
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.args(["up", "-f"]).arg(&self.app).args(["--listen", &self.listen]).args(&self.flags);
        if !self.guest_args.is_empty() {
            cmd.arg("--").args(&self.guest_args);
        }
        cmd.env_remove("SPIN_HTTP_LISTEN_ADDR");
        if let Some(dir) = &self.working_dir {
            cmd.current_dir(dir);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Starts the process; waits for nothing.
    pub fn spawn(self) -> anyhow::Result<Running> {
        Running::spawn(self.command())
    }

    /// Starts the process and waits (up to [`START_TIMEOUT`]) for its
    /// `Serving http://...` line.
    pub fn serve(self) -> anyhow::Result<ServedApp> {
        let mut process = self.spawn()?;
        // `Serving http://...`, or `https://` when serving TLS.
        let line = process.wait_for_line("Serving http", START_TIMEOUT)?;
        let base = line.trim().trim_start_matches("Serving ").to_string();
        Ok(ServedApp { process, base })
    }

    /// Runs the process until it exits by itself (within `timeout`); returns its
    /// exit code and everything it printed.
    pub fn run(self, timeout: Duration) -> anyhow::Result<(i32, String)> {
        self.spawn()?.wait(timeout)
    }
}

/// Serves `app` with `env` added and `flags` passed to `up`; see [`Up::serve`].
pub fn serve(app: &Path, env: &[(&str, &str)], flags: &[&str]) -> anyhow::Result<ServedApp> {
    Up::new(app).env(env).flags(flags).serve()
}

/// Runs `spin-shim up` on an app expected to fail at start; returns exit code and output.
pub fn run_to_failure(app: &Path) -> anyhow::Result<(i32, String)> {
    Up::new(app).run(START_TIMEOUT)
}
