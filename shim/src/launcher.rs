//! The one path that runs an app, shared by the shim and the CLI: check triggers,
//! compile, prepare triggers, run them until they end or a signal arrives.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use spin_engine::host::key_value::{KeyValueStores, DEFAULT_LABEL};
use spin_engine::host::sqlite::SqliteDatabases;
use spin_engine::host::StdioMode;
use spin_engine::limits::GuestLimits;
use spin_engine::locked::LockedApp;
use spin_engine::runtime::{CompileCache, EngineOptions, PrepareOptions, Runtime};
use spin_engine::runtime_config::{RuntimeConfig, VariablesProvider};
use spin_engine::trigger::{run_app, PreparedTrigger, Shutdown};
use spin_engine::variables::{EnvProvider, Provider, StaticProvider};

use crate::triggers::{registry, TriggerSettings};

/// How to run an app.
pub struct LaunchOptions {
    /// HTTP listen address.
    pub http_listen: String,
    /// Arguments after the component id for a command component.
    pub guest_args: Vec<String>,
    /// `KEY=VALUE` pairs added to every component's environment.
    pub extra_env: Vec<(String, String)>,
    /// The environment variable providers read (`SPIN_VARIABLE_*`).
    pub env: BTreeMap<String, String>,
    /// Parsed runtime config, if any.
    pub runtime_config: Option<RuntimeConfig>,
    /// Where guest stdio goes.
    pub stdio: StdioMode,
    /// Compiled-component cache.
    pub compile_cache: CompileCache,
    /// Where file mounts are staged.
    pub staging_dir: Option<PathBuf>,
    /// Content addressed by digest (OCI apps).
    pub content_dir: Option<PathBuf>,
    /// Artifacts runwasi delivered as precompiled by this shim, by wasm digest.
    pub trusted_artifacts: HashMap<String, Vec<u8>>,
    /// The bounds of every guest (see [`GuestLimits::from_env`]).
    pub limits: GuestLimits,
    /// The state directory unless the runtime config sets `state_dir` (Spin's
    /// `<app dir>/.spin`; none for apps without a local directory).
    pub state_dir: Option<PathBuf>,
}

/// SIGTERM and SIGINT, watched from the first moment of a start: the app is PID 1
/// of its container, where a signal without a handler is ignored.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

/// Exit status for a run stopped by a signal during start-up (128 + SIGTERM).
pub const EXIT_TERMINATED: i32 = 143;

impl Signals {
    /// Installs the handlers; call first thing, inside the tokio runtime.
    pub fn install() -> anyhow::Result<Self> {
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
pub async fn launch(app: LockedApp, opts: LaunchOptions, mut signals: Signals) -> anyhow::Result<i32> {
    let start = tokio::task::spawn_blocking(move || start(app, opts));
    let triggers = tokio::select! {
        started = start => started??,
        _ = signals.recv() => {
            eprintln!("signal received while starting; exiting");
            return Ok(EXIT_TERMINATED);
        }
    };
    release_startup_memory();
    let shutdown = Shutdown::new();
    watch_signals(signals, shutdown.clone());
    run_app(triggers, shutdown).await
}

/// Checks triggers, compiles and links the app, and prepares its triggers.
fn start(app: LockedApp, opts: LaunchOptions) -> anyhow::Result<Vec<Box<dyn PreparedTrigger>>> {
    let registry = registry(&TriggerSettings::from_env(opts.http_listen.clone(), opts.guest_args.clone(), &opts.env)?)?;
    registry.check_supported(&app)?;
    let runtime = Runtime::new(&EngineOptions::from_env(&opts.env)?, opts.compile_cache.clone())?;
    let state_dir = match opts.runtime_config.as_ref().and_then(RuntimeConfig::state_dir) {
        Some(configured) => configured,
        None => opts.state_dir,
    };
    let (key_value, sqlite) = labelled_stores(&app, opts.runtime_config.as_ref(), state_dir.as_deref())?;
    let prepared = runtime.prepare(
        app,
        PrepareOptions {
            extra_env: opts.extra_env,
            variable_providers: providers(opts.runtime_config.as_ref(), &opts.env),
            stdio: opts.stdio,
            limits: opts.limits,
            staging_dir: opts.staging_dir,
            content_dir: opts.content_dir,
            trusted_artifacts: opts.trusted_artifacts,
            key_value,
            sqlite,
        },
    )?;
    registry.prepare(&Arc::new(prepared))
}

/// The key-value stores and SQLite databases the app's components list, with
/// Spin's start-up lines for the default ones.
fn labelled_stores(
    app: &LockedApp,
    config: Option<&RuntimeConfig>,
    state_dir: Option<&Path>,
) -> anyhow::Result<(KeyValueStores, SqliteDatabases)> {
    let empty = (BTreeMap::new(), BTreeMap::new());
    let (kv_configs, db_configs) = config.map_or((&empty.0, &empty.1), |c| (&c.key_value_store, &c.sqlite_database));
    let key_value =
        KeyValueStores::key_value(kv_configs, state_dir, app.components.iter().flat_map(|c| c.key_value_stores()))?;
    let sqlite =
        SqliteDatabases::sqlite(db_configs, state_dir, app.components.iter().flat_map(|c| c.sqlite_databases()))?;
    let defaults = [
        ("key-value", kv_configs.contains_key(DEFAULT_LABEL), key_value.get(DEFAULT_LABEL).map(|s| s.describe())),
        ("SQLite", db_configs.contains_key(DEFAULT_LABEL), sqlite.get(DEFAULT_LABEL).map(|d| d.describe())),
    ];
    for (what, configured, place) in defaults {
        if let (false, Some(place)) = (configured, place) {
            println!("Storing default {what} data to {place}.");
        }
    }
    Ok((key_value, sqlite))
}

/// Runtime-config providers in order, then the environment provider.
fn providers(config: Option<&RuntimeConfig>, env: &BTreeMap<String, String>) -> Vec<Box<dyn Provider>> {
    let mut out: Vec<Box<dyn Provider>> = Vec::new();
    for p in config.map(|c| c.variables_provider.as_slice()).unwrap_or_default() {
        match p {
            VariablesProvider::Static { values } => out.push(Box::new(StaticProvider(values.clone()))),
            VariablesProvider::Env { prefix, .. } => out.push(Box::new(EnvProvider::with_prefix(
                prefix.as_deref().unwrap_or("SPIN_VARIABLE"),
                Some(env.clone().into_iter().collect()),
            ))),
            _ => {}
        }
    }
    out.push(Box::new(EnvProvider::from_map(env.clone().into_iter().collect())));
    out
}

/// Hands the heap that compiling and linking used back to the kernel: glibc
/// keeps freed memory for reuse, and an app compiled at start would otherwise
/// carry the compiler's leftovers (6 MiB of a hello app's 38) for its whole life.
fn release_startup_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn watch_signals(mut signals: Signals, shutdown: Shutdown) {
    tokio::spawn(async move {
        signals.recv().await;
        tracing::info!("signal received; shutting down");
        shutdown.cancel();
    });
}
