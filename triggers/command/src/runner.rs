//! Runs one component's `wasi:cli/run` export once, in a fresh instance whose argv
//! is the component id followed by the guest arguments.

use std::sync::Arc;

use wasmtime_wasi::p2::bindings::CommandPre;

use spin_engine::host::HostState;
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::{BindError, Binding, Export};

use crate::exit_status::{outcome, Outcome};

/// The export a command component must have (any 0.2.x patch).
pub(crate) const RUN_EXPORT: Export = Export::Release("wasi:cli/run@0.2");

/// A component bound to its `wasi:cli/run` export, with its argv.
pub(crate) struct CommandRunner {
    binding: Binding<CommandPre<HostState>>,
    argv: Vec<String>,
}

impl CommandRunner {
    /// Binds the component's `wasi:cli/run` export; fails (naming the component and
    /// what it does export) when it is not a command component.
    pub(crate) fn new(component: Arc<PreparedComponent>, guest_args: &[String]) -> Result<Self, BindError> {
        let binding = Binding::new(&component, RUN_EXPORT, |pre| CommandPre::new(pre.clone()))?;
        let argv = std::iter::once(component.id().to_string()).chain(guest_args.iter().cloned()).collect();
        Ok(Self { binding, argv })
    }

    /// The component id.
    pub(crate) fn id(&self) -> &str {
        self.binding.component().id()
    }

    /// The guest's argv: the component id, then the guest arguments.
    pub(crate) fn argv(&self) -> &[String] {
        &self.argv
    }

    /// Instantiates the component in a fresh store and calls `run` once.
    pub(crate) async fn run(&self) -> Outcome {
        let bound = self.binding.current();
        let mut store = match bound.new_store(&self.argv, None) {
            Ok(store) => store,
            Err(e) => return Outcome::Failed(format!("{e:#}")),
        };
        let result = async {
            let command = bound.pre().instantiate_async(&mut store).await?;
            store.data_mut().instantiated();
            command.wasi_cli_run().call_run(&mut store).await
        }
        .await;
        outcome(result)
    }
}
