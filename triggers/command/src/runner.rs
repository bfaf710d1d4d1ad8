//! Runs one component's `wasi:cli/run` export once, in a fresh instance whose argv
//! is the component id followed by the guest arguments: WASI 0.3's `run` when
//! the component exports it (as Spin, first), else WASI 0.2's.

use std::sync::Arc;

use wasmtime_wasi::p2::bindings::CommandPre as CommandPre02;
use wasmtime_wasi::p3::bindings::CommandPre as CommandPre03;

use spin_engine::host::HostState;
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::{pick_export, BindError, Binding, Bound, Export, WASI_CLI_RUN_02};
use wasmtime::Store;

use crate::exit_status::{outcome, Outcome};

/// The WASI 0.3 export of a command component.
pub(crate) const RUN_EXPORT_03: Export = Export::Interface("wasi:cli/run@0.3.0");

/// The `run` export a component is bound to.
enum Run {
    Wasi02(Binding<CommandPre02<HostState>>),
    Wasi03(Binding<CommandPre03<HostState>>),
}

/// A component bound to its `wasi:cli/run` export, with its argv.
pub(crate) struct CommandRunner {
    run: Run,
    argv: Vec<String>,
}

impl CommandRunner {
    /// Binds the component's `wasi:cli/run` export (0.3 before 0.2); fails
    /// (naming the component and what it does export) when it is not a command
    /// component.
    pub(crate) fn new(component: Arc<PreparedComponent>, guest_args: &[String]) -> Result<Self, BindError> {
        let run = match pick_export(&component, &[RUN_EXPORT_03, WASI_CLI_RUN_02]) {
            Ok(1) => Run::Wasi02(Binding::new(&component, WASI_CLI_RUN_02, |pre| CommandPre02::new(pre.clone()))?),
            Ok(_) | Err(BindError::Several { .. }) => {
                Run::Wasi03(Binding::new(&component, RUN_EXPORT_03, |pre| CommandPre03::new(pre.clone()))?)
            }
            Err(e) => return Err(e),
        };
        let argv = std::iter::once(component.id().to_string()).chain(guest_args.iter().cloned()).collect();
        Ok(Self { run, argv })
    }

    /// The component id.
    pub(crate) fn id(&self) -> &str {
        match &self.run {
            Run::Wasi02(binding) => binding.component().id(),
            Run::Wasi03(binding) => binding.component().id(),
        }
    }

    /// The guest's argv: the component id, then the guest arguments.
    pub(crate) fn argv(&self) -> &[String] {
        &self.argv
    }

    /// Instantiates the component in a fresh store and calls `run` once.
    pub(crate) async fn run(&self) -> Outcome {
        let result = match &self.run {
            Run::Wasi02(binding) => {
                async {
                    let (bound, mut store) = fresh_store(binding, &self.argv)?;
                    let command = bound.pre().instantiate_async(&mut store).await?;
                    store.data_mut().instantiated();
                    command.wasi_cli_run().call_run(&mut store).await
                }
                .await
            }
            Run::Wasi03(binding) => {
                async {
                    let (bound, mut store) = fresh_store(binding, &self.argv)?;
                    let command = bound.pre().instantiate_async(&mut store).await?;
                    store.data_mut().instantiated();
                    store.run_concurrent(async move |store| command.wasi_cli_run().call_run(store).await).await?
                }
                .await
            }
        };
        outcome(result)
    }
}

/// The binding's current code and a fresh store for one run with `argv`.
fn fresh_store<P>(binding: &Binding<P>, argv: &[String]) -> wasmtime::Result<(Arc<Bound<P>>, Store<HostState>)> {
    let bound = binding.current();
    let store = bound.new_store(argv, None).map_err(wasmtime::Error::from_anyhow)?;
    Ok((bound, store))
}
