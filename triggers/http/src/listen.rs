//! The listen address (`SPIN_HTTP_LISTEN_ADDR`) and duration settings.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::time::Duration;

use anyhow::Context as _;
use spin_engine::limits::parse_duration;

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

/// Reads a duration variable from `env`: a number of seconds, or a number with
/// `ms`/`s`/`m`/`h` (checked: an absurd value is an error, not an overflow).
pub(crate) fn env_duration(env: &BTreeMap<String, String>, name: &str) -> anyhow::Result<Option<Duration>> {
    match env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        Some(v) => parse_duration(v)
            .filter(|d| !d.is_zero())
            .map(Some)
            .with_context(|| format!("{name}={v:?}: expected a duration such as 500ms, 30s or 2m")),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_from_the_env_map() {
        let env: BTreeMap<String, String> =
            [("A", "250ms"), ("B", "99999999999999999999m"), ("C", "0")].map(|(k, v)| (k.into(), v.into())).into();
        assert_eq!(env_duration(&env, "A").unwrap(), Some(Duration::from_millis(250)));
        assert!(env_duration(&env, "B").unwrap_err().to_string().contains("B="));
        assert!(env_duration(&env, "C").is_err());
        assert_eq!(env_duration(&env, "D").unwrap(), None);
    }

    #[test]
    fn listen_prefers_ipv4_and_rejects_garbage() {
        assert!(parse_listen_addr("localhost:3000").unwrap().is_ipv4());
        assert!(parse_listen_addr("nonsense").is_err());
    }
}
