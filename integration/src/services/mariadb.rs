//! A real MySQL server (Debian's MariaDB) on 127.0.0.1 for tests: a fresh data
//! folder (`mariadb-install-db`), one user `spin` with a password and a
//! database `app`, and the `mariadb` client to look at what guests wrote.
//! Killed when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;

use crate::process::{free_port, Running};

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The password of user `spin`.
const PASSWORD: &str = "guest-secret";

/// A running MariaDB server.
pub struct MariaDb {
    _process: Running,
    port: u16,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

/// A program of MariaDB's, from `PATH` or the folders Debian installs them in.
fn program(name: &str) -> PathBuf {
    let found =
        ["/usr/sbin", "/usr/bin", "/usr/local/bin"].iter().map(|d| Path::new(d).join(name)).find(|p| p.is_file());
    found.unwrap_or_else(|| name.into())
}

impl MariaDb {
    /// Creates a data folder and starts a server on a free port of 127.0.0.1,
    /// with user `spin` and database `app`.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_serving(None)
    }

    /// [`MariaDb::start`], with TLS on `pki`'s server certificate (for
    /// 127.0.0.1) and user `spin` allowed in over TLS only (`REQUIRE SSL`).
    pub fn start_with_tls(pki: &crate::services::tls_server::Pki) -> anyhow::Result<Self> {
        let db = Self::start_serving(Some(pki))?;
        db.sql("ALTER USER 'spin'@'%' REQUIRE SSL;")?;
        Ok(db)
    }

    fn start_serving(pki: Option<&crate::services::tls_server::Pki>) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("data");
        let socket = dir.path().join("mysqld.sock");
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp)?;
        let install = Command::new(program("mariadb-install-db"))
            .args(["--no-defaults", "--user=root", "--skip-test-db", "--auth-root-authentication-method=socket"])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .output()
            .context("running mariadb-install-db (apt-get install mariadb-server)")?;
        anyhow::ensure!(
            install.status.success(),
            "mariadb-install-db failed: {}",
            String::from_utf8_lossy(&install.stderr)
        );
        let port = free_port();
        let mut server = Command::new(program("mariadbd"));
        server.args(["--no-defaults", "--user=root", "--bind-address=127.0.0.1", "--skip-log-bin"]);
        server.arg(format!("--datadir={}", data.display()));
        server.arg(format!("--socket={}", socket.display()));
        server.arg(format!("--tmpdir={}", tmp.display()));
        server.arg(format!("--port={port}"));
        server.arg(format!("--pid-file={}", dir.path().join("mysqld.pid").display()));
        if let Some(pki) = pki {
            server.arg(format!("--ssl-cert={}", pki.dir().join("server.pem").display()));
            server.arg(format!("--ssl-key={}", pki.dir().join("server.key").display()));
        }
        let mut process = Running::spawn(server)?;
        process.wait_for_line("ready for connections", START_TIMEOUT)?;
        let db = Self { _process: process, port, socket, _dir: dir };
        db.sql(&format!(
            "CREATE USER 'spin'@'%' IDENTIFIED BY '{PASSWORD}'; CREATE DATABASE app; GRANT ALL ON app.* TO 'spin'@'%';"
        ))?;
        Ok(db)
    }

    /// `mysql://spin:<password>@127.0.0.1:<port>/app`.
    pub fn address(&self) -> String {
        format!("mysql://spin:{PASSWORD}@127.0.0.1:{}/app", self.port)
    }

    /// Runs `sql` as the server's root (over its socket), tab-separated
    /// output without column names.
    pub fn sql(&self, sql: &str) -> anyhow::Result<String> {
        let out = Command::new(program("mariadb"))
            .args(["--no-defaults", "-u", "root", "-N", "-B", "-e", sql])
            .arg(format!("--socket={}", self.socket.display()))
            .output()
            .context("running the mariadb client (apt-get install mariadb-client)")?;
        anyhow::ensure!(out.status.success(), "mariadb {sql:?}: {}", String::from_utf8_lossy(&out.stderr));
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The client connections the server holds for user `spin`.
    pub fn client_connections(&self) -> anyhow::Result<usize> {
        Ok(self.sql("SELECT count(*) FROM information_schema.processlist WHERE user = 'spin'")?.parse()?)
    }
}
