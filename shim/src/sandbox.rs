//! runwasi's `Sandbox`: runs inside the container's init process (namespaces and
//! cgroups applied), loads the app and runs its triggers.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use containerd_shim_wasm::sandbox::context::{RuntimeContext, Source};
use containerd_shim_wasm::sandbox::Sandbox;

use spin_engine::host::{Echo, LogDir};
use spin_engine::loader::{download_cache_dir, LoadOptions};
use spin_engine::runtime::CompileCache;
use spin_engine::runtime_config::RuntimeConfig;

use crate::app_source::resolve;
use crate::container_env;
use crate::launcher::{launch, LaunchOptions, Signals};
use crate::retain::retain_components;
use crate::settings::{cgroup_memory_limit, Settings};
use crate::{node_cache, node_key, termination_message};

/// HTTP listen address in a container unless `SPIN_HTTP_LISTEN_ADDR` says otherwise.
pub(crate) const SHIM_DEFAULT_LISTEN: &str = "0.0.0.0:80";

/// Where an app's runtime config is mounted (usually a ConfigMap).
pub(crate) const RUNTIME_CONFIG_PATH: &str = "/runtime-config.toml";

/// The state directory in a container (the default key-value store lives there);
/// mount a volume here to keep it across restarts.
pub(crate) const STATE_DIR: &str = "/.spin";

/// The per-container sandbox.
#[derive(Default)]
pub struct SpinSandbox;

impl Sandbox for SpinSandbox {
    async fn run_wasi(&self, ctx: &impl RuntimeContext) -> anyhow::Result<i32> {
        // First thing: this process is PID 1 of the container, which ignores
        // SIGTERM without a handler, and a Pod deleted while compiling must go now.
        let signals = Signals::install()?;
        // Read once into a value passed down: the process environment is never
        // changed (threads exist already, so `set_var` would be unsound).
        let env = container_env::parse(ctx.envs());
        crate::logging::init(env.get("RUST_LOG").map(String::as_str));
        match run(ctx, env, signals).await {
            Ok(code) => Ok(code),
            Err(e) => {
                // One line the operator can act on, in the container's log and
                // as the Pod's termination message.
                let line = format!("Error: {e:#}");
                eprintln!("{line}");
                termination_message::write(Path::new(termination_message::DEFAULT_PATH), &line);
                Ok(1)
            }
        }
    }

    async fn can_handle(&self, _ctx: &impl RuntimeContext) -> anyhow::Result<()> {
        // The entrypoint of a Spin image is `/`, not a wasm file.
        Ok(())
    }
}

async fn run(
    ctx: &impl RuntimeContext,
    env: std::collections::BTreeMap<String, String>,
    signals: Signals,
) -> anyhow::Result<i32> {
    let scratch = scratch_dir(&env);
    let source = ctx.entrypoint().source;
    // OCI content is always written out; a rootfs app needs a writable folder only
    // to stage files, so `readOnlyRootFilesystem` works without one otherwise.
    // Only a rootfs spin.toml downloads `{ url, digest }` sources (into the node's
    // cache); an OCI artifact carries them as layers, so its start makes no folder.
    let (work_dir, node_downloads) = match source {
        Source::Oci(_) => (scratch.clone().map_err(anyhow::Error::msg)?, None),
        Source::File(_) => (scratch.clone().unwrap_or_else(|_| PathBuf::from("/")), node_cache::downloads()),
    };
    let load = LoadOptions {
        downloads: node_downloads.unwrap_or_else(download_cache_dir),
        profile: env.get("SPIN_PROFILE").filter(|p| !p.is_empty()).cloned(),
        wasm_pkg_config: Some(container_env::wasm_pkg_config(&env)),
        remote: Default::default(),
        direct_mounts_only: false,
    };
    let mut app = resolve(source, Path::new("/"), &work_dir, &load)?;
    if let Some(ids) = env.get("SPIN_COMPONENTS_TO_RETAIN").filter(|s| !s.is_empty()) {
        let keep: Vec<&str> = ids.split(',').map(str::trim).filter(|id| !id.is_empty()).collect();
        retain_components(&mut app.locked, &keep).context("SPIN_COMPONENTS_TO_RETAIN")?;
    }
    let env = container_env::with_variable_aliases(&app.locked, env);
    let locked_has_files = app.locked.components.iter().any(|c| !c.files.is_empty());
    let runtime_config = Path::new(RUNTIME_CONFIG_PATH)
        .is_file()
        .then(|| RuntimeConfig::from_file(Path::new(RUNTIME_CONFIG_PATH)))
        .transpose()?;
    let http_listen = env.get("SPIN_HTTP_LISTEN_ADDR").cloned().unwrap_or_else(|| SHIM_DEFAULT_LISTEN.to_string());
    // argv[0] is the entrypoint (`/`); the rest goes to a command component.
    let guest_args = ctx.args().iter().skip(1).cloned().collect();
    let settings = Settings::from_env(&env, http_listen, guest_args, cgroup_memory_limit(), runtime_config.as_ref())?;
    // A Pod's own cache folder (SPIN_COMPILE_CACHE_DIR: others may write it),
    // else the node's (only the shim can).
    let (cache_dir, private) = match env.get("SPIN_COMPILE_CACHE_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => (Ok(std::path::PathBuf::from(dir)), false),
        None => (node_cache::path(), true),
    };
    let compile_cache = match (cache_dir, node_key::get()) {
        (Ok(dir), Ok(key)) if private => CompileCache::private(dir, key),
        (Ok(dir), Ok(key)) => CompileCache::at(dir, key),
        (Ok(dir), Err(why)) => {
            eprintln!("Warning: not using the compile cache {}: {why}", dir.display());
            CompileCache::disabled()
        }
        (Err(why), _) => {
            tracing::debug!("no compile cache: {why}");
            CompileCache::disabled()
        }
    };
    launch(
        app,
        LaunchOptions {
            extra_env: vec![],
            env,
            runtime_config,
            variables: Default::default(),
            seeds: Default::default(),
            state_dir: None,
            echo: Echo::All,
            // The container's output is its log; a runtime config's `log_dir` adds files.
            log_dir: LogDir::Unset,
            truncate_logs: false,
            compile_cache,
            staging_dir: match (&scratch, locked_has_files) {
                (Ok(dir), _) => Some(dir.join("files")),
                (Err(why), true) => anyhow::bail!("{why}"),
                (Err(_), false) => None,
            },
            // A container's files stay read-only.
            allow_transient_write: false,
            settings,
        },
        signals,
    )
    .await
}

/// A writable scratch directory inside the container: the container's `$TMPDIR`,
/// `/tmp`, or `/.spin`; or, with `readOnlyRootFilesystem` and none of them
/// mounted, the one line that says what to mount.
fn scratch_dir(env: &std::collections::BTreeMap<String, String>) -> Result<PathBuf, String> {
    let candidates = [env.get("TMPDIR").map(PathBuf::from), Some("/tmp".into()), Some(STATE_DIR.into())];
    for dir in candidates.into_iter().flatten() {
        let d = dir.join("spin-shim");
        if std::fs::create_dir_all(&d).is_ok() && tempfile::tempfile_in(&d).is_ok() {
            return Ok(d);
        }
    }
    Err("no writable folder for the app's files: the root filesystem is read-only (readOnlyRootFilesystem); \
         mount an emptyDir at /tmp"
        .to_string())
}
