//! The one path that runs an app, shared by the shim and the CLI: check triggers,
//! compile, prepare triggers, run them until they end or a signal arrives.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use spin_engine::host::key_value::{KeyValueStores, DEFAULT_LABEL};
use spin_engine::host::StdioMode;
use spin_engine::locked::LockedApp;
use spin_engine::runtime::{CompileCache, EngineOptions, PrepareOptions, Runtime};
use spin_engine::runtime_config::{RuntimeConfig, VariablesProvider};
use spin_engine::trigger::{run_app, Shutdown};
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
    /// Per-instance memory cap (`SPIN_MAX_INSTANCE_MEMORY`).
    pub max_instance_memory: Option<usize>,
    /// The state directory unless the runtime config sets `state_dir` (Spin's
    /// `<app dir>/.spin`; none for apps without a local directory).
    pub state_dir: Option<PathBuf>,
}

/// Runs `app` to completion; returns the exit status. SIGTERM and SIGINT stop
/// it gracefully.
pub async fn launch(app: LockedApp, opts: LaunchOptions) -> anyhow::Result<i32> {
    let registry =
        registry(&TriggerSettings { http_listen: opts.http_listen.clone(), guest_args: opts.guest_args.clone() })?;
    registry.check_supported(&app)?;
    let runtime = Runtime::new(&EngineOptions::from_env()?, opts.compile_cache.clone())?;
    let max_instance_memory =
        opts.max_instance_memory.or(opts.runtime_config.as_ref().and_then(|c| c.max_instance_memory));
    let key_value = key_value_stores(&app, opts.runtime_config.as_ref(), opts.state_dir)?;
    let prepared = runtime.prepare(
        app,
        PrepareOptions {
            extra_env: opts.extra_env,
            variable_providers: providers(opts.runtime_config.as_ref(), &opts.env),
            stdio: opts.stdio,
            max_instance_memory,
            staging_dir: opts.staging_dir,
            content_dir: opts.content_dir,
            key_value,
        },
    )?;
    let prepared = Arc::new(prepared);
    let triggers = registry.prepare(&prepared)?;
    let shutdown = Shutdown::new();
    watch_signals(shutdown.clone())?;
    run_app(triggers, shutdown).await
}

/// The key-value stores the app's components list, announced as Spin does.
fn key_value_stores(
    app: &LockedApp,
    config: Option<&RuntimeConfig>,
    default_state_dir: Option<PathBuf>,
) -> anyhow::Result<KeyValueStores> {
    let state_dir = match config.and_then(RuntimeConfig::state_dir) {
        Some(configured) => configured,
        None => default_state_dir,
    };
    let labels: BTreeSet<String> = app.components.iter().flat_map(|c| c.key_value_stores()).collect();
    let empty = BTreeMap::new();
    let configs = config.map(|c| &c.key_value_store).unwrap_or(&empty);
    let stores = KeyValueStores::new(configs, state_dir.as_deref(), labels.iter().map(String::as_str))?;
    if labels.contains(DEFAULT_LABEL) && !configs.contains_key(DEFAULT_LABEL) {
        if let Some(place) = stores.describe(DEFAULT_LABEL) {
            println!("Storing default key-value data to {place}.");
        }
    }
    Ok(stores)
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

fn watch_signals(shutdown: Shutdown) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("signal received; shutting down");
        shutdown.cancel();
    });
    Ok(())
}
