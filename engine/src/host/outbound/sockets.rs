//! `wasi:sockets` (0.2 and 0.3) under `allowed_outbound_hosts`, as Spin: a TCP
//! connection needs a `tcp://<ip>:<port>` rule (or one with scheme `*`), a UDP
//! peer (sent to or received from) a `udp://` one. A component with no such rule has no sockets at
//! all (TCP, UDP and name lookup off).
//!
//! What is never allowed: listening and accepting (a guest serves through its
//! trigger, not a socket), and binding a TCP socket to an address of its own.
//! The one bind that passes is the implicit one wasmtime checks before a
//! connection or a datagram (the unspecified address, port 0), which only lets
//! the system pick the ephemeral port; a UDP bind to any other address is
//! checked against `udp://` rules as Spin checks it. Addresses in the runtime
//! config's blocked networks are refused after the rules, as Spin refuses them.

use std::net::SocketAddr;
use std::sync::Arc;

use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::WasiCtxBuilder;

use super::BlockedNetworks;
use crate::allowed_hosts::AllowedHosts;

/// The socket rules of one component, applied to every instance's WASI context.
#[derive(Clone, Debug)]
pub(crate) struct SocketRules {
    allowed: Arc<AllowedHosts>,
    blocked: Arc<BlockedNetworks>,
}

impl SocketRules {
    /// The rules of `allowed` under `blocked`, or `None` when `allowed` names no
    /// TCP or UDP destination.
    pub(crate) fn of(allowed: &Arc<AllowedHosts>, blocked: &Arc<BlockedNetworks>) -> Option<Self> {
        let open = allowed.names_scheme("tcp") || allowed.names_scheme("udp");
        open.then(|| Self { allowed: allowed.clone(), blocked: blocked.clone() })
    }

    /// Opens sockets on `builder` as far as these rules allow.
    pub(crate) fn apply(&self, builder: &mut WasiCtxBuilder) {
        let rules = self.clone();
        builder.allow_tcp(true).allow_udp(true).allow_ip_name_lookup(true).socket_addr_check(move |addr, use_| {
            let permitted = permits(&rules.allowed, addr, use_) && !rules.blocks(addr, use_);
            Box::pin(async move { permitted })
        });
    }
}

impl SocketRules {
    /// Whether `addr` is in a blocked network (the implicit bind is not a destination).
    fn blocks(&self, addr: SocketAddr, use_: SocketAddrUse) -> bool {
        let implicit_bind =
            matches!(use_, SocketAddrUse::TcpBind | SocketAddrUse::UdpBind) && addr.ip().is_unspecified();
        !implicit_bind && self.blocked.blocks(addr.ip())
    }
}

/// Whether `allowed` lets a socket use `addr` for `use_`.
fn permits(allowed: &AllowedHosts, addr: SocketAddr, use_: SocketAddrUse) -> bool {
    let implicit_bind = addr.ip().is_unspecified() && addr.port() == 0;
    let scheme = match use_ {
        SocketAddrUse::TcpBind => return implicit_bind,
        SocketAddrUse::TcpListen | SocketAddrUse::TcpAccept => return false,
        SocketAddrUse::UdpBind if implicit_bind => return true,
        SocketAddrUse::TcpConnect => "tcp",
        SocketAddrUse::UdpBind | SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => "udp",
    };
    allowed.allows(scheme, &addr.ip().to_string(), addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(entries: &[&str]) -> Arc<AllowedHosts> {
        let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        Arc::new(AllowedHosts::parse(&entries, |e| Ok(e.to_owned())).unwrap())
    }

    #[test]
    fn sockets_follow_tcp_and_udp_rules() {
        let allowed = rules(&["tcp://127.0.0.1:5000", "udp://10.0.0.0/8:53", "https://example.com"]);
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(permits(&allowed, addr("127.0.0.1:5000"), SocketAddrUse::TcpConnect));
        assert!(!permits(&allowed, addr("127.0.0.1:5001"), SocketAddrUse::TcpConnect));
        assert!(!permits(&allowed, addr("127.0.0.2:5000"), SocketAddrUse::TcpConnect));
        assert!(permits(&allowed, addr("10.1.2.3:53"), SocketAddrUse::UdpSend));
        assert!(!permits(&allowed, addr("10.1.2.3:53"), SocketAddrUse::TcpConnect));
        // The implicit bind before a connection; never a bind of its own, a listen or an accept.
        assert!(permits(&allowed, addr("0.0.0.0:0"), SocketAddrUse::TcpBind));
        assert!(permits(&allowed, addr("[::]:0"), SocketAddrUse::UdpBind));
        assert!(!permits(&allowed, addr("127.0.0.1:5000"), SocketAddrUse::TcpBind));
        assert!(!permits(&allowed, addr("0.0.0.0:8080"), SocketAddrUse::TcpBind));
        assert!(!permits(&allowed, addr("0.0.0.0:0"), SocketAddrUse::TcpListen));
        assert!(!permits(&allowed, addr("127.0.0.1:5000"), SocketAddrUse::TcpAccept));
        // `*://` rules cover sockets too; HTTP-only rules open none.
        let none = Arc::default();
        assert!(SocketRules::of(&rules(&["*://db.local:*"]), &none).is_some());
        assert!(SocketRules::of(&rules(&["https://example.com", "redis://cache:6379"]), &none).is_none());
        assert!(SocketRules::of(&AllowedHosts::deny_all().into(), &none).is_none());
    }
}
