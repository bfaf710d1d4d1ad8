//! runwasi's `Sandbox`: runs inside the container's init process (namespaces and
//! cgroups applied), loads the app and runs its triggers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use anyhow::Context as _;

use containerd_shim_wasm::sandbox::context::{RuntimeContext, Source};
use containerd_shim_wasm::sandbox::Sandbox;

use spin_engine::host::{Echo, LogDir};
use spin_engine::loader::{download_cache_dir, LoadOptions, LoadedApp};
use spin_engine::runtime::CompileCache;
use spin_engine::runtime_config::RuntimeConfig;

use crate::app_source::resolve;
use crate::container_env;
use crate::launcher::{launch_prepared, prepare, LaunchOptions, Signals, StartUp};
use crate::retain::retain_components;
use crate::settings::{cache_max_bytes, cgroup_memory_limit, Settings, COMPILE_CACHE_MAX};
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
pub struct SpinSandbox {
    /// The app's start, begun by [`Sandbox::can_handle`] before containerd's
    /// Start request; [`Sandbox::run_wasi`] takes it over.
    early_start: Mutex<Option<StartUp>>,
}

impl Sandbox for SpinSandbox {
    async fn run_wasi(&self, ctx: &impl RuntimeContext) -> anyhow::Result<i32> {
        // First thing: this process is PID 1 of the container, which ignores
        // SIGTERM without a handler, and a Pod deleted while compiling must go now.
        let signals = Signals::install()?;
        let early = self.early_start.lock().unwrap_or_else(PoisonError::into_inner).take();
        let start_up = early.unwrap_or_else(|| begin(ctx));
        match launch_prepared(start_up, signals).await {
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

    /// runwasi asks this in the container's init process once the container is
    /// set up (namespaces, cgroups, root filesystem, seccomp) and before it waits
    /// for containerd's Start. The app's start begins here, on a thread, so that
    /// loading, compiling and linking it overlap the Create -> Start round trip;
    /// `run_wasi` waits for it after Start and reports its errors, as before.
    /// Nothing binds, connects or serves before Start.
    async fn can_handle(&self, ctx: &impl RuntimeContext) -> anyhow::Result<()> {
        let start_up = begin(ctx);
        *self.early_start.lock().unwrap_or_else(PoisonError::into_inner) = Some(start_up);
        // The entrypoint of a Spin image is `/`, not a wasm file: any image will do.
        Ok(())
    }
}

/// Begins the app's start on a blocking thread of runwasi's runtime, with what
/// it needs from `ctx` copied out (an OCI artifact's layers, borrowed from
/// runwasi, are written out first).
fn begin(ctx: &impl RuntimeContext) -> StartUp {
    // Read once into a value passed down: the process environment is never
    // changed (threads exist already, so `set_var` would be unsound).
    let env = container_env::parse(ctx.envs());
    crate::logging::init(env.get("RUST_LOG").map(String::as_str));
    // argv[0] is the entrypoint (`/`); the rest goes to a command component.
    let guest_args: Vec<String> = ctx.args().iter().skip(1).cloned().collect();
    let scratch = scratch_dir(&env);
    let app = match ctx.entrypoint().source {
        Source::File(entry) => AppInput::Rootfs(entry.to_path_buf()),
        // OCI content is always written out; a rootfs app needs a writable folder only
        // to stage files, so `readOnlyRootFilesystem` works without one otherwise.
        Source::Oci(layers) => {
            AppInput::Unpacked(Box::new(scratch.clone().map_err(anyhow::Error::msg).and_then(|dir| {
                resolve(Source::Oci(layers), Path::new("/"), &dir, &load_options(&env, download_cache_dir()))
            })))
        }
    };
    tokio::task::spawn_blocking(move || {
        let (app, options) = launch_options(app, env, guest_args, scratch)?;
        prepare(app, options)
    })
}

/// Where a container's app comes from.
enum AppInput {
    /// A rootfs image: `spin.toml` at `/`, or the entrypoint as a bare wasm.
    Rootfs(PathBuf),
    /// An OCI artifact's layers, already written out and loaded.
    Unpacked(Box<anyhow::Result<LoadedApp>>),
}

/// Loads a container's app and reads its settings from the container's
/// environment, runtime config and cgroup.
fn launch_options(
    input: AppInput,
    env: BTreeMap<String, String>,
    guest_args: Vec<String>,
    scratch: Result<PathBuf, String>,
) -> anyhow::Result<(LoadedApp, LaunchOptions)> {
    let mut app = match input {
        AppInput::Unpacked(app) => (*app)?,
        AppInput::Rootfs(entry) => {
            // Only a rootfs spin.toml downloads `{ url, digest }` sources (into the
            // node's cache); an OCI artifact carries them as layers.
            let work_dir = scratch.clone().unwrap_or_else(|_| PathBuf::from("/"));
            let downloads = node_cache::downloads().unwrap_or_else(download_cache_dir);
            resolve(Source::File(entry), Path::new("/"), &work_dir, &load_options(&env, downloads))?
        }
    };
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
    let settings = Settings::from_env(&env, http_listen, guest_args, cgroup_memory_limit(), runtime_config.as_ref())?;
    let options = LaunchOptions {
        extra_env: vec![],
        compile_cache: compile_cache(&env)?,
        env,
        runtime_config,
        variables: Default::default(),
        seeds: Default::default(),
        state_dir: None,
        echo: Echo::All,
        // The container's output is its log; a runtime config's `log_dir` adds files.
        log_dir: LogDir::Unset,
        truncate_logs: false,
        staging_dir: match (&scratch, locked_has_files) {
            (Ok(dir), _) => Some(dir.join("files")),
            (Err(why), true) => anyhow::bail!("{why}"),
            (Err(_), false) => None,
        },
        // A container's files stay read-only.
        allow_transient_write: false,
        settings,
    };
    Ok((app, options))
}

/// How a container's spin.toml is loaded: `{ url, digest }` sources go to `downloads`.
fn load_options(env: &BTreeMap<String, String>, downloads: PathBuf) -> LoadOptions {
    LoadOptions {
        downloads,
        profile: env.get("SPIN_PROFILE").filter(|p| !p.is_empty()).cloned(),
        wasm_pkg_config: Some(container_env::wasm_pkg_config(env)),
        remote: Default::default(),
        direct_mounts_only: false,
    }
}

/// A Pod's own cache folder (SPIN_COMPILE_CACHE_DIR: others may write it,
/// bounded by SPIN_COMPILE_CACHE_MAX), else the node's (only the shim can).
fn compile_cache(env: &BTreeMap<String, String>) -> anyhow::Result<CompileCache> {
    let (cache_dir, private) = match env.get("SPIN_COMPILE_CACHE_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => (Ok(PathBuf::from(dir)), false),
        None => (node_cache::path(), true),
    };
    let max_bytes = if private { node_cache::max_bytes() } else { cache_max_bytes(env, COMPILE_CACHE_MAX)? };
    Ok(match (cache_dir, node_key::get()) {
        (Ok(dir), Ok(key)) if private => CompileCache::private(dir, key).with_max_bytes(max_bytes),
        (Ok(dir), Ok(key)) => CompileCache::at(dir, key).with_max_bytes(max_bytes),
        (Ok(dir), Err(why)) => {
            eprintln!("Warning: not using the compile cache {}: {why}", dir.display());
            CompileCache::disabled()
        }
        (Err(why), _) => {
            tracing::debug!("no compile cache: {why}");
            CompileCache::disabled()
        }
    })
}

/// A writable scratch directory inside the container: the container's `$TMPDIR`,
/// `/tmp`, or `/.spin`; or, with `readOnlyRootFilesystem` and none of them
/// mounted, the one line that says what to mount.
fn scratch_dir(env: &BTreeMap<String, String>) -> Result<PathBuf, String> {
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
