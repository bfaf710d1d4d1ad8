//! Spin's HTTP trigger as a plugin of the engine: a hyper server with Spin's
//! routing, `spin-*` headers, well-known endpoints and guest executors.

pub mod banner;
pub mod body;
pub mod config;
pub mod executor;
pub mod headers;
mod listen;
pub mod routes;
pub mod server;
pub mod well_known;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use spin_engine::limits::{env_count, env_duration};

use futures::future::BoxFuture;
use spin_engine::runtime::PreparedApp;
use spin_engine::trigger::{PreparedTrigger, Shutdown, TriggerPlugin};

use crate::banner::RouteLine;
use crate::config::{HttpTriggerConfig, Target};
use crate::routes::{Route, Router};
use crate::server::{Handler, Server};

pub use listen::{parse_listen_addr, CLI_DEFAULT_LISTEN, SHIM_DEFAULT_LISTEN};

/// Settings of the HTTP trigger that come from the host, not the manifest. The
/// per-request deadline and the cap on concurrent requests are the app's
/// [`spin_engine::limits::GuestLimits`].
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Address to listen on (`SPIN_HTTP_LISTEN_ADDR`); port 0 picks a free port.
    pub listen: String,
    /// How long in-flight requests may run after SIGTERM (`SPIN_HTTP_SHUTDOWN_TIMEOUT`, 25s).
    pub shutdown_timeout: Duration,
    /// Limits on clients' connections.
    pub connections: ConnectionLimits,
}

/// Bounds on what a client's connection may hold.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// Time a client has to send a request's headers, and the longest an idle
    /// keep-alive connection stays open (`SPIN_HTTP_HEADER_READ_TIMEOUT`, 10s).
    pub header_read_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog
    /// (`SPIN_HTTP_MAX_CONNECTIONS`, 1024).
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self { header_read_timeout: Duration::from_secs(10), max_connections: 1024 }
    }
}

impl HttpOptions {
    /// Options with `listen` and the other values from their documented variables in `env`.
    pub fn from_env(listen: String, env: &BTreeMap<String, String>) -> anyhow::Result<Self> {
        let defaults = ConnectionLimits::default();
        let connections = ConnectionLimits {
            header_read_timeout: env_duration(env, "SPIN_HTTP_HEADER_READ_TIMEOUT")?
                .unwrap_or(defaults.header_read_timeout),
            max_connections: env_count(env, "SPIN_HTTP_MAX_CONNECTIONS")?.unwrap_or(defaults.max_connections),
        };
        Ok(Self {
            listen,
            shutdown_timeout: env_duration(env, "SPIN_HTTP_SHUTDOWN_TIMEOUT")?.unwrap_or(Duration::from_secs(25)),
            connections,
        })
    }
}

/// The HTTP trigger plugin.
pub struct HttpTrigger {
    options: HttpOptions,
}

impl HttpTrigger {
    /// A plugin with the given host options.
    pub fn new(options: HttpOptions) -> Self {
        Self { options }
    }
}

impl TriggerPlugin for HttpTrigger {
    fn trigger_type(&self) -> &'static str {
        "http"
    }

    fn prepare(&self, app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
        let locked = app.locked();
        let mut entries = Vec::new();
        let mut handlers = Vec::new();
        let mut lines = Vec::new();
        for trigger in locked.triggers.iter().filter(|t| t.trigger_type == "http") {
            let cfg = HttpTriggerConfig::parse(&trigger.id, &trigger.trigger_config)?;
            let target = cfg.target();
            let index = handlers.len();
            handlers.push(Handler::new(target.clone(), app)?);
            let Some(raw) = cfg.route() else { continue };
            let route = Route::parse(raw);
            if route.based.starts_with(well_known::PREFIX.trim_end_matches('/')) {
                tracing::error!("trigger `{}`: route {raw} is reserved for Spin and will never be reached", trigger.id);
            }
            let (id, description) = match &target {
                Target::Component(c) => {
                    (c.clone(), locked.component(c).and_then(|c| c.description().map(str::to_string)))
                }
                Target::Static(_) => (trigger.id.clone(), None),
            };
            lines.push((id, route.clone(), description));
            entries.push((route, index));
        }
        let (router, duplicates) = Router::build(entries);
        if !duplicates.is_empty() {
            let mut msg = String::from("The following component routes are duplicates and will never be used:");
            for (old, new, raw) in duplicates {
                msg.push_str(&format!("\n  {}: {raw} (duplicate of {})", lines[old].0, lines[new].0));
            }
            eprintln!("{msg}");
        }
        let listener = listen::bind(&self.options.listen)?;
        let addr = listener.local_addr()?;
        let route_lines: Vec<RouteLine> =
            lines.iter().map(|(id, route, d)| RouteLine { id, route, description: d.as_deref() }).collect();
        let banner = banner::render(addr, &route_lines);
        let limits = app.limits();
        let server = Server {
            router,
            handlers,
            info: well_known::info_body(locked),
            request_timeout: limits.http_request_timeout,
            instances: limits.event_slots(),
            max_buffered_body: limits.max_buffered_body,
            connections: self.options.connections.clone(),
        };
        Ok(Box::new(PreparedHttp { server: Arc::new(server), listener, banner, drain: self.options.shutdown_timeout }))
    }
}

struct PreparedHttp {
    server: Arc<Server>,
    listener: std::net::TcpListener,
    banner: String,
    drain: Duration,
}

impl PreparedTrigger for PreparedHttp {
    fn run(self: Box<Self>, shutdown: Shutdown) -> BoxFuture<'static, anyhow::Result<i32>> {
        Box::pin(async move {
            let listener = tokio::net::TcpListener::from_std(self.listener)?;
            print!("{}", self.banner);
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
            self.server.serve(listener, shutdown, self.drain).await
        })
    }
}
