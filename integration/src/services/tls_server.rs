//! A real HTTPS server (Python's `http.server` behind its `ssl` module) on
//! 127.0.0.1, with certificates made by `openssl` for the test: a private
//! certificate authority, a server certificate for 127.0.0.1 and a client
//! certificate, both signed by it. Stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::process::{free_port, Running};

/// How long a start may take before the server must accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// The server: answers every GET with 200 `secure`, and `GET /connections` with
/// the count of connections (TLS handshakes) it has accepted; it keeps
/// connections open between requests (HTTP/1.1). With `require`, it answers only
/// clients presenting a certificate of the authority.
const SERVER: &str = r#"
import http.server, ssl, sys, threading
port, cert, key, ca, require = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1"
accepted, lock = [0], threading.Lock()
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def setup(self):
        super().setup()
        with lock:
            accepted[0] += 1
    def do_GET(self):
        body = str(accepted[0]).encode() if self.path == "/connections" else b"secure"
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
if require:
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(ca)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"#;

/// The test's certificates, in a folder of their own (PEM files).
pub struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// Makes the authority and the server and client certificates.
    pub fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let run = |args: &[&str]| -> anyhow::Result<()> {
            let out = Command::new("openssl").args(args).current_dir(dir.path()).output().context("running openssl")?;
            anyhow::ensure!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            Ok(())
        };
        let new_key = ["-newkey", "rsa:2048", "-nodes", "-days", "2"];
        run(&[&["req", "-x509"][..], &new_key, &["-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=test ca"]]
            .concat())?;
        // Extensions make version 3 certificates, the only version rustls takes.
        std::fs::write(dir.path().join("server.ext"), "subjectAltName=IP:127.0.0.1\n")?;
        std::fs::write(dir.path().join("client.ext"), "extendedKeyUsage=clientAuth\n")?;
        for name in ["server", "client"] {
            let [key, csr, pem, ext] = ["key", "csr", "pem", "ext"].map(|suffix| format!("{name}.{suffix}"));
            let subject = format!("/CN={name}");
            run(&[&["req"][..], &new_key, &["-keyout", &key, "-out", &csr, "-subj", &subject]].concat())?;
            let ca = ["-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2"];
            run(&[&["x509", "-req", "-in", &csr][..], &ca, &["-extfile", &ext, "-out", &pem]].concat())?;
        }
        Ok(Self { dir })
    }

    /// The folder holding `ca.pem`, `client.pem`, `client.key` and the server's.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The HTTPS server.
pub struct TlsServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    _process: Running,
}

impl TlsServer {
    /// Serves with `pki`'s server certificate; with `require_client_certificate`
    /// the handshake fails for a client without one of `pki`'s authority.
    pub fn start(pki: &Pki, require_client_certificate: bool) -> anyhow::Result<Self> {
        let port = free_port();
        let mut cmd = Command::new("python3");
        cmd.args(["-c", SERVER, &port.to_string()])
            .args([pki.file("server.pem"), pki.file("server.key"), pki.file("ca.pem")])
            .arg(if require_client_certificate { "1" } else { "0" });
        let mut process = Running::spawn(cmd).context("starting the python3 HTTPS server")?;
        let end = Instant::now() + START_TIMEOUT;
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Self { port, _process: process });
            }
            if let Some(code) = process.try_status() {
                anyhow::bail!("the HTTPS server exited with {code}:\n{}", process.output());
            }
            anyhow::ensure!(Instant::now() < end, "the HTTPS server did not listen within {START_TIMEOUT:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
