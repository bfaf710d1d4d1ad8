//! A real HTTP server on 127.0.0.1 for outbound-request tests.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;

/// Starts a server that answers every request with 200 and `body`; returns its port.
pub fn start(body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// A server that holds every request for a while before answering, and counts
/// how many it held at once.
pub struct Holding {
    /// Its port on 127.0.0.1.
    pub port: u16,
    most: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Holding {
    /// The most requests it has held at once so far.
    pub fn most_at_once(&self) -> usize {
        self.most.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Starts a server that answers every request with 200 `held` after `hold`,
/// one thread per connection.
pub fn start_holding(hold: std::time::Duration) -> Holding {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let counted = most.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let (now, most) = (now.clone(), most.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                std::thread::sleep(hold);
                now.fetch_sub(1, Ordering::SeqCst);
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 4\r\nconnection: close\r\n\r\nheld",
                );
            });
        }
    });
    Holding { port, most: counted }
}

/// A keep-alive server: it answers every request on a connection with 200 and
/// `body`, and counts the connections it accepts.
pub struct KeepAlive {
    /// Its port on 127.0.0.1.
    pub port: u16,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl KeepAlive {
    /// The connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Starts a [`KeepAlive`] server, one thread per connection.
pub fn start_keep_alive(body: &'static str) -> KeepAlive {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            counted.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = s.read(&mut buf) {
                    head.extend_from_slice(&buf[..n]);
                    // Requests without a body: each ends at its blank line.
                    while let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                        head.drain(..end + 4);
                        let reply = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len());
                        if s.write_all(reply.as_bytes()).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    KeepAlive { port, accepted }
}
