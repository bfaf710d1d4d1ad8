//! The listen address (`SPIN_HTTP_LISTEN_ADDR`) and duration settings.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::time::Duration;

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

/// Reads a duration variable: a number of seconds, or a number with `ms`/`s`/`m`.
pub(crate) fn env_duration(name: &str) -> anyhow::Result<Option<Duration>> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => parse_duration(v.trim())
            .map(Some)
            .with_context(|| format!("{name}={v:?}: expected a duration such as 500ms, 30s or 2m")),
        _ => Ok(None),
    }
}

fn parse_duration(v: &str) -> anyhow::Result<Duration> {
    let (num, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len()));
    let n: u64 = num.parse()?;
    Ok(match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n * 60),
        other => anyhow::bail!("unknown unit {other:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("2h").is_err());
    }

    #[test]
    fn listen_prefers_ipv4_and_rejects_garbage() {
        assert!(parse_listen_addr("localhost:3000").unwrap().is_ipv4());
        assert!(parse_listen_addr("nonsense").is_err());
    }
}
