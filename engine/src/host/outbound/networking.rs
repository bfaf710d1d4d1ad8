//! The runtime config's outbound networking settings (Spin's), read once per
//! app: `[outbound_networking]` (the networks no connection may reach and the
//! cap on connections of every kind together), the `max_connections` of
//! `[outbound_http]`, `[outbound_redis]`, `[outbound_mqtt]`,
//! `[outbound_pg]` and `[outbound_mysql]`, `[outbound_http] connection_pooling`,
//! and `[[client_tls]]`.

use std::sync::Arc;

use anyhow::Context as _;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::connections::ConnectionKind;
use super::{AppConnectionCaps, BlockedNetworks, ClientOptions, ClientTls, HttpClients};
use crate::runtime_config::RuntimeConfig;

/// What the tables set; nothing blocked and no cap without them.
#[derive(Clone, Debug, Default)]
pub(crate) struct OutboundNetworking {
    /// `block_networks`.
    pub(crate) blocked: Arc<BlockedNetworks>,
    /// `max_total_connections` and each kind's `max_connections`.
    pub(crate) connections: AppConnectionCaps,
    /// `[[client_tls]]`.
    pub(crate) tls: Arc<ClientTls>,
    /// The outbound HTTP clients, which keep connections unless
    /// `connection_pooling = false`.
    pub(crate) http: HttpClients,
}

/// `[outbound_networking]` as written.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkingTable {
    #[serde(default)]
    block_networks: Vec<String>,
    /// The cap on `wasi:sockets` sockets held at once (see `counted_sockets.rs`).
    #[serde(default)]
    max_socket_connections: Option<usize>,
    #[serde(default)]
    max_total_connections: Option<usize>,
}

/// `[outbound_http]` as written.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpTable {
    /// Whether outbound HTTP connections are kept and reused (Spin's default: yes).
    #[serde(default)]
    connection_pooling: Option<bool>,
    #[serde(default)]
    max_connections: Option<usize>,
    /// Spin's deprecated name, where 0 allowed one request.
    #[serde(default)]
    max_concurrent_requests: Option<usize>,
}

/// `[outbound_redis]`, `[outbound_mqtt]`, `[outbound_pg]` and `[outbound_mysql]` as written.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientTable {
    #[serde(default)]
    max_connections: Option<usize>,
}

impl OutboundNetworking {
    /// The settings of `config`'s tables; plain HTTP requests to `h2c_authority`
    /// speak HTTP/2 with prior knowledge (the runner's setting).
    pub(crate) fn from_config(config: &RuntimeConfig, h2c_authority: Option<&str>) -> anyhow::Result<Self> {
        let networking: NetworkingTable = table(&config.outbound_networking, "outbound_networking")?;
        let http: HttpTable = table(&config.outbound_http, "outbound_http")?;
        let redis: ClientTable = table(&config.outbound_redis, "outbound_redis")?;
        let mqtt: ClientTable = table(&config.outbound_mqtt, "outbound_mqtt")?;
        let postgres: ClientTable = table(&config.outbound_pg, "outbound_pg")?;
        let mysql: ClientTable = table(&config.outbound_mysql, "outbound_mysql")?;
        let http_max = match (http.max_connections, http.max_concurrent_requests) {
            (Some(_), Some(_)) => anyhow::bail!(
                "[outbound_http]: set `max_connections` only (`max_concurrent_requests` is its deprecated name)"
            ),
            (Some(max), None) => Some(max),
            (None, Some(old)) => {
                tracing::warn!("[outbound_http] `max_concurrent_requests` is deprecated: use `max_connections` (where 0 allows none, not one)");
                Some(old + 1)
            }
            (None, None) => None,
        };
        let connections = AppConnectionCaps::new(networking.max_total_connections, |kind| match kind {
            ConnectionKind::Http => http_max,
            ConnectionKind::Redis => redis.max_connections,
            ConnectionKind::Mqtt => mqtt.max_connections,
            ConnectionKind::Postgres => postgres.max_connections,
            ConnectionKind::Mysql => mysql.max_connections,
            ConnectionKind::Socket => networking.max_socket_connections,
        });
        if let (Some(sockets), Some(total)) = (networking.max_socket_connections, networking.max_total_connections) {
            if sockets > total {
                tracing::warn!(
                    "[outbound_networking] max_socket_connections ({sockets}) is over max_total_connections ({total}): \
                     sockets are held to the total"
                );
            }
        }
        let blocked = Arc::new(BlockedNetworks::from_entries(&networking.block_networks)?);
        let options = ClientOptions {
            pooling: http.connection_pooling.unwrap_or(true),
            h2c_authority: h2c_authority.map(Arc::from),
        };
        let http = HttpClients::new(blocked.clone(), options);
        Ok(Self { blocked, connections, tls: Arc::new(ClientTls::from_config(config)?), http })
    }
}

/// The table `value` (named `name` in errors), or its defaults when absent.
fn table<T: DeserializeOwned + Default>(value: &Option<toml::Value>, name: &str) -> anyhow::Result<T> {
    match value {
        None => Ok(T::default()),
        Some(value) => T::deserialize(value.clone()).with_context(|| format!("[{name}]")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<OutboundNetworking> {
        OutboundNetworking::from_config(&RuntimeConfig::parse(text, std::path::Path::new("rc.toml")).unwrap(), None)
    }

    #[test]
    fn the_tables_set_blocked_networks_and_the_caps() {
        let none = parse("").unwrap();
        assert!(none.blocked.is_empty());
        let set = parse(
            "[outbound_networking]\nblock_networks = [\"private\"]\nmax_total_connections = 3\nmax_socket_connections = 2\n\
             [outbound_http]\nmax_connections = 5\nconnection_pooling = true\n\
             [outbound_redis]\nmax_connections = 6\n[outbound_mqtt]\nmax_connections = 7\n",
        )
        .unwrap();
        assert!(set.blocked.blocks("10.0.0.1".parse().unwrap()));
        let caps = format!("{:?}", set.connections);
        for max in ["max: 3", "max: 2", "max: 5", "max: 6", "max: 7"] {
            assert!(caps.contains(max), "{max}: {caps}");
        }
        let old = format!("{:?}", parse("[outbound_http]\nmax_concurrent_requests = 0\n").unwrap().connections);
        assert!(old.contains("max: 1"), "the deprecated name's 0 allows one: {old}");
    }

    #[test]
    fn mistakes_are_named() {
        for (text, expected) in [
            ("[outbound_networking]\nblock_network = []\n", "[outbound_networking]"),
            ("[outbound_http]\nmax_connections = 1\nmax_concurrent_requests = 1\n", "set `max_connections` only"),
            ("[outbound_redis]\nmax = 1\n", "[outbound_redis]"),
            ("[outbound_mqtt]\nmax_connections = \"1\"\n", "[outbound_mqtt]"),
        ] {
            let err = format!("{:#}", parse(text).unwrap_err());
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
