//! A real `redis-server` on 127.0.0.1 for unit tests, killed when dropped. A
//! machine without redis-server fails these tests rather than skipping them.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server` child on a free port.
pub(crate) struct TestRedis {
    child: Child,
    port: u16,
}

impl TestRedis {
    /// Starts a server without persistence and waits until it accepts connections.
    pub(crate) fn start() -> Self {
        Self::start_with(&[])
    }

    /// [`TestRedis::start`] with extra `redis-server` arguments.
    pub(crate) fn start_with(extra: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no"])
            .args(extra)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for these tests (apt-get install redis-server)");
        let server = Self { child, port };
        let end = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < end, "redis-server did not listen on port {port} within 15s");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// `redis://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
