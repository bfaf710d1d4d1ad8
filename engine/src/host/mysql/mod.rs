//! Outbound MySQL for guests: `spin:mysql/mysql@3.0.0` (Spin 4, async; rows
//! streamed) and Spin 2's `fermyon:spin/mysql@2.0.0`, over app-wide connection
//! pools (`client.rs`). Opens are gated by the component's
//! `allowed_outbound_hosts` and count against the instance's outbound
//! connection budget and the runtime config's `[outbound_mysql] max_connections`.

#[allow(clippy::result_large_err)]
mod client;
mod v2;
mod v3;
mod values;

use std::sync::Arc;

use wasmtime::component::{Linker, Resource};

use super::capability::{AppInputs, Capability, CapabilityView, ComponentInputs, HasCapability, InstanceInputs};
use super::outbound::OutboundGate;
#[allow(unreachable_pub)] // bindgen's `with` re-exports it
pub use client::MysqlConnection;
use client::Pools;

/// The types and traits of `spin:mysql/mysql@3.0.0`; 2.0's are converted to them.
mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v3",
        world: "css:host-v3/mysql",
        imports: { default: async | trappable },
        with: { "spin:mysql/mysql.connection": crate::host::mysql::MysqlConnection },
    });
}

/// The outbound MySQL capability.
pub(crate) struct OutboundMysql;

/// One instance's side: its outbound gate and the app's pools.
pub(crate) struct MysqlInstance {
    gate: OutboundGate,
    pools: Arc<Pools>,
}

impl Capability for OutboundMysql {
    type App = Arc<Pools>;
    type Component = Arc<Pools>;
    type Instance = MysqlInstance;

    const INTERFACES: &'static [&'static str] = &["spin:mysql/mysql@3.0.0", "fermyon:spin/mysql@2.0.0"];

    fn app(_: &AppInputs<'_>) -> anyhow::Result<Arc<Pools>> {
        Ok(Arc::default())
    }

    fn component(app: &Arc<Pools>, _: &ComponentInputs<'_>) -> anyhow::Result<Arc<Pools>> {
        Ok(app.clone())
    }

    fn instance(pools: &Arc<Pools>, inputs: &InstanceInputs<'_>) -> MysqlInstance {
        MysqlInstance { gate: inputs.outbound.clone(), pools: pools.clone() }
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
        v3::add_to_linker(linker)?;
        v2::add_to_linker(linker)
    }
}

/// The instance's view of the capability.
type View<'a> = CapabilityView<'a, OutboundMysql>;

impl View<'_> {
    /// The connection `res` (a cheap handle on it).
    fn connection(&self, res: &Resource<MysqlConnection>) -> wasmtime::Result<MysqlConnection> {
        Ok(self.table.get(res)?.clone())
    }
}
