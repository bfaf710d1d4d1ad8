//! The trigger plugin model: a trigger type turns events into guest calls. The
//! engine knows triggers only through this trait; the shim registers the plugins
//! compiled into its binary. Beside it, the kit every trigger crate builds on:
//! typed settings by type, one error format, executor binding, backoff, drain
//! and one-line error messages.

mod backoff;
mod binding;
mod bound;
mod config_error;
mod dispatcher;
mod drain;
mod entries;
mod event;
mod known;
mod one_line;

use std::sync::Arc;

use futures::future::BoxFuture;
pub use tokio_util::sync::CancellationToken as Shutdown;

pub use backoff::Backoff;
pub use binding::{pick_export, BindError, Export, WASI_CLI_RUN_02};
pub use bound::{BindFn, Binding, Bound};
pub use config_error::{ConfigProblem, Reason, ShapeError, TriggerConfigError};
pub use dispatcher::{run_app, TriggerRegistry};
pub use drain::{Drain, DEFAULT_DRAIN};
pub use entries::{app_settings, trigger_entries, TriggerConfig, TriggerEntry};
pub use event::{is_deadline, run_event, DeadlineExceeded, EventBounds};
pub(crate) use known::feature_for;
pub use one_line::one_line;

use crate::runtime::PreparedApp;

/// One trigger type (`http`, `redis`, ...) as compiled into this binary.
pub trait TriggerPlugin: Send + Sync {
    /// The `[[trigger.<type>]]` name this plugin handles.
    fn trigger_type(&self) -> &'static str;

    /// Validates this type's trigger entries against the app and returns a trigger
    /// ready to run. Configuration errors surface here, before anything listens.
    fn prepare(&self, app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>>;
}

/// A trigger that passed validation and can run.
pub trait PreparedTrigger: Send {
    /// Runs until the trigger ends by itself or `shutdown` is cancelled; returns the
    /// process exit status the trigger stands for (0 for a clean stop).
    fn run(self: Box<Self>, shutdown: Shutdown) -> BoxFuture<'static, anyhow::Result<i32>>;
}
