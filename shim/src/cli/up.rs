//! `spin-shim up`: runs an app in this process, printing what `spin up` prints.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use spin_engine::host::{Echo, LogDir, StartupSeeds};
use spin_engine::loader::{load_with, AppSource, LoadOptions, LoadedApp};
use spin_engine::runtime::{CacheKey, CompileCache};
use spin_engine::runtime_config::RuntimeConfig;

use crate::launcher::{launch, LaunchOptions, Signals};
use crate::registry::Registry;
use crate::retain::retain_components;
use crate::settings::{
    cache_max_bytes, listener_vars, reuse_vars, vars, Settings, COMPILE_CACHE_MAX, WASMTIME_POOLING,
};

use super::build::build_app;
use super::variable_arg::{variable_values, VariableArg};

/// Arguments of `up`.
#[derive(Args, Debug)]
pub(crate) struct UpArgs {
    /// The app: a spin.toml, a directory holding one, a locked app JSON, a bare .wasm
    /// (served on route /..., or run as a command when it exports only wasi:cli/run),
    /// or, when no such file exists, a registry reference to pull (`registry/app:v1`).
    #[arg(short = 'f', long = "from", default_value = ".")]
    from: PathBuf,
    /// `--from`, always a file or folder (Spin's hidden `--from-file`).
    #[arg(long, alias = "file", hide = true, conflicts_with_all = ["from", "from_registry"])]
    from_file: Option<PathBuf>,
    /// `--from`, always a registry reference (Spin's hidden `--from-registry`).
    #[arg(long, hide = true, conflicts_with = "from")]
    from_registry: Option<String>,
    /// Run the components' build commands first (as `spin-shim build`); a
    /// registry reference, a locked app or a bare .wasm has nothing to build.
    #[arg(long, env = "SPIN_ALWAYS_BUILD", value_parser = clap::builder::BoolishValueParser::new())]
    build: bool,
    /// Pull a registry reference over plain HTTP (a local registry).
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Address the HTTP trigger listens on; port 0 picks a free port.
    #[arg(long, env = "SPIN_HTTP_LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    listen: String,
    /// When the listen port is taken, try the next nine ports, as `spin up --find-free-port`.
    #[arg(long)]
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    find_free_port: bool,
    /// Environment variable for every component, KEY=VALUE (repeatable).
    #[arg(short = 'e', long = "env", value_parser = super::parse_kv)]
    env: Vec<(String, String)>,
    /// Spin runtime config file (variables providers, max_instance_memory, ...).
    #[arg(long, env = "RUNTIME_CONFIG_FILE")]
    runtime_config_file: Option<PathBuf>,
    /// Directory of compiled components (default: $XDG_CACHE_HOME/spin-shim or ~/.cache/spin-shim).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Compile in memory only; do not read or write the cache.
    #[arg(long, visible_alias = "disable-cache")]
    no_cache: bool,
    /// A value for an app variable, winning over every provider: `name=value`,
    /// `name=@file` (the file's text), or `@file.json` / `@file.toml` (a table
    /// of names to values). Repeatable; the last value of a name wins.
    #[arg(long = "variable", value_parser = super::variable_arg::parse_variable)]
    variables: Vec<VariableArg>,
    /// Sets key=value in the app's default key-value store before it serves
    /// (repeatable; existing values are overwritten).
    #[arg(long = "key-value", value_parser = super::parse_kv)]
    key_values: Vec<(String, String)>,
    /// Runs SQL against the app's default SQLite database before it serves, such
    /// as a migration; `@file.sql` runs a file's statements (repeatable, in order).
    #[arg(long = "sqlite")]
    sqlite: Vec<String>,
    /// The state folder (default key-value store and database, logs); wins over
    /// the runtime config's `state_dir`. Default: `.spin` beside the manifest; an
    /// empty value means none (stores in memory, no log files).
    #[arg(long, value_parser = any_path)]
    state_dir: Option<PathBuf>,
    /// Let guests change their files: each run works on private copies, so
    /// the app's own files never change.
    #[arg(long)]
    allow_transient_write: bool,
    /// Discard guest stdout/stderr (the log files still get them).
    #[arg(short, long)]
    quiet: bool,
    /// Echo only this component's stdout/stderr (repeatable; the log files
    /// still get every component's). By default every component's is echoed.
    #[arg(long = "follow", value_name = "COMPONENT", conflicts_with = "quiet")]
    follow: Vec<String>,
    /// Empty each component's log files before the app starts (they are appended to otherwise).
    #[arg(long)]
    truncate_logs: bool,
    /// Run only this component and the triggers that use it (repeatable); by
    /// default all of them. A kept component may not chain to a dropped one.
    #[arg(short = 'c', long = "component-id", value_name = "COMPONENT")]
    component_ids: Vec<String>,
    /// Folder for each component's `<id>_stdout.txt` and `_stderr.txt` (default: the
    /// runtime config's `log_dir`, else `.spin/logs` in the app's folder); an empty
    /// value turns the files off.
    #[arg(short = 'L', long, env = "SPIN_LOG_DIR",
          value_parser = any_path)]
    log_dir: Option<PathBuf>,
    /// Refuse an app unless every component's `files` entry is a directory
    /// and nothing is excluded, as `spin up --direct-mounts`. Directories are
    /// always mounted as they are here (host edits show at once), with or
    /// without this flag.
    #[arg(long)]
    direct_mounts: bool,
    /// Folder where component files that are not mounted as they are (single
    /// files, patterns, transient-write copies) are placed; by default a private
    /// temporary folder, removed at exit. This folder is kept.
    #[arg(long = "temp", alias = "tmp", value_name = "DIR")]
    temp: Option<PathBuf>,
    /// Allocate each instance's memory when it starts instead of from wasmtime's
    /// pool of slots. Sets SPIN_WASMTIME_POOLING=0.
    #[arg(long)]
    disable_pooling: bool,
    /// The most an HTTP/1 connection buffers of a request's head, in bytes
    /// (at least 8192; a longer head is answered 431). Sets SPIN_HTTP1_MAX_BUF_SIZE.
    #[arg(long)]
    http1_max_buf_size: Option<String>,
    /// Cap on each instance's memories and tables together (bytes, or 128Mi, 1Gi, ...;
    /// default 256Mi). The other limits are read from their SPIN_* variables (README).
    #[arg(long)]
    max_instance_memory: Option<String>,
    /// Requests one WASI 0.3 instance serves before a fresh one is made (default 128;
    /// 1 turns reuse off). A value, or a range such as 1..8 drawn per instance.
    /// WASI 0.2 and Spin 1 components always get a fresh instance per request.
    /// Sets SPIN_MAX_INSTANCE_REUSE_COUNT.
    #[arg(long)]
    max_instance_reuse_count: Option<String>,
    /// Requests one WASI 0.3 instance serves at the same time (default 16; a value or a range).
    /// Sets SPIN_MAX_INSTANCE_CONCURRENT_REUSE_COUNT.
    #[arg(long)]
    max_instance_concurrent_reuse_count: Option<String>,
    /// How long an idle WASI 0.3 instance waits for another request (default 1s; a value or a range).
    /// Sets SPIN_IDLE_INSTANCE_TIMEOUT.
    #[arg(long)]
    idle_instance_timeout: Option<String>,
    /// Longest time one HTTP request may run, host calls included (default 60s; `none`
    /// removes it; a range such as 5s..10s draws one per request). Sets SPIN_HTTP_REQUEST_TIMEOUT.
    #[arg(long)]
    request_timeout: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key). Sets SPIN_TLS_CERT.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<String>,
    /// The PEM private key of --tls-cert. Sets SPIN_TLS_KEY.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<String>,
    /// The named profile to run (`[component.x.profile.<name>]`: its source,
    /// environment and dependencies); by default, the components as written.
    #[arg(long)]
    profile: Option<String>,
    /// How the HTTP trigger prints its routes at start: Spin's lines (`plain`) or
    /// one JSON object (`json`: `base_url`, and each route's id, route,
    /// wildcard and description).
    #[arg(long, value_enum, default_value_t = Format::Plain)]
    format: Format,
    /// Arguments for a command component (after `--`).
    #[arg(last = true)]
    guest_args: Vec<String>,
}

impl UpArgs {
    /// Loads and runs the app until it ends or a signal arrives.
    pub(crate) fn run(mut self) -> anyhow::Result<i32> {
        // A pulled app's content lives as long as the run.
        let (mut loaded, pulled) = self.load()?;
        if !self.component_ids.is_empty() {
            let keep: Vec<&str> = self.component_ids.iter().map(String::as_str).collect();
            retain_components(&mut loaded.locked, &keep)?;
        }
        let echo = echo(self.quiet, std::mem::take(&mut self.follow), &loaded.locked)?;
        let runtime_config = self.runtime_config_file.as_deref().map(RuntimeConfig::from_file).transpose()?;
        let env = self.environment();
        let compile_cache = self.compile_cache(&env)?;
        let settings = self.settings(&env, runtime_config.as_ref())?;
        // Private (0700, random name): another local user cannot swap staged files.
        let staging = match &self.temp {
            Some(dir) => {
                std::fs::create_dir_all(dir).with_context(|| format!("--temp: cannot create {}", dir.display()))?;
                None
            }
            None => Some(tempfile::Builder::new().prefix("spin-shim-").tempdir()?),
        };
        let staging_dir = self.temp.clone().or_else(|| staging.as_ref().map(|dir| dir.path().to_path_buf()));
        let opts = LaunchOptions {
            variables: variable_values(&self.variables)?,
            seeds: StartupSeeds { key_values: self.key_values, sqlite_statements: sql_texts(&self.sqlite)? },
            state_dir: self.state_dir,
            extra_env: self.env,
            env,
            runtime_config,
            echo,
            log_dir: self.log_dir.map(LogDir::At).unwrap_or(LogDir::StateDefault),
            truncate_logs: self.truncate_logs,
            compile_cache,
            staging_dir,
            allow_transient_write: self.allow_transient_write,
            settings,
        };
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let result = rt.block_on(async { launch(loaded, opts, Signals::install()?).await });
        // Do not wait for a compilation a signal interrupted: it has nothing left to give.
        rt.shutdown_background();
        drop(staging);
        drop(pulled);
        result
    }

    /// The app, built first with `--build`, or pulled from a registry into a
    /// temporary folder returned beside it.
    fn load(&mut self) -> anyhow::Result<(LoadedApp, Option<tempfile::TempDir>)> {
        let reference = match (self.from_registry.take(), self.from_file.take()) {
            (Some(reference), _) => Some(reference),
            (None, Some(file)) => {
                self.from = file;
                None
            }
            (None, None) => {
                self.from.to_str().filter(|from| !self.from.exists() && is_reference(from)).map(String::from)
            }
        };
        if let Some(reference) = reference {
            anyhow::ensure!(!self.direct_mounts, "--direct-mounts cannot be used with a registry app");
            let dir = tempfile::Builder::new().prefix("spin-shim-pull-").tempdir()?;
            let loaded = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(Registry::new(self.insecure).pull(&reference, dir.path()))?;
            return Ok((loaded, Some(dir)));
        }
        let source = AppSource::detect(&self.from);
        if let Some(manifest) = source.manifest().filter(|_| self.build) {
            build_app(&manifest, self.profile.as_deref(), &[])?;
        }
        let options = LoadOptions {
            profile: self.profile.clone(),
            direct_mounts_only: self.direct_mounts,
            ..LoadOptions::default()
        };
        Ok((load_with(&source, &options)?, None))
    }

    /// The user's compile cache (its key beside it, private to the user,
    /// bounded by `SPIN_COMPILE_CACHE_MAX`), or none.
    fn compile_cache(&mut self, env: &BTreeMap<String, String>) -> anyhow::Result<CompileCache> {
        if self.no_cache {
            return Ok(CompileCache::disabled());
        }
        let max_bytes = cache_max_bytes(env, COMPILE_CACHE_MAX)?;
        let dir = self.cache_dir.take().unwrap_or_else(default_cache_dir);
        let key = CacheKey::load_or_create(&dir.join(".cache.key"))?;
        Ok(CompileCache::private(dir, std::sync::Arc::new(key)).with_max_bytes(max_bytes))
    }

    /// The process environment with the flags that stand for variables set in
    /// it: flags win, and both are read (and checked) by the same settings code.
    fn environment(&mut self) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = std::env::vars().collect();
        for (var, flag) in [
            (vars::MAX_INSTANCE_MEMORY, self.max_instance_memory.take()),
            (reuse_vars::MAX_INSTANCE_REUSE_COUNT, self.max_instance_reuse_count.take()),
            (reuse_vars::MAX_INSTANCE_CONCURRENT_REUSE_COUNT, self.max_instance_concurrent_reuse_count.take()),
            (reuse_vars::IDLE_INSTANCE_TIMEOUT, self.idle_instance_timeout.take()),
            (vars::HTTP_REQUEST_TIMEOUT, self.request_timeout.take()),
            (listener_vars::TLS_CERT, self.tls_cert.take()),
            (listener_vars::TLS_KEY, self.tls_key.take()),
            (listener_vars::HTTP1_MAX_BUF_SIZE, self.http1_max_buf_size.take()),
            (WASMTIME_POOLING, self.disable_pooling.then(|| "0".to_string())),
        ] {
            if let Some(value) = flag {
                env.insert(var.to_string(), value);
            }
        }
        env
    }

    /// The settings `env` gives, with the HTTP flags that have no variable.
    fn settings(&mut self, env: &BTreeMap<String, String>, config: Option<&RuntimeConfig>) -> anyhow::Result<Settings> {
        let guest_args = std::mem::take(&mut self.guest_args);
        #[cfg_attr(not(feature = "http"), allow(unused_mut))]
        let mut settings = Settings::from_env(env, self.listen.clone(), guest_args, None, config)?;
        #[cfg(feature = "http")]
        {
            use spin_trigger_http::{BannerFormat, FreePortSearch};
            if self.format == Format::Json {
                settings.triggers.http.banner = BannerFormat::Json;
            }
            settings.triggers.http.find_free_port =
                if self.find_free_port { FreePortSearch::On } else { FreePortSearch::Off };
        }
        Ok(settings)
    }
}

/// Whose output is echoed: Spin's `-q` and `--follow`, a followed id checked
/// against the app's components with Spin's message.
fn echo(quiet: bool, follow: Vec<String>, app: &spin_engine::locked::LockedApp) -> anyhow::Result<Echo> {
    use std::collections::BTreeSet;
    if quiet {
        return Ok(Echo::None);
    }
    if follow.is_empty() {
        return Ok(Echo::All);
    }
    let followed: BTreeSet<String> = follow.into_iter().collect();
    let existing: BTreeSet<&str> = app.components.iter().map(|c| c.id.as_str()).collect();
    let unknown: Vec<&str> = followed.iter().map(String::as_str).filter(|id| !existing.contains(id)).collect();
    if !unknown.is_empty() {
        let list =
            |ids: &mut dyn Iterator<Item = &str>| ids.map(|id| format!("  - {id}")).collect::<Vec<_>>().join("\n");
        anyhow::bail!(
            "The following component(s) specified in --follow do not exist in the application:\n{}\n\
             The following components exist:\n{}",
            list(&mut unknown.into_iter()),
            list(&mut existing.into_iter())
        );
    }
    Ok(Echo::Only(followed))
}

/// A path flag that may be empty (clap's own path parser refuses `""`, which
/// these flags take as "none").
fn any_path(value: &str) -> Result<PathBuf, std::convert::Infallible> {
    Ok(PathBuf::from(value))
}

/// The SQL of each `--sqlite` argument: the text itself, or a file's (`@file`).
fn sql_texts(args: &[String]) -> anyhow::Result<Vec<String>> {
    args.iter()
        .map(|arg| match arg.strip_prefix('@') {
            Some(file) => std::fs::read_to_string(file).with_context(|| format!("--sqlite: cannot read {file}")),
            None => Ok(arg.clone()),
        })
        .collect()
}

/// The start-up output formats of `up --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Plain,
    Json,
}

/// Whether `from` names an image in a registry: `host[:port]/repository[:tag]`,
/// the host holding a `.` or a port, or being `localhost`.
fn is_reference(from: &str) -> bool {
    from.split_once('/').is_some_and(|(host, rest)| {
        !rest.is_empty() && (host.contains('.') || host.contains(':') || host == "localhost")
    })
}

fn default_cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("spin-shim")
}
