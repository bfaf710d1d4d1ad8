//! Connections to PostgreSQL servers for guests.
//!
//! An open checks, in this order: the address parses (URL or `key=value`
//! form), every host it names is a TCP host the component's
//! `allowed_outbound_hosts` allows (`postgres://host:port`, 5432 by default),
//! and the instance has a free connection slot. Hosts in the runtime config's
//! blocked networks are refused when the connection is made.
//!
//! Connections come from one pool per address (and trusted root) for the whole
//! app, so a fresh instance per request does not pay a connect and an
//! authentication each time. A connection goes back to its pool when the guest
//! drops it; before anyone else gets it, a transaction it left open is rolled
//! back and its session state (settings, temporary tables, cursors, listens,
//! advisory locks) is reset.
//!
//! TLS follows the address's `sslmode` as libpq does: `disable` never, `prefer`
//! (the default) when the server offers it, `require` always. The server's
//! certificate is checked against the system's roots, plus the root a guest set
//! with `connection-builder.set-ca-root`.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures::StreamExt as _;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::CertificateDer;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::NoTls;

use super::bindings::spin::postgres4_2_0::postgres::{
    Column, DbError, DbValue, Error, ParameterValue, QueryError, RowSet,
};
use super::values::{data_type, parameter, row_values, value_size, SqlParam};
use crate::host::channel_stream::{gather, row_channel, RowSender};
use crate::host::outbound::{
    add_platform_roots, trusting, BlockedNetworks, ConnectionKind, ConnectionPermit, ConnectionSlot, Destination,
    OutboundGate, PoolsByAddress,
};

/// How long making a connection, or waiting for a pooled one, may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections one pool holds at most (Spin's figure).
const POOL_SIZE: usize = 64;
/// What a pooled connection runs before it is handed out again: the guest
/// before may have left a transaction open, and its session state.
const RESET_SQL: &str = "ROLLBACK; CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; \
     SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES;";

/// The app's connection pools, by address and trusted root.
#[derive(Default)]
pub(crate) struct Pools(PoolsByAddress<PoolKey, Pool>);

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct PoolKey {
    address: String,
    ca_root: Option<String>,
}

/// One open connection of a guest (the `connection` resource of every
/// version); clones are handles on the same connection.
#[allow(unreachable_pub)] // bindgen's `with` re-exports it
#[derive(Clone)]
pub struct PgConnection(Arc<Held>);

/// A pooled connection and its places under the connection caps.
struct Held {
    client: deadpool_postgres::Object,
    _permit: ConnectionPermit,
}

/// An open the checks have let through, not yet connected.
pub(super) struct Opening {
    config: tokio_postgres::Config,
    key: PoolKey,
    slot: ConnectionSlot,
    blocked: Arc<BlockedNetworks>,
}

fn connection_failed(message: impl Into<String>) -> Error {
    Error::ConnectionFailed(message.into())
}

/// The checks of an open of `address` (see the module's doc), trusting
/// `ca_root` (PEM) beside the system's roots.
pub(super) fn prepare(gate: &OutboundGate, address: &str, ca_root: Option<String>) -> Result<Opening, Error> {
    let config: tokio_postgres::Config = address.parse().map_err(|e| connection_failed(format!("{e}")))?;
    for (host, port) in tcp_hosts(&config)? {
        let dest = Destination { scheme: "postgres".into(), host: host.trim_matches(['[', ']']).into(), port };
        if !gate.permits(&dest) {
            return Err(connection_failed(format!("address {dest} is not permitted")));
        }
    }
    let slot = gate
        .open_slot(ConnectionKind::Postgres)
        .ok_or_else(|| connection_failed(gate.connection_refusal()))?;
    let key = PoolKey { address: address.to_string(), ca_root };
    Ok(Opening { config, key, slot, blocked: gate.blocked_networks().clone() })
}

/// The hosts `config` names, each with its port: the port at the same place,
/// the only port given for all of them, or 5432. Unix socket hosts and an
/// address without a host are refused.
fn tcp_hosts(config: &tokio_postgres::Config) -> Result<Vec<(String, u16)>, Error> {
    let ports = config.get_ports();
    if config.get_hosts().is_empty() {
        return Err(connection_failed("the address names no host"));
    }
    let port_of = |i: usize| ports.get(i).or(if ports.len() == 1 { ports.first() } else { None }).copied().unwrap_or(5432);
    config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| match host {
            Host::Tcp(name) => Ok((name.clone(), port_of(i))),
            _ => Err(connection_failed("Unix socket addresses are not supported: connect over TCP")),
        })
        .collect()
}

impl Opening {
    /// Connects (or takes a pooled connection) once the app-wide caps have room.
    pub(super) async fn connect(self, pools: &Pools) -> Result<PgConnection, Error> {
        let permit = self.slot.admit().await.ok_or_else(|| connection_failed("too many connections"))?;
        let pool = pools.pool(self.key, self.config, &self.blocked).await?;
        let client = pool.get().await.map_err(|e| connection_failed(describe(&e)))?;
        Ok(PgConnection(Arc::new(Held { client, _permit: permit })))
    }
}

impl Pools {
    /// The pool of `key`, made from `config` if the app has none yet.
    async fn pool(&self, key: PoolKey, config: tokio_postgres::Config, blocked: &BlockedNetworks) -> Result<Pool, Error> {
        if let Some(pool) = self.0.get(&key) {
            return Ok(pool);
        }
        let pool = new_pool(config, key.ca_root.as_deref(), blocked).await?;
        Ok(self.0.keep(key, pool))
    }
}

/// A pool for `config`: with blocked networks, each host is resolved now,
/// refused if it lands in one, and pinned to the addresses checked.
async fn new_pool(mut config: tokio_postgres::Config, ca_root: Option<&str>, blocked: &BlockedNetworks) -> Result<Pool, Error> {
    if !blocked.is_empty() {
        for (host, port) in tcp_hosts(&config)? {
            let addrs = blocked.vet(&host, port).await.map_err(|r| connection_failed(r.to_string()))?;
            config.hostaddr(addrs[0].ip());
        }
    }
    let manager_config = ManagerConfig { recycling_method: RecyclingMethod::Custom(RESET_SQL.into()) };
    let manager = match config.get_ssl_mode() {
        SslMode::Disable => Manager::from_config(config, NoTls, manager_config),
        _ => Manager::from_config(config, tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(ca_root)?), manager_config),
    };
    Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(CONNECT_TIMEOUT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .map_err(|e| connection_failed(e.to_string()))
}

/// TLS trusting the system's roots and `ca_root`.
fn tls_config(ca_root: Option<&str>) -> Result<ClientConfig, Error> {
    let mut roots = RootCertStore::empty();
    add_platform_roots(&mut roots);
    if let Some(pem) = ca_root {
        for cert in parse_roots(pem)? {
            roots.add(cert).map_err(|e| Error::Other(format!("invalid root certificate: {e}")))?;
        }
    }
    Ok(trusting(roots).map_err(|e| connection_failed(format!("{e:#}")))?.with_no_client_auth())
}

/// The certificates of a PEM text; none is an error.
pub(super) fn parse_roots(pem: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Other(format!("invalid root certificate: {e}")))?;
    if certs.is_empty() {
        return Err(Error::Other("invalid root certificate: no certificate in the PEM text".into()));
    }
    Ok(certs)
}

/// `e` and each error under it that adds something: `a: b: c`.
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut under = e.source();
    while let Some(cause) = under {
        let more = cause.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        under = cause.source();
    }
    text
}

/// A failed statement as the interface reports it: the server's error with its
/// fields, or the client's description.
fn query_failed(e: tokio_postgres::Error) -> Error {
    let text = describe(&e);
    let Some(db) = e.as_db_error() else {
        return Error::QueryFailed(QueryError::Text(text));
    };
    let mut extras = Vec::new();
    let fields = [
        ("column", db.column()),
        ("constraint", db.constraint()),
        ("routine", db.routine()),
        ("hint", db.hint()),
        ("table", db.table()),
        ("datatype", db.datatype()),
        ("schema", db.schema()),
        ("file", db.file()),
        ("where_", db.where_()),
    ];
    extras.extend(fields.into_iter().filter_map(|(k, v)| Some((k.to_string(), v?.to_string()))));
    if let Some(line) = db.line() {
        extras.push(("line".into(), line.to_string()));
    }
    Error::QueryFailed(QueryError::DbError(DbError {
        as_text: text,
        severity: db.severity().to_string(),
        code: db.code().code().to_string(),
        message: db.message().to_string(),
        detail: db.detail().map(str::to_string),
        extras,
    }))
}

/// The columns of a streamed result, its rows, and its outcome once they are all sent.
pub(super) type RowStream = (Vec<Column>, mpsc::Receiver<Vec<DbValue>>, oneshot::Receiver<Result<(), Error>>);

impl PgConnection {
    /// Prepares `statement` and binds `params` to it.
    async fn bind(
        &self,
        statement: &str,
        params: Vec<ParameterValue>,
    ) -> Result<(tokio_postgres::Statement, Vec<SqlParam>), Error> {
        let params = params.into_iter().map(parameter).collect::<Result<Vec<_>, _>>().map_err(Error::BadParameter)?;
        let prepared = self.0.client.prepare(statement).await.map_err(query_failed)?;
        Ok((prepared, params))
    }

    /// Runs `statement`; the number of rows it changed.
    pub(super) async fn execute(&self, statement: &str, params: Vec<ParameterValue>) -> Result<u64, Error> {
        let (prepared, params) = self.bind(statement, params).await?;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params.iter().map(|p| &**p as _).collect();
        self.0.client.execute(&prepared, &refs).await.map_err(query_failed)
    }

    /// Runs `statement` and gathers its whole result.
    pub(super) async fn query(&self, statement: &str, params: Vec<ParameterValue>) -> Result<RowSet, Error> {
        let (columns, rows, outcome) = self.query_stream(statement, params).await?;
        Ok(RowSet { columns, rows: gather(rows, outcome).await? })
    }

    /// Runs `statement`: its columns at once, its rows as they arrive (see
    /// [`row_channel`]), and its outcome. A result past the size cap or a
    /// value that cannot be converted ends the rows with an error; dropping
    /// the rows stops reading them.
    pub(super) async fn query_stream(&self, statement: &str, params: Vec<ParameterValue>) -> Result<RowStream, Error> {
        let (prepared, params) = self.bind(statement, params).await?;
        let columns = prepared
            .columns()
            .iter()
            .map(|c| Column { name: c.name().to_string(), data_type: data_type(c.type_()) })
            .collect();
        let results = self.0.client.query_raw(&prepared, params).await.map_err(query_failed)?;
        let (sender, row_rx) = row_channel();
        let (done_tx, done_rx) = oneshot::channel();
        tokio::spawn(async move {
            let _ = done_tx.send(forward(results, sender).await);
        });
        Ok((columns, row_rx, done_rx))
    }
}

/// Sends each row of `results` to `rows` until the end, an error, the size cap,
/// or the reader going away.
async fn forward(results: tokio_postgres::RowStream, mut rows: RowSender<Vec<DbValue>>) -> Result<(), Error> {
    let mut results = std::pin::pin!(results);
    while let Some(row) = results.next().await {
        let row = row_values(&row.map_err(query_failed)?)
            .map_err(|e| Error::ValueConversionFailed(e.to_string()))?;
        let bytes = row.iter().map(value_size).sum();
        let sent = rows.send(row, bytes).await;
        if !sent.map_err(|e| Error::QueryFailed(QueryError::Text(e.to_string())))? {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(allowed: &[&str]) -> OutboundGate {
        OutboundGate::new("c", allowed, 1)
    }

    fn refusal(gate: &OutboundGate, address: &str) -> String {
        match prepare(gate, address, None) {
            Err(Error::ConnectionFailed(m)) => m,
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("{address} was let through"),
        }
    }

    #[test]
    fn every_host_of_either_address_form_must_be_allowed() {
        let gate = gate(&["postgres://db.local:5432", "postgres://10.0.0.9:6000"]);
        assert!(prepare(&gate, "postgres://user:pw@db.local/app", None).is_ok());
        assert_eq!(refusal(&gate, "host=db.local,other.local user=u"), "address postgres://other.local:5432 is not permitted");
        assert_eq!(refusal(&gate, "postgresql://10.0.0.9/app"), "address postgres://10.0.0.9:5432 is not permitted");
        assert!(refusal(&gate, "host=/run/postgresql").contains("Unix socket"));
        assert!(refusal(&gate, "postgres://db.local:notaport/").contains("invalid"), "{}", refusal(&gate, "postgres://db.local:notaport/"));
    }

    #[test]
    fn an_instance_holds_no_more_connections_than_its_budget() {
        let gate = gate(&["postgres://*:*"]);
        let held = prepare(&gate, "postgres://a/app", None).ok();
        assert!(held.is_some());
        assert!(refusal(&gate, "postgres://b/app").contains("too many outbound connections"));
    }

    #[test]
    fn a_root_that_is_not_pem_is_refused() {
        assert!(matches!(parse_roots("not a certificate"), Err(Error::Other(m)) if m.contains("no certificate")));
    }
}
