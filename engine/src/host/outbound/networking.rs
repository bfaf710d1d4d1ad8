//! The runtime config's `[outbound_networking]` table (Spin's), read once per
//! app: the networks no connection may reach and the app-wide cap on
//! connections held at once.

use std::sync::Arc;

use anyhow::Context as _;
use serde::Deserialize;

use super::{AppConnectionCap, BlockedNetworks};

/// What `[outbound_networking]` sets; nothing blocked and no cap without it.
#[derive(Clone, Debug, Default)]
pub(crate) struct OutboundNetworking {
    /// `block_networks`.
    pub(crate) blocked: Arc<BlockedNetworks>,
    /// `max_total_connections`.
    pub(crate) connections: AppConnectionCap,
}

/// The table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    #[serde(default)]
    block_networks: Vec<String>,
    /// Accepted, not served (see `RuntimeConfig::unserved_tables`): wasmtime's
    /// sockets give no hook to hold a place for as long as a socket is open.
    #[serde(default)]
    #[allow(dead_code)]
    max_socket_connections: Option<usize>,
    #[serde(default)]
    max_total_connections: Option<usize>,
}

impl OutboundNetworking {
    /// The settings of an `[outbound_networking]` table, if there is one.
    pub(crate) fn from_table(table: Option<&toml::Value>) -> anyhow::Result<Self> {
        let Some(table) = table else {
            return Ok(Self::default());
        };
        let table = Table::deserialize(table.clone()).context("[outbound_networking]")?;
        anyhow::ensure!(
            table.max_total_connections != Some(0),
            "[outbound_networking] max_total_connections: 0 would stop every outbound connection; leave it out for no cap"
        );
        Ok(Self {
            blocked: Arc::new(BlockedNetworks::from_entries(&table.block_networks)?),
            connections: AppConnectionCap::new(table.max_total_connections),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<OutboundNetworking> {
        OutboundNetworking::from_table(Some(&toml::from_str(text).unwrap()))
    }

    #[test]
    fn the_table_sets_blocked_networks_and_the_connection_cap() {
        let none = OutboundNetworking::from_table(None).unwrap();
        assert!(none.blocked.is_empty());
        let set =
            parse("block_networks = [\"private\"]\nmax_total_connections = 3\nmax_socket_connections = 2").unwrap();
        assert!(set.blocked.blocks("10.0.0.1".parse().unwrap()));
        assert!(format!("{:?}", set.connections).contains("permits: 3"), "{:?}", set.connections);
        assert!(parse("block_network = []").is_err(), "unknown keys are refused");
        let zero = format!("{:#}", parse("max_total_connections = 0").unwrap_err());
        assert!(zero.contains("max_total_connections: 0"), "{zero}");
    }
}
