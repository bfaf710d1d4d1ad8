//! The one path that runs an app, shared by the shim and the CLI: check triggers,
//! compile, prepare triggers, run them until they end or a signal arrives.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use spin_engine::host::{Echo, HostOptions, LogDir, StartupSeeds};
use spin_engine::loader::LoadedApp;
use spin_engine::runtime::{release_memory_when_quiet, release_start_up_memory, CompileCache, PrepareOptions, Runtime};
use spin_engine::runtime_config::RuntimeConfig;
use spin_engine::telemetry::{GuestTelemetry, HostMetrics, Telemetry};
use spin_engine::trigger::{run_app, PreparedTrigger, Shutdown};

use crate::settings::Settings;
use crate::triggers::registry;

/// How to run an app.
pub(crate) struct LaunchOptions {
    /// `KEY=VALUE` pairs added to every component's environment.
    pub extra_env: Vec<(String, String)>,
    /// The environment variable providers read (`SPIN_VARIABLE_*`).
    pub env: BTreeMap<String, String>,
    /// Parsed runtime config, if any.
    pub runtime_config: Option<RuntimeConfig>,
    /// App variable values that win over every provider (`--variable`).
    pub variables: BTreeMap<String, String>,
    /// What goes into the default store and database at start.
    pub seeds: StartupSeeds,
    /// The runner's explicit state directory (`--state-dir`; empty: none).
    pub state_dir: Option<PathBuf>,
    /// Which components' stdout/stderr the process echoes.
    pub echo: Echo,
    /// The log folder for each component's stdout and stderr files.
    pub log_dir: LogDir,
    /// Whether the log files are emptied at start.
    pub truncate_logs: bool,
    /// Compiled-component cache.
    pub compile_cache: CompileCache,
    /// Where file mounts are staged.
    pub staging_dir: Option<PathBuf>,
    /// Whether guests may change their (copied) files.
    pub allow_transient_write: bool,
    /// Guest limits, engine tunables and trigger settings, read at the edge.
    pub settings: Settings,
}

/// SIGTERM and SIGINT, watched from the first moment of a start: the app is PID 1
/// of its container, where a signal without a handler is ignored.
pub(crate) struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

/// Exit status for a run stopped by a signal during start-up (128 + SIGTERM).
pub(crate) const EXIT_TERMINATED: i32 = 143;

impl Signals {
    /// Installs the handlers; call first thing, inside the tokio runtime.
    pub(crate) fn install() -> anyhow::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self { term: signal(SignalKind::terminate())?, int: signal(SignalKind::interrupt())? })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

/// Runs `app` to completion; returns the exit status. A signal during start-up
/// (compiling can take seconds) ends it at once with [`EXIT_TERMINATED`]; after
/// start-up SIGTERM and SIGINT stop it gracefully.
#[cfg_attr(not(feature = "http"), allow(unused_mut))]
pub(crate) async fn launch(app: LoadedApp, mut opts: LaunchOptions, signals: Signals) -> anyhow::Result<i32> {
    let telemetry = Telemetry::start(&opts.settings.telemetry)?;
    #[cfg(feature = "http")]
    {
        opts.settings.triggers.http.tracer = telemetry.request_tracer();
    }
    let outcome = run(app, opts, &telemetry, signals).await;
    // Sends the last spans and counts; waits at most the exporters' timeouts.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    outcome
}

/// [`launch`] without the trace pipeline around it.
async fn run(app: LoadedApp, opts: LaunchOptions, telemetry: &Telemetry, mut signals: Signals) -> anyhow::Result<i32> {
    let exports = (telemetry.guest_telemetry(), telemetry.host_metrics());
    let start = tokio::task::spawn_blocking(move || start(app, opts, exports));
    let triggers = tokio::select! {
        started = start => started??,
        _ = signals.recv() => {
            eprintln!("signal received while starting; exiting");
            return Ok(EXIT_TERMINATED);
        }
    };
    // What start-up alone used: the compiler's leftovers and the start-up code's pages
    // (a background Cranelift compile releases its own when it is done).
    release_start_up_memory();
    // And what the first requests alone use, each time the app goes quiet.
    tokio::spawn(release_memory_when_quiet());
    let shutdown = Shutdown::new();
    watch_signals(signals, shutdown.clone());
    run_app(triggers, shutdown).await
}

/// Checks triggers, compiles and links the app, and prepares its triggers;
/// guests' own spans, output and log records, and the host's metrics go to
/// `exports` (when exported).
fn start(
    app: LoadedApp,
    opts: LaunchOptions,
    (guest_telemetry, metrics): (GuestTelemetry, Option<HostMetrics>),
) -> anyhow::Result<Vec<Box<dyn PreparedTrigger>>> {
    let registry = registry(&opts.settings.triggers)?;
    registry.check_supported(&app.locked)?;
    let trigger_types: std::collections::BTreeSet<&str> =
        app.locked.triggers.iter().map(|t| t.trigger_type.as_str()).collect();
    let engine =
        opts.settings.engine.clone().sized_for(trigger_types.len(), opts.settings.limits.max_concurrent_events);
    let runtime = Runtime::new(&engine, opts.compile_cache.clone())?;
    let prepared = runtime.prepare(
        app.locked,
        PrepareOptions {
            host: HostOptions {
                runtime_config: opts.runtime_config,
                // Spin's default: `.spin` in the app directory.
                state_dir: app.app_dir.map(|dir| dir.join(".spin")),
                state_dir_flag: opts.state_dir,
                variables: opts.variables,
                seeds: opts.seeds,
                env: opts.env,
                extra_env: opts.extra_env,
                echo: opts.echo,
                log_dir: opts.log_dir,
                truncate_logs: opts.truncate_logs,
                staging_dir: opts.staging_dir,
                content_dir: app.content_dir,
                allow_transient_write: opts.allow_transient_write,
                guest_telemetry,
                h2c_authority: opts.settings.h2c_authority.clone(),
            },
            limits: opts.settings.limits,
            trusted_artifacts: app.trusted_artifacts,
            metrics,
        },
    )?;
    registry.prepare(&Arc::new(prepared))
}

fn watch_signals(mut signals: Signals, shutdown: Shutdown) {
    tokio::spawn(async move {
        signals.recv().await;
        tracing::info!("signal received; shutting down");
        shutdown.cancel();
    });
}
