//! A component bound to the export an executor calls, kept current: when the
//! component's code is replaced (Cranelift's after Winch's, see
//! `runtime/tiered.rs`), the next event binds the new code, and each event's
//! store is made on the engine of the code it instantiates.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use wasmtime::component::InstancePre;
use wasmtime::Store;

use super::binding::{bind_export, BindError, Export};
use crate::host::HostState;
use crate::runtime::{Code, PreparedComponent};

/// A generated `*Pre::new` over an instance pre.
pub type BindFn<P> = fn(&InstancePre<HostState>) -> wasmtime::Result<P>;

/// `component` bound to one export with a generated `*Pre` type `P`.
pub struct Binding<P> {
    component: Arc<PreparedComponent>,
    bind: BindFn<P>,
    current: ArcSwap<Bound<P>>,
    /// Set once a rebinding failed, so the failure is logged once.
    rebind_failed: AtomicBool,
}

/// One code of the component and its export bound over it: what one event runs.
pub struct Bound<P> {
    component: Arc<PreparedComponent>,
    code: Arc<Code>,
    pre: P,
}

impl<P> Binding<P> {
    /// Binds `export` of `component` with `bind`; the error names the component
    /// and what it exports (see [`BindError`]).
    pub fn new(component: &Arc<PreparedComponent>, export: Export, bind: BindFn<P>) -> Result<Self, BindError> {
        // The export is bound over the very code recorded beside it: the code may
        // be replaced at any moment, and a store must be made on the engine of
        // the code it instantiates.
        let code = component.code();
        let pre = bind_export(component, code.instance_pre(), export, bind)?;
        let bound = Bound { component: component.clone(), code, pre };
        Ok(Self {
            component: component.clone(),
            bind,
            current: ArcSwap::from_pointee(bound),
            rebind_failed: AtomicBool::new(false),
        })
    }

    /// The component.
    pub fn component(&self) -> &Arc<PreparedComponent> {
        &self.component
    }

    /// The export bound over the component's current code (bound again first
    /// when the code was replaced since the last event).
    pub fn current(&self) -> Arc<Bound<P>> {
        let bound = self.current.load_full();
        if self.component.is_current(&bound.code) || self.rebind_failed.load(Ordering::Relaxed) {
            return bound;
        }
        let code = self.component.code();
        match (self.bind)(code.instance_pre()) {
            Ok(pre) => {
                let rebound = Arc::new(Bound { component: self.component.clone(), code, pre });
                self.current.store(rebound.clone());
                rebound
            }
            Err(e) => {
                self.rebind_failed.store(true, Ordering::Relaxed);
                tracing::warn!(
                    "component `{}`: its new code cannot be bound ({e}); the old serves",
                    self.component.id()
                );
                bound
            }
        }
    }
}

impl<P> Bound<P> {
    /// The bound export.
    pub fn pre(&self) -> &P {
        &self.pre
    }

    /// A fresh store for one event on this code's engine, trapping past
    /// `deadline`; `args` are the guest's command-line arguments.
    pub fn new_store(&self, args: &[String], deadline: Option<Instant>) -> anyhow::Result<Store<HostState>> {
        self.component.new_store(&self.code, args, deadline, None)
    }

    /// [`Self::new_store`] for an event that hands its guest its own
    /// environment, stdin and stdout (the WAGI executor's CGI call).
    pub fn new_store_for(
        &self,
        args: &[String],
        deadline: Option<Instant>,
        event: &crate::host::EventStdio,
    ) -> anyhow::Result<Store<HostState>> {
        self.component.new_store(&self.code, args, deadline, Some(event))
    }

    /// A store for an instance serving many events (WASI 0.3 reuse) on this
    /// code's engine; see [`PreparedComponent::new_reusable_store`].
    pub fn new_reusable_store(&self, run_limit: Option<Duration>) -> anyhow::Result<Store<HostState>> {
        self.component.new_reusable_store(&self.code, run_limit)
    }
}
