//! Outbound PostgreSQL for guests: `spin:postgres/postgres@4.2.0` (which also
//! serves 4.0 and 4.1 imports; sync and async functions, rows streamed),
//! `@3.0.0` and Spin 2's `fermyon:spin/postgres@2.0.0`, over app-wide
//! connection pools (`client.rs`). Opens are gated by the component's
//! `allowed_outbound_hosts` and count against the instance's outbound
//! connection budget and the runtime config's `[outbound_pg] max_connections`.
//! The older versions are 4.x with narrower types (`v3.rs`, `v2.rs`).

// Results carry the interface's own `error`, as large as a server error's
// fields make it; it goes to the guest as it is, so it is not boxed.
#[allow(clippy::result_large_err)]
mod client;
mod v2;
mod v3;
#[allow(clippy::result_large_err)]
mod v4;
mod values;

use std::sync::Arc;

use wasmtime::component::{Linker, Resource};

use super::capability::{AppInputs, Capability, CapabilityView, ComponentInputs, HasCapability, InstanceInputs, ViewOf};
use super::outbound::OutboundGate;
#[allow(unreachable_pub)] // bindgen's `with` re-exports it
pub use client::PgConnection;
use client::Pools;

/// The outbound PostgreSQL capability.
pub(crate) struct OutboundPostgres;

/// One instance's side: its outbound gate and the app's pools.
pub(crate) struct PgInstance {
    gate: OutboundGate,
    pools: Arc<Pools>,
}

impl Capability for OutboundPostgres {
    type App = Arc<Pools>;
    type Component = Arc<Pools>;
    type Instance = PgInstance;

    const INTERFACES: &'static [&'static str] = &[
        "spin:postgres/postgres@4.2.0",
        "spin:postgres/postgres@4.1.0",
        "spin:postgres/postgres@4.0.0",
        "spin:postgres/postgres@3.0.0",
        "fermyon:spin/postgres@2.0.0",
        "fermyon:spin/rdbms-types@2.0.0",
    ];

    fn app(_: &AppInputs<'_>) -> anyhow::Result<Arc<Pools>> {
        Ok(Arc::default())
    }

    fn component(app: &Arc<Pools>, _: &ComponentInputs<'_>) -> anyhow::Result<Arc<Pools>> {
        Ok(app.clone())
    }

    fn instance(pools: &Arc<Pools>, inputs: &InstanceInputs<'_>) -> PgInstance {
        PgInstance { gate: inputs.outbound.clone(), pools: pools.clone() }
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
        type Data = ViewOf<OutboundPostgres>;
        bindings::spin::postgres4_2_0::postgres::add_to_linker::<T, Data>(linker, T::capability)?;
        bindings::spin::postgres3_0_0::postgres::add_to_linker::<T, Data>(linker, T::capability)?;
        v2::add_to_linker(linker)
    }
}

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v3",
        world: "css:host-v3/postgres",
        imports: { default: async | trappable },
        with: {
            "spin:postgres/postgres@3.0.0.connection": crate::host::postgres::PgConnection,
            "spin:postgres/postgres@4.2.0.connection": crate::host::postgres::PgConnection,
            "spin:postgres/postgres@4.2.0.connection-builder": crate::host::postgres::Builder,
        },
    });
}

use bindings::spin::postgres4_2_0::postgres::Error;

/// A `connection-builder`: the address and the root certificate to trust.
#[allow(unreachable_pub)] // bindgen's `with` re-exports it
pub struct Builder {
    address: String,
    ca_root: Option<String>,
}

/// The instance's view of the capability.
type View<'a> = CapabilityView<'a, OutboundPostgres>;

impl PgInstance {
    /// Opens `address` for the guest, trusting `ca_root` too.
    async fn open(&self, address: &str, ca_root: Option<String>) -> Result<PgConnection, Error> {
        client::prepare(&self.gate, address, ca_root)?.connect(&self.pools).await
    }
}

impl View<'_> {
    /// Opens `address` into the instance's table.
    async fn open_into_table(&mut self, address: &str, ca_root: Option<String>) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
        match self.state.open(address, ca_root).await {
            Ok(conn) => Ok(Ok(self.table.push(conn)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    /// The connection `res` (a cheap handle on it).
    fn connection(&self, res: &Resource<PgConnection>) -> wasmtime::Result<PgConnection> {
        Ok(self.table.get(res)?.clone())
    }
}

/// The `connection` methods of a version before 4.x, which differs from 4.x
/// only in its types: `$parameter` converts a parameter up to 4.x's (or
/// refuses it), `$row_set` and `$error` convert 4.x's results down. Expanded
/// inside the version's `HostConnection` impl, with its `Error`,
/// `ParameterValue` and `RowSet` in scope.
macro_rules! narrower_connection {
    ($parameter:path, $row_set:path, $error:path) => {
        async fn open(&mut self, address: String) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
            Ok(self.open_into_table(&address, None).await?.map_err($error))
        }

        async fn query(
            &mut self,
            res: Resource<PgConnection>,
            statement: String,
            params: Vec<ParameterValue>,
        ) -> wasmtime::Result<Result<RowSet, Error>> {
            let params = match params.into_iter().map($parameter).collect::<Result<Vec<_>, Error>>() {
                Ok(params) => params,
                Err(e) => return Ok(Err(e)),
            };
            Ok(self.connection(&res)?.query(&statement, params).await.map($row_set).map_err($error))
        }

        async fn execute(
            &mut self,
            res: Resource<PgConnection>,
            statement: String,
            params: Vec<ParameterValue>,
        ) -> wasmtime::Result<Result<u64, Error>> {
            let params = match params.into_iter().map($parameter).collect::<Result<Vec<_>, Error>>() {
                Ok(params) => params,
                Err(e) => return Ok(Err(e)),
            };
            Ok(self.connection(&res)?.execute(&statement, params).await.map_err($error))
        }

        async fn drop(&mut self, res: Resource<PgConnection>) -> wasmtime::Result<()> {
            self.table.delete(res)?;
            Ok(())
        }
    };
}
use narrower_connection;
