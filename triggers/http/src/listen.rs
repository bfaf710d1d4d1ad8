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

/// Whether a taken port makes the listener try the next ones (`spin up
/// --find-free-port`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FreePortSearch {
    /// The setting does not exist here (a container): a taken port is an error.
    #[default]
    Unavailable,
    /// Off: a taken port is an error that names the flag.
    Off,
    /// On: up to ten successive ports are tried, as Spin tries them.
    On,
}

/// Ports tried from the requested one with [`FreePortSearch::On`] (Spin's count).
const PORTS_TRIED: u16 = 10;

/// Binds the listener, with Spin's messages when the port is taken.
pub(crate) fn bind(addr: &str, search: FreePortSearch) -> anyhow::Result<TcpListener> {
    let mut sock = parse_listen_addr(addr)?;
    let first = sock.port();
    let listener = loop {
        match TcpListener::bind(sock) {
            Ok(listener) => break listener,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => match search {
                FreePortSearch::On if sock.port() == u16::MAX => anyhow::bail!(
                    "Couldn't find a free port as we've reached the maximum port number. \
                     Consider retrying with a lower base port."
                ),
                FreePortSearch::On if sock.port() - first + 1 < PORTS_TRIED => sock.set_port(sock.port() + 1),
                FreePortSearch::On => anyhow::bail!(
                    "Couldn't find a free port in the range {first}-{}. Consider retrying with a different base port.",
                    first.saturating_add(PORTS_TRIED)
                ),
                FreePortSearch::Off => anyhow::bail!(
                    "{sock} is already in use. To have Spin search for a free port, use the --find-free-port option."
                ),
                FreePortSearch::Unavailable => anyhow::bail!("{sock} is already in use."),
            },
            Err(e) => anyhow::bail!("cannot listen on {sock}: {e}"),
        }
    };
    listener.set_nonblocking(true)?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_is_an_error_or_the_next_free_one() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        let error = bind(&addr, FreePortSearch::Off).unwrap_err().to_string();
        assert!(error.contains("is already in use") && error.contains("--find-free-port"), "{error}");
        let error = bind(&addr, FreePortSearch::Unavailable).unwrap_err().to_string();
        assert!(!error.contains("--find-free-port"), "{error}");
        let found = bind(&addr, FreePortSearch::On).unwrap().local_addr().unwrap();
        let port = taken.local_addr().unwrap().port();
        assert!(found.port() > port && found.port() < port + PORTS_TRIED, "{found}");
    }

    #[test]
    fn listen_prefers_ipv4_and_rejects_garbage() {
        assert!(parse_listen_addr("localhost:3000").unwrap().is_ipv4());
        assert!(parse_listen_addr("nonsense").is_err());
    }
}
