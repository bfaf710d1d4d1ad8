//! A real redis on 127.0.0.1 for tests, driven with `redis-cli`; stopped when
//! dropped. It can be stopped and started again on the same port to simulate an
//! outage.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::process::{free_port, Running};

/// How long a start may take before the server must answer PING.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A `redis-server` process bound to 127.0.0.1 (none while stopped).
pub struct RedisServer {
    port: u16,
    process: Option<Running>,
    tls: Option<Tls>,
}

/// A TLS port beside the plain one (which `redis-cli` keeps using).
struct Tls {
    port: u16,
    args: Vec<String>,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers.
    pub fn start() -> anyhow::Result<Self> {
        let mut server = Self { port: free_port(), process: None, tls: None };
        server.restart()?;
        Ok(server)
    }

    /// [`RedisServer::start`] with a TLS port too, serving `pki`'s server
    /// certificate (clients need not present one).
    pub fn start_with_tls(pki: &crate::services::tls_server::Pki) -> anyhow::Result<Self> {
        let port = free_port();
        let file = |name: &str| pki.dir().join(name).to_string_lossy().into_owned();
        let mut args = vec!["--tls-port".to_string(), port.to_string()];
        for (flag, name) in
            [("--tls-cert-file", "server.pem"), ("--tls-key-file", "server.key"), ("--tls-ca-cert-file", "ca.pem")]
        {
            args.extend([flag.to_string(), file(name)]);
        }
        args.extend(["--tls-auth-clients".to_string(), "no".to_string()]);
        let mut server = Self { port: free_port(), process: None, tls: Some(Tls { port, args }) };
        server.restart()?;
        Ok(server)
    }

    /// `rediss://127.0.0.1:<TLS port>`, for a server started with TLS.
    pub fn tls_address(&self) -> Option<String> {
        self.tls.as_ref().map(|tls| format!("rediss://127.0.0.1:{}", tls.port))
    }

    /// The port it listens on (the same across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (an outage); [`RedisServer::restart`] brings it back.
    pub fn stop(&mut self) {
        self.process = None;
    }

    /// Starts the server on its port (again) and waits until it answers PING.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let mut cmd = Command::new("redis-server");
        cmd.args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--daemonize", "no", "--save", ""]);
        cmd.args(["--appendonly", "no"]);
        if let Some(tls) = &self.tls {
            cmd.args(&tls.args);
        }
        let mut process = Running::spawn(cmd).context("starting redis-server (apt-get install redis-server)")?;
        let end = Instant::now() + START_TIMEOUT;
        loop {
            if self.cli(&["PING"]).is_ok_and(|r| r == "PONG") {
                self.process = Some(process);
                return Ok(());
            }
            if let Some(code) = process.try_status() {
                anyhow::bail!("redis-server exited with {code}:\n{}", process.output());
            }
            if Instant::now() > end {
                anyhow::bail!("redis-server did not answer PING within {START_TIMEOUT:?}:\n{}", process.output());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs one command with `redis-cli --raw`; returns its trimmed output.
    pub fn cli(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "--raw"])
            .args(args)
            .output()
            .context("running redis-cli")?;
        let stdout = String::from_utf8_lossy(&out.stdout).trim_end_matches('\n').to_string();
        if !out.status.success() || stdout.starts_with("ERR") || stdout.starts_with("Could not connect") {
            anyhow::bail!("redis-cli {args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(stdout)
    }

    /// PUBLISHes `payload` on `channel`; returns how many subscribers received it.
    pub fn publish(&self, channel: &str, payload: &str) -> anyhow::Result<u64> {
        let n = self.cli(&["PUBLISH", channel, payload])?;
        n.parse().with_context(|| format!("PUBLISH answered {n:?}"))
    }

    /// PUBLISHes until at least one subscriber received it (a subscriber may still be
    /// connecting); errors after `timeout`.
    pub fn publish_until_received(&self, channel: &str, payload: &str, timeout: Duration) -> anyhow::Result<()> {
        let end = Instant::now() + timeout;
        loop {
            if self.publish(channel, payload).unwrap_or(0) > 0 {
                return Ok(());
            }
            if Instant::now() > end {
                anyhow::bail!("no subscriber on `{channel}` received a message within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The string at `key`, or `None` when it is not set.
    pub fn get(&self, key: &str) -> anyhow::Result<Option<String>> {
        let exists = self.cli(&["EXISTS", key])?;
        if exists == "0" {
            return Ok(None);
        }
        Ok(Some(self.cli(&["GET", key])?))
    }

    /// Polls `key` until it holds `expected` (within `timeout`); errors with the last value seen.
    pub fn wait_for_value(&self, key: &str, expected: &str, timeout: Duration) -> anyhow::Result<()> {
        let end = Instant::now() + timeout;
        let mut last = None;
        while Instant::now() < end {
            last = self.get(key)?;
            if last.as_deref() == Some(expected) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        anyhow::bail!("`{key}` is {last:?} after {timeout:?}, expected {expected:?}")
    }

    /// The current output of the server process (for failure messages).
    pub fn output(&mut self) -> String {
        self.process.as_mut().map(Running::output).unwrap_or_default()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
