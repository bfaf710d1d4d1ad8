//! The shape every Spin host capability takes: an app stage built once from the
//! locked app and the runtime config, a component stage (what one component may
//! use), an instance stage (the state of one store) and a link stage generic over
//! the capability's own view. `state.rs` registers the capabilities with one line
//! each; nothing else in the engine names them.

use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use wasmtime::component::{HasData, Linker, ResourceTable};

use super::outbound::OutboundGate;
use super::seeds::StartupSeeds;
use crate::locked::{LockedApp, LockedComponent};
use crate::runtime_config::RuntimeConfig;
use crate::variables::VariableResolver;

/// What the app stage of every capability is built from.
pub(crate) struct AppInputs<'a> {
    /// The app model (which labels components list, for example).
    pub app: &'a LockedApp,
    /// The runtime config (an empty one when the app has none).
    pub config: &'a RuntimeConfig,
    /// The state directory (`default` stores live there), if the app has one.
    pub state_dir: Option<&'a Path>,
    /// What the runner puts into the default store and database at start.
    pub seeds: &'a StartupSeeds,
    /// Where guests' own spans and log records go, for what the app exports.
    pub guest_telemetry: &'a crate::telemetry::GuestTelemetry,
}

/// What the component stage is built from.
pub(crate) struct ComponentInputs<'a> {
    /// The component as locked.
    pub component: &'a LockedComponent,
    /// The component id, shared with every instance.
    pub component_id: &'a Arc<str>,
    /// The app's variables, to resolve the component's own.
    pub variables: &'a VariableResolver,
}

/// What the instance stage is built from.
pub(crate) struct InstanceInputs<'a> {
    /// The instance's outbound policy and connection budget (shared by every
    /// outbound capability of the instance).
    pub outbound: &'a OutboundGate,
    /// For an instance that serves many requests, the requests it serves.
    pub traces: Option<&'a Arc<crate::telemetry::InstanceTraces>>,
}

/// One host capability: its stages, its link step and the interfaces it provides.
pub(crate) trait Capability: Sized + 'static {
    /// Built once per app.
    type App: Send + Sync;
    /// What one component may use; shared by its instances.
    type Component: Send + Sync;
    /// The state of one instance.
    type Instance: Send;

    /// The interfaces the link step provides: full names, or prefixes that end
    /// in `/` (every interface of a package at any version).
    const INTERFACES: &'static [&'static str];

    /// The app stage.
    fn app(inputs: &AppInputs<'_>) -> anyhow::Result<Self::App>;

    /// The component stage; errors name the component.
    fn component(app: &Self::App, inputs: &ComponentInputs<'_>) -> anyhow::Result<Self::Component>;

    /// The instance stage (once per event, so cheap).
    fn instance(component: &Self::Component, inputs: &InstanceInputs<'_>) -> Self::Instance;

    /// Adds the capability's interfaces to `linker`, over any store type that
    /// gives a view of the capability.
    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> anyhow::Result<()>;
}

/// A store's view of one capability: the capability's instance state and the
/// instance's resource table. Host traits are implemented on this view.
pub(crate) struct CapabilityView<'a, C: Capability> {
    /// The capability's instance state.
    pub state: &'a mut C::Instance,
    /// The instance's resource table.
    pub table: &'a mut ResourceTable,
}

/// A store type that holds capability `C`.
pub(crate) trait HasCapability<C: Capability>: Send + 'static {
    /// The view of `C` inside this store's data.
    fn capability(&mut self) -> CapabilityView<'_, C>;
}

/// The [`HasData`] marker bindgen's `add_to_linker` takes for capability `C`.
pub(crate) struct ViewOf<C>(PhantomData<C>);

impl<C: Capability> HasData for ViewOf<C> {
    type Data<'a> = CapabilityView<'a, C>;
}
