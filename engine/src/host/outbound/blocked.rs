//! The runtime config's `[outbound_networking] block_networks` (Spin's):
//! networks no outbound connection may reach, whatever `allowed_outbound_hosts`
//! allows. Entries are CIDRs or single addresses, and `"private"` blocks every
//! address that is not globally reachable (loopback, private ranges, link-local
//! with its cloud metadata address, shared and reserved space). An IPv6 address
//! that carries an IPv4 one is checked as that IPv4 address too.
//!
//! A destination is refused when any address its name resolves to is blocked.
//! Where the protocol has no TLS to bind the connection to the name (plain
//! HTTP, plain Redis), the connection then goes to the address that was checked,
//! so a second resolution cannot swap in a blocked one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use anyhow::Context as _;
use ipnet::IpNet;

/// The networks outbound connections may not reach; empty by default.
#[derive(Clone, Debug, Default)]
pub(crate) struct BlockedNetworks {
    networks: Vec<IpNet>,
    private: bool,
}

impl BlockedNetworks {
    /// The networks `entries` name (the `block_networks` list): CIDRs, single
    /// addresses and `"private"`.
    pub(crate) fn from_entries(entries: &[String]) -> anyhow::Result<Self> {
        let mut blocked = Self::default();
        for entry in entries {
            if entry == "private" {
                blocked.private = true;
                continue;
            }
            let network =
                entry.parse::<IpNet>().or_else(|_| entry.parse::<IpAddr>().map(IpNet::from)).with_context(|| {
                    format!(
                        "[outbound_networking] block_networks: `{entry}` is not a CIDR, an IP address or \"private\""
                    )
                })?;
            blocked.networks.push(network.trunc());
        }
        Ok(blocked)
    }

    /// Whether nothing is blocked (then no check runs at all).
    pub(crate) fn is_empty(&self) -> bool {
        !self.private && self.networks.is_empty()
    }

    /// Whether `ip` is blocked.
    pub(crate) fn blocks(&self, ip: IpAddr) -> bool {
        if (self.private && !is_global(ip)) || self.networks.iter().any(|n| n.contains(&ip)) {
            return true;
        }
        match ip {
            IpAddr::V6(v6) => v6.to_ipv4().is_some_and(|v4| self.blocks(IpAddr::V4(v4))),
            IpAddr::V4(_) => false,
        }
    }

    /// The addresses `host:port` resolves to, refused (with the blocked one in
    /// the error) when any of them is blocked.
    pub(crate) async fn vet(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Refusal> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| Refusal::Unresolved(format!("{host}: {e}")))?
            .collect();
        if addrs.is_empty() {
            return Err(Refusal::Unresolved(format!("{host} has no address")));
        }
        if let Some(addr) = addrs.iter().find(|a| self.blocks(a.ip())) {
            tracing::error!("outbound connection to {host}:{port} refused: {addr} is in a blocked network");
            return Err(Refusal::Blocked(*addr));
        }
        Ok(addrs)
    }
}

/// Why [`BlockedNetworks::vet`] refused a destination.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The name does not resolve.
    Unresolved(String),
    /// It resolves to this blocked address.
    Blocked(SocketAddr),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unresolved(why) => write!(f, "cannot resolve {why}"),
            Self::Blocked(addr) => write!(f, "destination {addr} is in a blocked network"),
        }
    }
}

/// Whether `ip` is globally reachable (IANA's special-purpose registries).
fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => is_global_v6(v6),
    }
}

fn is_global_v4(ip: Ipv4Addr) -> bool {
    const NOT_GLOBAL: &[(u32, u8)] = &[
        (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
        (0x0a00_0000, 8),  // 10.0.0.0/8
        (0x6440_0000, 10), // 100.64.0.0/10 shared address space
        (0x7f00_0000, 8),  // 127.0.0.0/8 loopback
        (0xa9fe_0000, 16), // 169.254.0.0/16 link-local (cloud metadata)
        (0xac10_0000, 12), // 172.16.0.0/12
        (0xc000_0000, 24), // 192.0.0.0/24 protocol assignments
        (0xc000_0200, 24), // 192.0.2.0/24 documentation
        (0xc0a8_0000, 16), // 192.168.0.0/16
        (0xc612_0000, 15), // 198.18.0.0/15 benchmarking
        (0xc633_6400, 24), // 198.51.100.0/24 documentation
        (0xcb00_7100, 24), // 203.0.113.0/24 documentation
        (0xf000_0000, 4),  // 240.0.0.0/4 reserved, and broadcast
    ];
    let bits = u32::from(ip);
    !NOT_GLOBAL.iter().any(|&(net, len)| bits >> (32 - len) == net >> (32 - len))
}

fn is_global_v6(ip: Ipv6Addr) -> bool {
    const NOT_GLOBAL: &[(u128, u8)] = &[
        (0, 127),                     // :: and ::1
        (0x0064_ff9b_0001 << 80, 48), // 64:ff9b:1::/48 local translation
        (0x0100 << 112, 64),          // 100::/64 discard
        (0x2001_0db8 << 96, 32),      // 2001:db8::/32 documentation
        (0xfc00 << 112, 7),           // fc00::/7 unique local
        (0xfe80 << 112, 10),          // fe80::/10 link-local
        (0xff00 << 112, 8),           // ff00::/8 multicast
    ];
    let bits = u128::from(ip);
    !NOT_GLOBAL.iter().any(|&(net, len)| bits >> (128 - len) == net >> (128 - len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(entries: &str) -> anyhow::Result<BlockedNetworks> {
        BlockedNetworks::from_entries(&serde_json::from_str::<Vec<String>>(entries).unwrap())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_blocks_what_is_not_globally_reachable() {
        let b = blocked(r#"["private"]"#).unwrap();
        for private in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "172.20.0.1",
            "192.168.1.1",
            "::1",
            "::ffff:10.1.2.3",
            "fc00::1",
            "fe80::1",
        ] {
            assert!(b.blocks(ip(private)), "{private}");
        }
        for public in ["1.1.1.1", "8.8.8.8", "172.32.0.1", "2600::1", "::ffff:8.8.8.8"] {
            assert!(!b.blocks(ip(public)), "{public}");
        }
    }

    #[test]
    fn listed_networks_are_blocked_and_nothing_else() {
        let b = blocked(r#"["123.123.0.0/16", "2001:4860::/32", "9.9.9.9"]"#).unwrap();
        assert!(b.blocks(ip("123.123.4.5")) && b.blocks(ip("::ffff:123.123.4.5")) && b.blocks(ip("9.9.9.9")));
        assert!(b.blocks(ip("2001:4860::8888")));
        assert!(!b.blocks(ip("123.124.0.1")) && !b.blocks(ip("127.0.0.1")));
        assert!(blocked("[]").unwrap().is_empty());
        let err = format!("{:#}", blocked(r#"["nope"]"#).unwrap_err());
        assert!(err.contains("`nope` is not a CIDR, an IP address or \"private\""), "{err}");
    }

    #[tokio::test]
    async fn a_destination_is_refused_when_it_resolves_into_a_blocked_network() {
        let b = blocked(r#"["127.0.0.0/8"]"#).unwrap();
        assert!(matches!(b.vet("localhost", 80).await, Err(Refusal::Blocked(_))));
        assert!(matches!(b.vet("127.0.0.1", 80).await, Err(Refusal::Blocked(_))));
        let open = blocked(r#"["10.0.0.0/8"]"#).unwrap();
        assert_eq!(open.vet("127.0.0.1", 80).await.unwrap(), ["127.0.0.1:80".parse().unwrap()]);
    }
}
