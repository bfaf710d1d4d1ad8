//! What every outbound capability of an instance shares: the component's allowed
//! hosts (deny by default, denials reported the way Spin reports them), the
//! networks no connection may reach, and the caps on connections held at once
//! (`SPIN_MAX_OUTBOUND_CONNECTIONS` per instance, the runtime config's per app),
//! `wasi:sockets` sockets included.

mod blocked;
mod connections;
mod counted_sockets;
mod destination;
mod http;
mod http_client;
mod local;
mod networking;
mod pools;
mod sockets;
mod tls;

use std::sync::Arc;

pub(crate) use blocked::{BlockedNetworks, Refusal};
pub(crate) use connections::{AppConnectionCaps, ConnectionBudget, ConnectionKind, ConnectionPermit, ConnectionSlot};
pub(crate) use counted_sockets::{add_to_linker as add_counted_sockets_to_linker, SocketPlaces};
pub(crate) use destination::Destination;
pub(crate) use http::OutboundHttp;
pub(crate) use http_client::{ClientOptions, HttpClient, HttpClients};
pub use local::{LocalHttp, LocalRoutes, LocalTarget, SPIN_INTERNAL_SUFFIX};
pub(crate) use networking::OutboundNetworking;
pub(crate) use pools::PoolsByAddress;
pub(crate) use sockets::SocketRules;
pub(crate) use tls::{add_platform_roots, platform_roots, trusting, ClientTls, ComponentTls};
pub use tls::{certificates as pem_certificates, install_crypto_provider};

use crate::allowed_hosts::AllowedHosts;

/// One instance's outbound policy: where it may connect and how many connections
/// it may hold; cheap to clone (clones share the budget).
#[derive(Clone, Debug)]
pub(crate) struct OutboundGate {
    component_id: Arc<str>,
    allowed: Arc<AllowedHosts>,
    blocked: Arc<BlockedNetworks>,
    connections: ConnectionBudget,
}

impl OutboundGate {
    /// A gate for one instance of `component_id`, allowing exactly the
    /// `allowed_outbound_hosts` entries `allowed` and at most `max_connections`
    /// at once, with no app-wide settings.
    #[cfg(test)]
    pub(crate) fn new(component_id: &str, allowed: &[&str], max_connections: usize) -> Self {
        let entries: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        let allowed = AllowedHosts::parse(&entries, |t| Ok(t.to_string())).expect("valid allowed hosts");
        Self::within(component_id.into(), Arc::new(allowed), max_connections, &OutboundNetworking::default())
    }

    /// [`OutboundGate::new`] within the app's `[outbound_networking]` settings:
    /// destinations in its blocked networks are refused too, and connections
    /// count against its app-wide cap.
    pub(crate) fn within(
        component_id: Arc<str>,
        allowed: Arc<AllowedHosts>,
        max_connections: usize,
        networking: &OutboundNetworking,
    ) -> Self {
        Self {
            component_id,
            allowed,
            blocked: networking.blocked.clone(),
            connections: ConnectionBudget::new(max_connections, networking.connections.clone()),
        }
    }

    /// The networks no connection of the instance may reach.
    pub(crate) fn blocked_networks(&self) -> &Arc<BlockedNetworks> {
        &self.blocked
    }

    /// The component the instance runs.
    pub(crate) fn component_id(&self) -> &str {
        &self.component_id
    }

    /// Why [`OutboundGate::open_slot`] refused, for the guest.
    pub(crate) fn connection_refusal(&self) -> String {
        self.connections.refusal()
    }

    /// Whether `dest` is allowed; a denial is logged (see [`Destination::check`]).
    pub(crate) fn permits(&self, dest: &Destination) -> bool {
        dest.check(&self.allowed, &self.component_id)
    }

    /// A slot for one more connection of `kind`; `None`, with the refusal
    /// logged, when the instance holds its maximum. The slot waits for the
    /// app-wide caps when it is admitted.
    pub(crate) fn open_slot(&self, kind: ConnectionKind) -> Option<ConnectionSlot> {
        let slot = self.connections.try_open(kind);
        if slot.is_none() {
            tracing::warn!(
                "component `{}`: outbound {} refused: {}",
                self.component_id,
                kind.name(),
                self.connections.refusal()
            );
        }
        slot
    }
}

/// Declares a capability that needs nothing but the instance's [`OutboundGate`]
/// (no configuration, nothing per component): its name, the interfaces it
/// provides and the function that links them.
macro_rules! gate_only_capability {
    ($(#[$doc:meta])* $name:ident, $interfaces:expr, $add_to_linker:path) => {
        $(#[$doc])*
        pub(crate) struct $name;

        impl $crate::host::capability::Capability for $name {
            type App = ();
            type Component = ();
            type Instance = $crate::host::outbound::OutboundGate;

            const INTERFACES: &'static [&'static str] = $interfaces;

            fn app(_: &$crate::host::capability::AppInputs<'_>) -> anyhow::Result<()> {
                Ok(())
            }

            fn component(_: &(), _: &$crate::host::capability::ComponentInputs<'_>) -> anyhow::Result<()> {
                Ok(())
            }

            fn instance(
                _: &(),
                inputs: &$crate::host::capability::InstanceInputs<'_>,
            ) -> $crate::host::outbound::OutboundGate {
                inputs.outbound.clone()
            }

            fn add_to_linker<T: $crate::host::capability::HasCapability<Self>>(
                linker: &mut wasmtime::component::Linker<T>,
            ) -> anyhow::Result<()> {
                $add_to_linker(linker)
            }
        }
    };
}
pub(crate) use gate_only_capability;
