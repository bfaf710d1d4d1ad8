//! The listen address (`SPIN_HTTP_LISTEN_ADDR`).

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use anyhow::Context as _;

/// Default listen address of `spin-shim up`, as `spin up`.
pub const CLI_DEFAULT_LISTEN: &str = "127.0.0.1:3000";
/// Default listen address inside a container, as the existing shim.
pub const SHIM_DEFAULT_LISTEN: &str = "0.0.0.0:80";

/// Resolves `addr` (`host:port`, names allowed), preferring IPv4.
pub fn parse_listen_addr(addr: &str) -> anyhow::Result<SocketAddr> {
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .with_context(|| format!("invalid listen address {addr:?} (expected host:port)"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .with_context(|| format!("listen address {addr:?} resolved to nothing"))
}

/// Binds the listener, with Spin's message when the port is taken.
pub(crate) fn bind(addr: &str) -> anyhow::Result<TcpListener> {
    let sock = parse_listen_addr(addr)?;
    let listener = TcpListener::bind(sock).map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => anyhow::anyhow!("{sock} is already in use."),
        _ => anyhow::anyhow!("cannot listen on {sock}: {e}"),
    })?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_prefers_ipv4_and_rejects_garbage() {
        assert!(parse_listen_addr("localhost:3000").unwrap().is_ipv4());
        assert!(parse_listen_addr("nonsense").is_err());
    }
}
