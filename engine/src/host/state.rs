//! The per-instance host state every `Store<HostState>` holds, the
//! per-component template it is stamped from on every event, and the macro that
//! turns the capability list of `host/mod.rs` into the views each capability
//! links over. The only file with `impl ... for HostState`.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::capability::InstanceInputs;
use super::memory::InstanceMemory;
#[cfg(test)]
use super::outbound::SocketRules;
use super::outbound::{HttpClient, LocalRoutes, OutboundGate, OutboundHttp, OutboundNetworking, SocketPlaces};
use super::wasi::{EventStdio, WasiTemplate};
use super::{ComponentCapabilities, InstanceCapabilities};
use crate::allowed_hosts::AllowedHosts;
use crate::runtime::EpochUse;
use crate::telemetry::{ComponentInstanceMetrics, InstanceTraces, InstanceUsage};

/// Declares the capability folders listed in `host/mod.rs` (`module::Type`, one
/// line each) and generates, from that list, their stages side by side
/// (`AppCapabilities` -> `ComponentCapabilities` -> `InstanceCapabilities`), the
/// view of each capability in [`HostState`], the link step and the list of
/// interfaces the capabilities provide.
macro_rules! capabilities {
    ($($module:ident::$cap:ident),* $(,)?) => {
        $(mod $module;)*

        /// The app stage of every capability.
        pub(crate) struct AppCapabilities {
            $($module: <$module::$cap as $crate::host::capability::Capability>::App,)*
        }

        impl AppCapabilities {
            /// Builds every capability's app stage.
            pub(crate) fn new(inputs: &$crate::host::capability::AppInputs<'_>) -> anyhow::Result<Self> {
                use $crate::host::capability::Capability as _;
                Ok(Self { $($module: $module::$cap::app(inputs)?,)* })
            }

            /// Builds every capability's stage for one component.
            pub(crate) fn component(
                &self,
                inputs: &$crate::host::capability::ComponentInputs<'_>,
            ) -> anyhow::Result<ComponentCapabilities> {
                use $crate::host::capability::Capability as _;
                Ok(ComponentCapabilities { $($module: $module::$cap::component(&self.$module, inputs)?,)* })
            }
        }

        /// The component stage of every capability.
        pub(crate) struct ComponentCapabilities {
            $($module: <$module::$cap as $crate::host::capability::Capability>::Component,)*
        }

        impl ComponentCapabilities {
            /// Builds every capability's instance stage.
            fn instance(&self, inputs: &$crate::host::capability::InstanceInputs<'_>) -> InstanceCapabilities {
                use $crate::host::capability::Capability as _;
                InstanceCapabilities { $($module: $module::$cap::instance(&self.$module, inputs),)* }
            }
        }

        /// The instance state of every capability.
        struct InstanceCapabilities {
            $($module: <$module::$cap as $crate::host::capability::Capability>::Instance,)*
        }

        $(
            impl $crate::host::capability::HasCapability<$module::$cap> for $crate::host::state::HostState {
                fn capability(&mut self) -> $crate::host::capability::CapabilityView<'_, $module::$cap> {
                    $crate::host::capability::CapabilityView {
                        state: &mut self.capabilities.$module,
                        table: &mut self.table,
                    }
                }
            }
        )*

        /// Adds every capability's interfaces to `linker`.
        pub(crate) fn add_capabilities_to_linker(
            linker: &mut wasmtime::component::Linker<$crate::host::state::HostState>,
        ) -> anyhow::Result<()> {
            use $crate::host::capability::Capability as _;
            $($module::$cap::add_to_linker(linker)?;)*
            Ok(())
        }

        /// The interfaces the capabilities provide (see `Capability::INTERFACES`).
        pub(crate) const CAPABILITY_INTERFACES: &[&[&str]] =
            &[$(<$module::$cap as $crate::host::capability::Capability>::INTERFACES,)*];
    };
}
pub(super) use capabilities;

/// Everything needed to build a fresh [`HostState`] for one component, computed
/// once at start-up.
pub(crate) struct InstanceTemplate {
    basics: InstanceBasics,
    capabilities: ComponentCapabilities,
    /// Where each instance's usage is recorded, when metrics are exported.
    usage: Option<Arc<ComponentInstanceMetrics>>,
}

/// The parts of an [`InstanceTemplate`] that are not capabilities.
pub(crate) struct InstanceBasics {
    /// The component id, for logs and errors.
    pub component_id: Arc<str>,
    /// Where the component may connect.
    pub allowed_hosts: Arc<AllowedHosts>,
    /// The networks no connection may reach and the app-wide connection cap
    /// (runtime config).
    pub networking: OutboundNetworking,
    /// The client the component's outbound HTTP requests leave through (with
    /// its `[[client_tls]]` configurations).
    pub http_client: HttpClient,
    /// WASI environment, mounts and stdio.
    pub wasi: WasiTemplate,
    /// Cap on the linear memory and table storage of one instance, in bytes.
    pub max_instance_memory: u64,
    /// Outbound connections (Redis, MQTT, in-flight HTTP) one instance may hold at once.
    pub max_outbound_connections: usize,
    /// The app's own HTTP routes, for service chaining and self requests.
    pub local_routes: LocalRoutes,
}

impl InstanceTemplate {
    /// The template of `basics` with the component's `capabilities`.
    pub(crate) fn new(basics: InstanceBasics, capabilities: ComponentCapabilities) -> Self {
        Self { basics, capabilities, usage: None }
    }

    /// The template whose instances record their usage in `usage` (Spin's
    /// instance metrics), if any.
    pub(crate) fn with_usage_metrics(self, usage: Option<Arc<ComponentInstanceMetrics>>) -> Self {
        Self { usage, ..self }
    }

    /// A fresh host state for one event; `args` are the guest's argv (command
    /// trigger). For an instance that serves many requests (WASI 0.3 reuse),
    /// `traces` holds the requests it serves, through which its guest's host
    /// calls join a request's trace (see [`HostState::instance_traces`]). An
    /// event may hand its guest its own environment, stdin and stdout (`event`).
    pub(crate) fn instantiate_state(
        &self,
        args: &[String],
        traces: Option<Arc<InstanceTraces>>,
        event: Option<&EventStdio>,
    ) -> anyhow::Result<HostState> {
        let basics = &self.basics;
        let outbound = OutboundGate::within(
            basics.component_id.clone(),
            basics.allowed_hosts.clone(),
            basics.max_outbound_connections,
            &basics.networking,
        );
        Ok(HostState {
            wasi: basics.wasi.build(args, traces.as_ref(), event)?,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            capabilities: self.capabilities.instance(&InstanceInputs { outbound: &outbound, traces: traces.as_ref() }),
            outbound_http: OutboundHttp {
                gate: outbound,
                local: basics.local_routes.clone(),
                client: basics.http_client.clone(),
                traces: traces.clone(),
            },
            limits: InstanceMemory::capped_at(basics.max_instance_memory),
            traces,
            usage: self.usage.as_ref().map(ComponentInstanceMetrics::instance),
            epoch: None,
            socket_places: SocketPlaces::default(),
        })
    }
}

/// The `T` of every `Store<T>`: WASI, wasi-http and every capability's state for
/// one instance.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    pub(super) table: ResourceTable,
    outbound_http: OutboundHttp,
    pub(super) capabilities: InstanceCapabilities,
    limits: InstanceMemory,
    traces: Option<Arc<InstanceTraces>>,
    /// What the instance used, recorded when it is dropped (metrics exported).
    usage: Option<InstanceUsage>,
    /// Keeps the epoch ticking while the instance lives.
    epoch: Option<EpochUse>,
    /// The places its `wasi:sockets` sockets hold among its connections.
    socket_places: SocketPlaces,
}

impl HostState {
    /// The store's resource limiter.
    pub(crate) fn limits(&mut self) -> &mut InstanceMemory {
        &mut self.limits
    }

    /// Keeps the engine's epoch ticking for as long as this instance lives.
    pub(crate) fn hold_epoch(&mut self, epoch: EpochUse) {
        self.epoch = Some(epoch);
    }

    /// Whether the instance's usage is recorded (then the store's call hook
    /// must pass on every call to [`Self::on_call`]).
    pub(crate) fn records_usage(&self) -> bool {
        self.usage.is_some()
    }

    /// Follows the store's call hook, to time the guest's code.
    pub(crate) fn on_call(&mut self, hook: wasmtime::CallHook) {
        if let Some(usage) = &mut self.usage {
            usage.on_call(hook);
        }
    }

    /// Holds a place among the instance's connections for socket `rep` (see
    /// `outbound/counted_sockets.rs`); `false` when there is none.
    pub(crate) fn hold_socket_place(&mut self, rep: u32) -> bool {
        self.socket_places.hold(&self.outbound_http.gate, rep)
    }

    /// Gives back the place socket `rep` held.
    pub(crate) fn give_back_socket_place(&mut self, rep: u32) {
        self.socket_places.give_back(rep);
    }

    /// Notes that the instance is made: its memory now is its memory on init.
    /// Executors call this right after instantiating.
    pub fn instantiated(&mut self) {
        if let Some(usage) = &mut self.usage {
            usage.instantiated(self.limits.memory());
        }
    }

    /// For a reused instance, the requests it serves, to note each traced
    /// one while it runs.
    pub fn instance_traces(&self) -> Option<&Arc<InstanceTraces>> {
        self.traces.as_ref()
    }
}

impl Drop for HostState {
    fn drop(&mut self) {
        if let Some(usage) = self.usage.take() {
            usage.record(self.limits.memory());
        }
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
    /// A template for host tests: outbound `allowed` hosts (sockets included)
    /// and `max_outbound_connections`, no stores, no variables.
    pub(crate) fn for_tests(allowed: &[&str], max_outbound_connections: usize) -> Self {
        let entries: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        let allowed_hosts = Arc::new(AllowedHosts::parse(&entries, |t| Ok(t.to_string())).unwrap());
        let app = crate::locked::LockedApp::default();
        let config = crate::runtime_config::RuntimeConfig::default();
        let seeds = super::seeds::StartupSeeds::default();
        let inputs = super::capability::AppInputs {
            app: &app,
            config: &config,
            state_dir: None,
            seeds: &seeds,
            guest_telemetry: &Default::default(),
        };
        let capabilities = super::AppCapabilities::new(&inputs).unwrap();
        let component = crate::locked::LockedComponent { id: "test".into(), ..Default::default() };
        let component_id: Arc<str> = "test".into();
        let variables = crate::variables::VariableResolver::new(&Default::default(), vec![]);
        let inputs = super::capability::ComponentInputs {
            component: &component,
            component_id: &component_id,
            variables: &variables,
        };
        let basics = InstanceBasics {
            component_id: component_id.clone(),
            allowed_hosts: allowed_hosts.clone(),
            networking: OutboundNetworking::default(),
            http_client: HttpClient::default(),
            // Sockets are open as far as `allowed` names `tcp://` or `udp://` destinations.
            wasi: WasiTemplate { sockets: SocketRules::of(&allowed_hosts, &Arc::default()), ..Default::default() },
            max_instance_memory: 64 << 20,
            max_outbound_connections,
            local_routes: LocalRoutes::default(),
        };
        Self::new(basics, capabilities.component(&inputs).unwrap())
    }
}

#[cfg(test)]
impl InstanceTemplate {
    /// Runs `f` inside a fresh instance's store, with the accessor of capability
    /// `C` its async host functions take (they need a store's concurrent loop).
    pub(crate) async fn run_async<C, R>(
        &self,
        f: impl AsyncFnOnce(&wasmtime::component::Accessor<HostState, super::capability::ViewOf<C>>) -> R,
    ) -> R
    where
        C: super::capability::Capability,
        HostState: super::capability::HasCapability<C>,
    {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model_async(true);
        let engine = wasmtime::Engine::new(&config).unwrap();
        let mut store = wasmtime::Store::new(&engine, self.instantiate_state(&[], None, None).unwrap());
        store
            .run_concurrent(async move |accessor| {
                let view = accessor.with_getter::<super::capability::ViewOf<C>>(
                    <HostState as super::capability::HasCapability<C>>::capability,
                );
                f(&view).await
            })
            .await
            .unwrap()
    }
}
