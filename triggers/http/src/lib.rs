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

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use spin_engine::runtime::PreparedApp;
use spin_engine::trigger::{PreparedTrigger, Shutdown, TriggerPlugin};

use crate::banner::RouteLine;
use crate::config::{HttpTriggerConfig, Target};
use crate::routes::{Route, Router};
use crate::server::{Handler, Server};

pub use listen::{parse_listen_addr, CLI_DEFAULT_LISTEN, SHIM_DEFAULT_LISTEN};

/// Settings of the HTTP trigger that come from the host, not the manifest.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Address to listen on (`SPIN_HTTP_LISTEN_ADDR`); port 0 picks a free port.
    pub listen: String,
    /// Execution limit per request (`SPIN_HTTP_REQUEST_TIMEOUT`, e.g. `30s`); none by default.
    pub request_timeout: Option<Duration>,
    /// How long in-flight requests may run after SIGTERM (`SPIN_HTTP_SHUTDOWN_TIMEOUT`).
    pub shutdown_timeout: Duration,
}

impl HttpOptions {
    /// Options with `listen` and the other values from their documented variables.
    pub fn from_env(listen: String) -> anyhow::Result<Self> {
        Ok(Self {
            listen,
            request_timeout: listen::env_duration("SPIN_HTTP_REQUEST_TIMEOUT")?,
            shutdown_timeout: listen::env_duration("SPIN_HTTP_SHUTDOWN_TIMEOUT")?.unwrap_or(Duration::from_secs(25)),
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
        let server = Server {
            router,
            handlers,
            info: well_known::info_body(locked),
            request_timeout: self.options.request_timeout,
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
