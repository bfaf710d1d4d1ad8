//! Per-instance host state (`Store<HostState>`) and the per-component template it is
//! stamped from on every event.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::connections::ConnectionBudget;
use super::key_value::{KeyValueAccess, KeyValueInstance};
use super::memory::InstanceMemory;
use super::outbound_http::OutboundHttp;
use super::sqlite::{SqliteAccess, SqliteInstance};
use super::variables::ComponentVariables;
use super::wasi::WasiTemplate;
use crate::allowed_hosts::AllowedHosts;

/// Everything needed to build a fresh [`HostState`] for one component, computed once
/// at start-up.
pub struct InstanceTemplate {
    /// Component id, for logs and errors.
    pub component_id: String,
    /// WASI environment, mounts and stdio.
    pub wasi: WasiTemplate,
    /// Resolved component variables.
    pub variables: Arc<ComponentVariables>,
    /// Where the component may connect (every outbound capability checks it).
    pub allowed_hosts: Arc<AllowedHosts>,
    /// Outbound HTTP policy.
    pub outbound_http: OutboundHttp,
    /// The key-value stores the component may open.
    pub key_value: Arc<KeyValueAccess>,
    /// The SQLite databases the component may open.
    pub sqlite: Arc<SqliteAccess>,
    /// Cap on the linear memory and table storage of one instance, in bytes.
    pub max_instance_memory: u64,
    /// Outbound connections (Redis, MQTT, in-flight HTTP) one instance may hold at once.
    pub max_outbound_connections: usize,
}

impl InstanceTemplate {
    /// A fresh host state for one event; `args` are the guest's argv (command trigger).
    pub fn instantiate_state(&self, args: &[String]) -> anyhow::Result<HostState> {
        let connections = ConnectionBudget::new(self.max_outbound_connections);
        Ok(HostState {
            wasi: self.wasi.build(args)?,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            component_id: self.component_id.clone().into(),
            allowed_hosts: self.allowed_hosts.clone(),
            outbound_http: self.outbound_http.for_instance(connections.clone()),
            connections,
            variables: self.variables.clone(),
            key_value: KeyValueInstance::new(self.key_value.clone()),
            sqlite: SqliteInstance::new(self.sqlite.clone()),
            limits: InstanceMemory::capped_at(self.max_instance_memory),
        })
    }
}

/// The `T` of every `Store<T>`: WASI, wasi-http and Spin host state for one instance.
pub struct HostState {
    pub(crate) component_id: Arc<str>,
    pub(crate) allowed_hosts: Arc<AllowedHosts>,
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) outbound_http: OutboundHttp,
    pub(crate) connections: ConnectionBudget,
    pub(crate) variables: Arc<ComponentVariables>,
    pub(crate) key_value: KeyValueInstance,
    pub(crate) sqlite: SqliteInstance,
    pub(crate) limits: InstanceMemory,
}

impl HostState {
    /// The id of the component this instance runs.
    pub fn component_id(&self) -> &str {
        &self.component_id
    }

    /// Where this component may connect.
    pub fn allowed_hosts(&self) -> &AllowedHosts {
        &self.allowed_hosts
    }

    /// The instance's resource table (for host resources such as connections).
    pub fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// The store's resource limiter.
    pub fn limits(&mut self) -> &mut InstanceMemory {
        &mut self.limits
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.outbound_http }
    }
}

#[cfg(test)]
impl InstanceTemplate {
    /// A template for host tests: outbound `allowed` hosts and `max_outbound_connections`.
    pub(crate) fn for_tests(allowed: &[&str], max_outbound_connections: usize) -> Self {
        let entries: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        let allowed_hosts = Arc::new(AllowedHosts::parse(&entries, |t| Ok(t.to_string())).unwrap());
        Self {
            component_id: "test".into(),
            wasi: WasiTemplate::default(),
            variables: Arc::new(ComponentVariables::new(Default::default())),
            allowed_hosts: allowed_hosts.clone(),
            outbound_http: OutboundHttp::new("test", allowed_hosts),
            key_value: Arc::default(),
            sqlite: Arc::default(),
            max_instance_memory: 64 << 20,
            max_outbound_connections,
        }
    }
}
