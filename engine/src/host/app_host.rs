//! The host side of one app, built once at start from the locked app, the
//! runtime config and the runner's settings: the app's variables, every
//! capability's app stage, and for each component the template its instances
//! are stamped from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use super::capability::{AppInputs, ComponentInputs};
use super::outbound::{install_crypto_provider, LocalRoutes, OutboundNetworking, SocketRules};
use super::seeds::StartupSeeds;
use super::state::{InstanceBasics, InstanceTemplate};
use super::stdio::{ComponentLogs, Echo, LogDir, OutputRoutes};
use super::wasi::WasiTemplate;
use super::AppCapabilities;
use crate::allowed_hosts::AllowedHosts;
use crate::limits::GuestLimits;
use crate::loader::staging::prepare_mounts;
use crate::locked::{LockedApp, LockedComponent};
use crate::runtime_config::{RuntimeConfig, VariablesProvider};
use crate::telemetry::{AppLogs, GuestTelemetry};
use crate::variables::{EnvProvider, Provider, StaticProvider, VariableResolver, DEFAULT_ENV_PREFIX};

/// Spin's dotenv file, read from the working directory by the environment
/// variable provider.
const DOTENV_FILE: &str = ".env";

/// The runner's settings for the host side of an app.
#[derive(Default)]
pub struct HostOptions {
    /// The parsed runtime config, if the app has one.
    pub runtime_config: Option<RuntimeConfig>,
    /// The state directory unless the runtime config sets `state_dir` (Spin's
    /// `<app dir>/.spin`; none for apps without a local directory).
    pub state_dir: Option<PathBuf>,
    /// The runner's explicit state directory (`--state-dir`), which wins over
    /// the runtime config; an empty path means none.
    pub state_dir_flag: Option<PathBuf>,
    /// The environment variable providers read (`SPIN_VARIABLE_*`, or a
    /// runtime config's own prefix).
    pub env: BTreeMap<String, String>,
    /// What goes into the default store and database at start (`--key-value`, `--sqlite`).
    pub seeds: StartupSeeds,
    /// App variable values that win over every provider (`--variable`).
    pub variables: BTreeMap<String, String>,
    /// `KEY=VALUE` pairs appended to every component's environment (`-e`).
    pub extra_env: Vec<(String, String)>,
    /// Which components' stdout/stderr the process echoes.
    pub echo: Echo,
    /// The runner's log folder for each component's stdout and stderr files.
    pub log_dir: LogDir,
    /// Whether the log files are emptied at start (`--truncate-logs`).
    pub truncate_logs: bool,
    /// Directory where file mounts that need it are staged (hard links); a
    /// private folder under the system's temporary directory when unset.
    pub staging_dir: Option<PathBuf>,
    /// Directory holding content addressed by digest (`<dir>/<digest>`), for OCI apps.
    pub content_dir: Option<PathBuf>,
    /// Whether guests may change their files (private copies for this run;
    /// `spin up --allow-transient-write`).
    pub allow_transient_write: bool,
    /// Where guests' own spans (`wasi:otel/tracing`), metrics, output lines
    /// and log records go, for what the app exports.
    pub guest_telemetry: GuestTelemetry,
    /// The authority (`host:port`) that guests' plain HTTP requests reach over
    /// HTTP/2 with prior knowledge (`SPIN_OUTBOUND_H2C_PRIOR_KNOWLEDGE`), if any.
    pub h2c_authority: Option<String>,
}

/// The app's host side: variables, capabilities, and per-component templates.
pub(crate) struct AppHost {
    capabilities: AppCapabilities,
    variables: VariableResolver,
    extra_env: Vec<(String, String)>,
    echo: Echo,
    log_dir: Option<PathBuf>,
    truncate_logs: bool,
    log_records: Option<AppLogs>,
    staging_dir: PathBuf,
    content_dir: Option<PathBuf>,
    allow_transient_write: bool,
    max_instance_memory: u64,
    max_outbound_connections: usize,
    networking: OutboundNetworking,
    local_routes: LocalRoutes,
}

impl AppHost {
    /// Resolves the app's variables and builds every capability's app stage
    /// (stores are opened, Spin's "Storing default ..." lines printed).
    pub(crate) fn new(app: &LockedApp, options: HostOptions, limits: &GuestLimits) -> anyhow::Result<Self> {
        let empty = RuntimeConfig::default();
        let config = options.runtime_config.as_ref().unwrap_or(&empty);
        let variables = VariableResolver::new(&app.variables, providers(&options.variables, config, &options.env)?);
        variables.validate()?;
        let state_dir = match options.state_dir_flag {
            Some(flag) => Some(flag).filter(|dir| !dir.as_os_str().is_empty()),
            None => config.state_dir().or(options.state_dir),
        };
        let log_dir = options.log_dir.resolve(config.log_dir(), state_dir.as_deref());
        if let Some(dir) = &log_dir {
            eprintln!("Logging component stdio to {:?}", format!("{}/", dir.display()));
        }
        if let Some(summary) = config.summary() {
            eprintln!("{summary}");
        }
        let capabilities = AppCapabilities::new(&AppInputs {
            app,
            config,
            state_dir: state_dir.as_deref(),
            seeds: &options.seeds,
            guest_telemetry: &options.guest_telemetry,
        })?;
        let networking = OutboundNetworking::from_config(config, options.h2c_authority.as_deref())?;
        install_crypto_provider();
        // Created only if a component has files to stage; a random name, so
        // nobody can prepare the folder in advance.
        let staging_dir = match options.staging_dir {
            Some(dir) => dir,
            None => std::env::temp_dir().join(format!("spin-staging-{}", random_suffix())),
        };
        Ok(Self {
            capabilities,
            variables,
            extra_env: options.extra_env,
            echo: options.echo,
            log_dir,
            truncate_logs: options.truncate_logs,
            log_records: options.guest_telemetry.logs.clone(),
            staging_dir,
            content_dir: options.content_dir,
            allow_transient_write: options.allow_transient_write,
            max_instance_memory: limits.max_instance_memory,
            max_outbound_connections: limits.max_outbound_connections,
            networking,
            local_routes: LocalRoutes::default(),
        })
    }

    /// The template every instance of `component` is stamped from.
    pub(crate) fn template(&self, component: &LockedComponent) -> anyhow::Result<InstanceTemplate> {
        let id = &component.id;
        let allowed_hosts = Arc::new(
            AllowedHosts::parse(&component.allowed_outbound_hosts(), |t| self.variables.render(t))
                .with_context(|| format!("component `{id}`: invalid allowed_outbound_hosts"))?,
        );
        let component_id: Arc<str> = id.as_str().into();
        let capabilities = self.capabilities.component(&ComponentInputs {
            component,
            component_id: &component_id,
            variables: &self.variables,
        })?;
        let sockets = SocketRules::of(&allowed_hosts, &self.networking.blocked);
        let basics = InstanceBasics {
            component_id,
            allowed_hosts,
            networking: self.networking.clone(),
            http_client: self.networking.http.for_component(&self.networking.tls.for_component(id)),
            wasi: self.wasi(component, sockets).with_context(|| format!("component `{id}`: preparing files"))?,
            max_instance_memory: self.max_instance_memory,
            max_outbound_connections: self.max_outbound_connections,
            local_routes: self.local_routes.clone(),
        };
        Ok(InstanceTemplate::new(basics, capabilities))
    }

    /// The folder of content addressed by digest, for OCI apps.
    pub(crate) fn content_dir(&self) -> Option<&std::path::Path> {
        self.content_dir.as_deref()
    }

    /// Where the HTTP trigger registers the app's routes for requests that
    /// stay inside the app.
    pub(crate) fn local_routes(&self) -> &LocalRoutes {
        &self.local_routes
    }

    /// The app's variables (for rendering trigger settings).
    pub(crate) fn into_variables(self) -> VariableResolver {
        self.variables
    }

    fn wasi(&self, component: &LockedComponent, sockets: Option<SocketRules>) -> anyhow::Result<WasiTemplate> {
        Ok(WasiTemplate {
            env: component
                .env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .chain(self.extra_env.iter().cloned())
                .collect(),
            mounts: prepare_mounts(
                component,
                &self.staging_dir,
                self.content_dir.as_deref(),
                self.allow_transient_write,
            )?,
            output: OutputRoutes {
                mode: self.echo.mode_for(&component.id),
                files: self
                    .log_dir
                    .as_deref()
                    .map(|dir| ComponentLogs::open(dir, &component.id, self.truncate_logs))
                    .transpose()?,
                records: self
                    .log_records
                    .as_ref()
                    .map(|logs| (logs.output(&component.id, "stdout"), logs.output(&component.id, "stderr"))),
            },
            sockets,
        })
    }
}

/// Checks every table of `config` that a capability serves (each capability
/// parses its own), without opening anything.
pub fn check_runtime_config(config: &RuntimeConfig) -> anyhow::Result<()> {
    let app = LockedApp::default();
    AppCapabilities::new(&AppInputs {
        app: &app,
        config,
        state_dir: None,
        seeds: &StartupSeeds::default(),
        guest_telemetry: &GuestTelemetry::default(),
    })?;
    OutboundNetworking::from_config(config, None).map(drop)
}

/// The runner's own values (`--variable`), the runtime config's variable
/// providers in order, then the environment provider, which also reads Spin's
/// `.env` file in the working directory.
fn providers(
    variables: &BTreeMap<String, String>,
    config: &RuntimeConfig,
    env: &BTreeMap<String, String>,
) -> anyhow::Result<Vec<Box<dyn Provider>>> {
    let mut out: Vec<Box<dyn Provider>> = Vec::new();
    if !variables.is_empty() {
        out.push(Box::new(StaticProvider(variables.clone())));
    }
    for provider in &config.variables_provider {
        match provider {
            VariablesProvider::Static { values } => out.push(Box::new(StaticProvider(values.clone()))),
            VariablesProvider::Env { prefix, dotenv_path } => {
                let mut provider = EnvProvider::with_prefix(
                    prefix.as_deref().unwrap_or(DEFAULT_ENV_PREFIX),
                    env.clone().into_iter().collect(),
                );
                if let Some(path) = dotenv_path {
                    provider = provider.with_dotenv(path)?;
                }
                out.push(Box::new(provider));
            }
            _ => {}
        }
    }
    let default = EnvProvider::from_map(env.clone().into_iter().collect()).with_dotenv(Path::new(DOTENV_FILE))?;
    out.push(Box::new(default));
    Ok(out)
}

/// 16 hex digits from the kernel's random source.
fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    hex::encode(bytes)
}
