//! Connections to MySQL servers for guests.
//!
//! An open checks, in this order: the address is a `mysql://` URL, its host is
//! allowed by the component's `allowed_outbound_hosts` (`mysql://host:port`,
//! 3306 by default), and the instance has a free connection slot. A host in
//! the runtime config's blocked networks is refused when the pool is made.
//!
//! Connections come from one pool per address for the whole app. A connection
//! goes back to its pool when the guest drops it, and the server resets it
//! there (`COM_RESET_CONNECTION`: an open transaction is rolled back, session
//! variables, temporary tables and locks are dropped) before anyone else gets
//! it.
//!
//! TLS: `ssl-mode` (or `sslMode`) in the address's query, other than
//! `DISABLED`, asks for it (Spin reads that one parameter itself), with the
//! server's certificate checked for the address's host against webpki's roots
//! and the system's store (`SSL_CERT_FILE` / `SSL_CERT_DIR` point at another),
//! as for PostgreSQL and Redis.

use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable as _;
use mysql_async::{Conn, Opts, OptsBuilder, Params, Pool, PoolConstraints, PoolOpts, SslOpts, Value};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::bindings::spin::mysql::mysql::{Column, DbValue, Error};
use super::values::{column, row_values, value_size};
use crate::host::channel_stream::{gather, row_channel};
use crate::host::outbound::{
    platform_roots, BlockedNetworks, ConnectionKind, ConnectionPermit, ConnectionSlot, Destination, OutboundGate,
    PoolsByAddress,
};

/// How long making a connection, or waiting for a pooled one, may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections one pool holds at most.
const POOL_SIZE: usize = 64;
/// How long an idle pooled connection stays open. Without it the client keeps
/// none: every connection would close when its guest let go of it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The app's connection pools, by address.
#[derive(Default)]
pub(crate) struct Pools(PoolsByAddress<String, Pool>);

/// One open connection of a guest (the `connection` resource of both
/// versions); clones are handles on the same connection, which runs one
/// statement at a time.
#[allow(unreachable_pub)] // bindgen's `with` re-exports it
#[derive(Clone)]
pub struct MysqlConnection(Arc<Held>);

/// A pooled connection and its places under the connection caps.
struct Held {
    conn: Mutex<Conn>,
    _permit: ConnectionPermit,
}

/// An open the checks have let through, not yet connected.
pub(super) struct Opening {
    address: String,
    opts: Opts,
    slot: ConnectionSlot,
    blocked: Arc<BlockedNetworks>,
}

fn connection_failed(message: impl Into<String>) -> Error {
    Error::ConnectionFailed(message.into())
}

/// The checks of an open of `address` (see the module's doc).
pub(super) fn prepare(gate: &OutboundGate, address: &str) -> Result<Opening, Error> {
    let dest = Destination::parse(address)
        .filter(|d| d.scheme == "mysql")
        .ok_or_else(|| connection_failed(format!("{address:?} is not a mysql:// address")))?;
    if !gate.permits(&dest) {
        return Err(connection_failed(format!("address {dest} is not permitted")));
    }
    let opts = options(address)?;
    let slot = gate
        .open_slot(ConnectionKind::Mysql)
        .ok_or_else(|| connection_failed(gate.connection_refusal()))?;
    Ok(Opening { address: address.to_string(), opts, slot, blocked: gate.blocked_networks().clone() })
}

/// The client options of `address`: its `ssl-mode` parameter (which the
/// client would refuse) turned into TLS options, and the pool's bounds.
fn options(address: &str) -> Result<Opts, Error> {
    let mut url = url::Url::parse(address).map_err(|e| connection_failed(e.to_string()))?;
    let is_ssl_mode = |k: &str| k.eq_ignore_ascii_case("ssl-mode") || k.eq_ignore_ascii_case("sslmode");
    let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let tls = pairs.iter().any(|(k, v)| is_ssl_mode(k) && !v.eq_ignore_ascii_case("disabled"));
    let rest: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| !is_ssl_mode(k)).collect();
    url.set_query(None);
    if !rest.is_empty() {
        url.query_pairs_mut().extend_pairs(rest);
    }
    let opts = Opts::from_url(url.as_str()).map_err(|e| connection_failed(e.to_string()))?;
    let constraints = PoolConstraints::new(0, POOL_SIZE).expect("0 <= POOL_SIZE");
    let pool = PoolOpts::default()
        .with_constraints(constraints)
        .with_inactive_connection_ttl(IDLE_TIMEOUT)
        .with_reset_connection(true);
    Ok(OptsBuilder::from_opts(opts).ssl_opts(tls.then(SslOpts::default)).pool_opts(pool).into())
}

impl Opening {
    /// Takes a pooled connection (or makes one) once the app-wide caps have room.
    pub(super) async fn connect(self, pools: &Pools) -> Result<MysqlConnection, Error> {
        let permit = self.slot.admit().await.ok_or_else(|| connection_failed("too many connections"))?;
        let pool = match pools.0.get(&self.address) {
            Some(pool) => pool,
            None => {
                let pool = Pool::new(with_platform_roots(pinned(self.opts, &self.blocked).await?));
                pools.0.keep(self.address, pool)
            }
        };
        let conn = tokio::time::timeout(CONNECT_TIMEOUT, pool.get_conn())
            .await
            .map_err(|_| connection_failed(format!("no connection within {CONNECT_TIMEOUT:?}")))?
            .map_err(|e| connection_failed(e.to_string()))?;
        Ok(MysqlConnection(Arc::new(Held { conn: Mutex::new(conn), _permit: permit })))
    }
}

/// `opts`, whose TLS (if any) also trusts the system's store: read once per pool.
fn with_platform_roots(opts: Opts) -> Opts {
    let Some(tls) = opts.ssl_opts().cloned() else { return opts };
    let roots = platform_roots().into_iter().map(|der| der.to_vec().into()).collect();
    OptsBuilder::from_opts(opts).ssl_opts(tls.with_root_certs(roots)).into()
}

/// `opts` once its host is known to resolve outside `blocked`; without TLS
/// (which checks the name) the connection is pinned to the address checked.
async fn pinned(opts: Opts, blocked: &BlockedNetworks) -> Result<Opts, Error> {
    if blocked.is_empty() {
        return Ok(opts);
    }
    let addrs =
        blocked.vet(opts.ip_or_hostname(), opts.tcp_port()).await.map_err(|r| connection_failed(r.to_string()))?;
    if opts.ssl_opts().is_some() {
        return Ok(opts);
    }
    Ok(OptsBuilder::from_opts(opts).ip_or_hostname(addrs[0].ip().to_string()).into())
}

/// The columns of a streamed result, its rows, and its outcome once they are all sent.
pub(super) type RowStream = (Vec<Column>, mpsc::Receiver<Vec<DbValue>>, oneshot::Receiver<Result<(), Error>>);

fn query_failed(e: mysql_async::Error) -> Error {
    Error::QueryFailed(e.to_string())
}

impl MysqlConnection {
    /// Runs `statement`, which returns no rows.
    pub(super) async fn execute(&self, statement: String, params: Vec<Value>) -> Result<(), Error> {
        let mut conn = self.0.conn.lock().await;
        conn.exec_drop(statement, Params::Positional(params)).await.map_err(query_failed)
    }

    /// Runs `statement` and gathers its whole result.
    pub(super) async fn query_all(&self, statement: String, params: Vec<Value>) -> Result<(Vec<Column>, Vec<Vec<DbValue>>), Error> {
        let (columns, rows, outcome) = self.query(statement, params).await?;
        Ok((columns, gather(rows, outcome).await?))
    }

    /// Runs `statement`: its columns once the server has described them, its
    /// rows as they arrive (see [`row_channel`]), and its outcome. A result
    /// past the size cap ends the rows with an error; dropping the rows stops
    /// reading them.
    pub(super) async fn query(&self, statement: String, params: Vec<Value>) -> Result<RowStream, Error> {
        let (columns_tx, columns_rx) = oneshot::channel();
        let (mut sender, row_rx) = row_channel();
        let (done_tx, done_rx) = oneshot::channel();
        let held = self.0.clone();
        tokio::spawn(async move {
            let mut conn = held.conn.lock().await;
            let mut result = match conn.exec_iter(statement, Params::Positional(params)).await {
                Ok(result) => result,
                Err(e) => {
                    let _ = columns_tx.send(Err(query_failed(e)));
                    return;
                }
            };
            let columns: Vec<Column> = result.columns_ref().iter().map(column).collect();
            let _ = columns_tx.send(Ok(columns.clone()));
            let outcome = loop {
                let row = match result.next().await {
                    Ok(Some(row)) => row,
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(query_failed(e)),
                };
                let row = match row_values(row, &columns) {
                    Ok(row) => row,
                    Err(e) => break Err(e),
                };
                let bytes = row.iter().map(value_size).sum();
                match sender.send(row, bytes).await {
                    Ok(true) => {}
                    Ok(false) => break Ok(()),
                    Err(e) => break Err(Error::QueryFailed(e.to_string())),
                }
            };
            let _ = done_tx.send(outcome);
        });
        let columns = columns_rx.await.map_err(|_| Error::Other("the query ended before its columns".into()))??;
        Ok((columns, row_rx, done_rx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(allowed: &[&str]) -> OutboundGate {
        OutboundGate::new("c", allowed, 1)
    }

    fn refusal(gate: &OutboundGate, address: &str) -> String {
        match prepare(gate, address) {
            Err(Error::ConnectionFailed(m)) => m,
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("{address} was let through"),
        }
    }

    #[test]
    fn the_host_must_be_allowed_and_the_address_a_mysql_url() {
        let gate = gate(&["mysql://db.local:3306"]);
        assert!(prepare(&gate, "mysql://u:p@db.local/app").is_ok());
        assert_eq!(refusal(&gate, "mysql://u:p@other.local/app"), "address mysql://other.local:3306 is not permitted");
        assert!(refusal(&gate, "postgres://db.local/app").contains("is not a mysql:// address"));
    }

    #[test]
    fn ssl_mode_turns_into_tls_options_and_leaves_the_other_parameters() {
        let tls = |a: &str| options(a).unwrap().ssl_opts().is_some();
        assert!(!tls("mysql://u@h/db"));
        assert!(!tls("mysql://u@h/db?ssl-mode=DISABLED"));
        assert!(tls("mysql://u@h/db?sslMode=VERIFY_CA&prefer_socket=false"));
        assert!(!options("mysql://u@h/db?sslmode=required&prefer_socket=false").unwrap().prefer_socket());
    }
}
