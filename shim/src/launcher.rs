//! The one path that runs an app, shared by the shim and the CLI: check triggers,
//! compile, prepare triggers, run them until they end or a signal arrives.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use spin_engine::host::{Echo, HostOptions, LogDir, StartupSeeds};
use spin_engine::loader::LoadedApp;
use spin_engine::runtime::{
    release_memory_when_quiet, release_start_up_memory, CompileCache, PrepareOptions, PreparedApp, Runtime,
};
use spin_engine::runtime_config::RuntimeConfig;
use spin_engine::telemetry::Telemetry;
use spin_engine::trigger::{run_app, PreparedTrigger, Shutdown, TriggerRegistry};

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
pub(crate) async fn launch(app: LoadedApp, opts: LaunchOptions, signals: Signals) -> anyhow::Result<i32> {
    launch_prepared(tokio::task::spawn_blocking(move || prepare(app, opts)), signals).await
}

/// [`launch`] for a start already under way on a blocking thread ([`prepare`]).
pub(crate) async fn launch_prepared(start_up: StartUp, mut signals: Signals) -> anyhow::Result<i32> {
    match until_signal(&mut signals, start_up).await? {
        Some(prepared) => serve(prepared, signals).await,
        None => Ok(EXIT_TERMINATED),
    }
}

/// A start under way: [`prepare`] on a blocking thread.
pub(crate) type StartUp = tokio::task::JoinHandle<anyhow::Result<PreparedLaunch>>;

/// Awaits start-up `work` running on a blocking thread unless a signal comes
/// first (then `None`, after saying so).
async fn until_signal<T>(
    signals: &mut Signals,
    work: tokio::task::JoinHandle<anyhow::Result<T>>,
) -> anyhow::Result<Option<T>> {
    tokio::select! {
        done = work => Ok(Some(done??)),
        _ = signals.recv() => {
            eprintln!("signal received while starting; exiting");
            Ok(None)
        }
    }
}

/// An app compiled and linked, its telemetry running: all a start does before
/// its triggers bind or connect anything.
pub(crate) struct PreparedLaunch {
    app: Arc<PreparedApp>,
    registry: TriggerRegistry,
    telemetry: Telemetry,
}

/// Starts the app's telemetry, checks its triggers, compiles and links it
/// (blocking: run it on a thread of its own); guests' own spans, output and log
/// records, and the host's metrics go to the exporters the settings name.
pub(crate) fn prepare(app: LoadedApp, opts: LaunchOptions) -> anyhow::Result<PreparedLaunch> {
    let telemetry = Telemetry::start(&opts.settings.telemetry)?;
    match compile_and_link(app, opts, &telemetry) {
        Ok((app, registry)) => Ok(PreparedLaunch { app, registry, telemetry }),
        Err(e) => {
            telemetry.shutdown();
            Err(e)
        }
    }
}

/// Prepares the triggers of `launch` (binding listeners, connecting to brokers)
/// and runs them until they end or a signal stops them; returns the exit status.
async fn serve(launch: PreparedLaunch, mut signals: Signals) -> anyhow::Result<i32> {
    let PreparedLaunch { app, registry, telemetry } = launch;
    let preparing = tokio::task::spawn_blocking(move || registry.prepare(&app));
    let outcome = match until_signal(&mut signals, preparing).await {
        Ok(Some(triggers)) => run(triggers, signals).await,
        Ok(None) => Ok(EXIT_TERMINATED),
        Err(e) => Err(e),
    };
    // Sends the last spans and counts; waits at most the exporters' timeouts.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    outcome
}

/// Runs prepared triggers until they end or a signal stops them.
async fn run(triggers: Vec<Box<dyn PreparedTrigger>>, signals: Signals) -> anyhow::Result<i32> {
    // What start-up alone used: the compiler's leftovers and the start-up code's pages
    // (a background Cranelift compile releases its own when it is done).
    release_start_up_memory();
    // And what the first requests alone use, each time the app goes quiet.
    tokio::spawn(release_memory_when_quiet());
    let shutdown = Shutdown::new();
    watch_signals(signals, shutdown.clone());
    run_app(triggers, shutdown).await
}

/// Checks triggers, compiles and links the app; the HTTP trigger's request
/// tracer comes from `telemetry`.
#[cfg_attr(not(feature = "http"), allow(unused_mut))]
fn compile_and_link(
    app: LoadedApp,
    mut opts: LaunchOptions,
    telemetry: &Telemetry,
) -> anyhow::Result<(Arc<PreparedApp>, TriggerRegistry)> {
    #[cfg(feature = "http")]
    {
        opts.settings.triggers.http.tracer = telemetry.request_tracer();
    }
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
                guest_telemetry: telemetry.guest_telemetry(),
                h2c_authority: opts.settings.h2c_authority.clone(),
            },
            limits: opts.settings.limits,
            trusted_artifacts: app.trusted_artifacts,
            metrics: telemetry.host_metrics(),
        },
    )?;
    Ok((Arc::new(prepared), registry))
}

fn watch_signals(mut signals: Signals, shutdown: Shutdown) {
    tokio::spawn(async move {
        signals.recv().await;
        tracing::info!("signal received; shutting down");
        shutdown.cancel();
    });
}
