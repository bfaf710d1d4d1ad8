//! A real PostgreSQL on 127.0.0.1 for tests: a fresh cluster (`initdb`) in a
//! temporary folder, one user `spin` with a password (SCRAM authentication, as
//! a production server asks), run by the `postgres` system account that
//! Debian's package creates (the server refuses to run as root), and `psql`
//! to look at what guests wrote. Shut down (fast) when dropped.

use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;

use crate::process::{free_port, Running};

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// The password of user `spin`.
const PASSWORD: &str = "guest-secret";

/// A running PostgreSQL server.
pub struct PostgresServer {
    process: Option<Running>,
    port: u16,
    _dir: tempfile::TempDir,
}

/// The folder of PostgreSQL's server programs: the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's layout), else `PATH`'s.
fn server_bin(program: &str) -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin").join(program))))
        .filter(|(_, p)| p.is_file())
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p).unwrap_or_else(|| program.into())
}

/// The uid and gid of the `postgres` account, when this process is root (the
/// server refuses to run as root); `None` otherwise.
fn server_account() -> anyhow::Result<Option<(u32, u32)>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let id = |flag: &str| -> anyhow::Result<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output()?;
        anyhow::ensure!(
            out.status.success(),
            "no `postgres` account: run `bash integration/scripts/setup-host.sh` (apt-get install postgresql)"
        );
        Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
    };
    Ok(Some((id("-u")?, id("-g")?)))
}

/// `program` from the server's folder, run as the server's account.
fn as_server(program: &str, account: Option<(u32, u32)>) -> Command {
    let mut cmd = Command::new(server_bin(program));
    if let Some((uid, gid)) = account {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn chown(path: &Path, account: Option<(u32, u32)>) -> anyhow::Result<()> {
    if let Some((uid, gid)) = account {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).with_context(|| format!("chown {}", path.display()))?;
    }
    Ok(())
}

impl PostgresServer {
    /// Creates a cluster and starts its server on a free port of 127.0.0.1.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_serving(None)
    }

    /// [`PostgresServer::start`], also offering TLS with `pki`'s server
    /// certificate (for 127.0.0.1); clients choose with `sslmode`.
    pub fn start_with_tls(pki: &crate::services::tls_server::Pki) -> anyhow::Result<Self> {
        Self::start_serving(Some(pki))
    }

    fn start_serving(pki: Option<&crate::services::tls_server::Pki>) -> anyhow::Result<Self> {
        let account = server_account()?;
        let dir = tempfile::tempdir()?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
        let data = dir.path().join("data");
        let password_file = dir.path().join("password");
        std::fs::write(&password_file, PASSWORD)?;
        chown(dir.path(), account)?;
        chown(&password_file, account)?;
        let init = as_server("initdb", account)
            .args(["-D", &data.to_string_lossy(), "-U", "spin", "-A", "scram-sha-256", "-E", "UTF8", "--locale=C"])
            .arg(format!("--pwfile={}", password_file.display()))
            .arg("--no-sync")
            .output()
            .context("running initdb (apt-get install postgresql)")?;
        anyhow::ensure!(init.status.success(), "initdb failed: {}", String::from_utf8_lossy(&init.stderr));
        let port = free_port();
        let mut server = as_server("postgres", account);
        server.args(["-D", &data.to_string_lossy(), "-k", &dir.path().to_string_lossy(), "-p", &port.to_string()]);
        server.args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"]);
        if let Some(pki) = pki {
            // The server insists that its key be its own and private.
            for (name, setting) in [("server.pem", "ssl_cert_file"), ("server.key", "ssl_key_file")] {
                let copy = data.join(name);
                std::fs::copy(pki.dir().join(name), &copy)?;
                std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600))?;
                chown(&copy, account)?;
                server.args(["-c", &format!("{setting}={}", copy.display())]);
            }
            server.args(["-c", "ssl=on"]);
        }
        let mut process = Running::spawn(server)?;
        process.wait_for_line("ready to accept connections", START_TIMEOUT)?;
        Ok(Self { process: Some(process), port, _dir: dir })
    }

    /// `postgres://spin:<password>@127.0.0.1:<port>/postgres`.
    pub fn address(&self) -> String {
        format!("postgres://spin:{PASSWORD}@127.0.0.1:{}/postgres", self.port)
    }

    /// The same server in libpq's `key=value` form.
    pub fn key_value_address(&self) -> String {
        format!("host=127.0.0.1 port={} user=spin password={PASSWORD} dbname=postgres", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs `sql` with `psql` and returns its unaligned, tuples-only output.
    pub fn psql(&self, sql: &str) -> anyhow::Result<String> {
        let out = Command::new("psql")
            .args([&self.address(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .context("running psql (apt-get install postgresql-client)")?;
        anyhow::ensure!(out.status.success(), "psql {sql:?}: {}", String::from_utf8_lossy(&out.stderr));
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The client connections the server holds for user `spin`, besides `psql`'s own.
    pub fn client_connections(&self) -> anyhow::Result<usize> {
        let n = self.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = 'spin' AND backend_type = 'client backend' \
             AND pid <> pg_backend_pid()",
        )?;
        Ok(n.parse()?)
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.signal(libc::SIGINT);
            let _ = process.wait(Duration::from_secs(10));
        }
    }
}
