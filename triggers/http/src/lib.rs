//! Spin's HTTP trigger as a plugin of the engine: a hyper server with Spin's
//! routing, `spin-*` headers, well-known endpoints and guest executors.

mod banner;
mod body;
mod config;
mod executor;
mod headers;
mod listen;
mod local;
mod read_ahead;
mod reuse;
mod routes;
mod server;
mod tls;
mod well_known;
mod workers;

// The parsers, for the fuzz targets (integration/fuzz).
pub use config::HttpTriggerConfig;
pub use headers::guest_url;
pub use routes::{Route, Router};

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use spin_engine::runtime::PreparedApp;
use spin_engine::telemetry::RequestTracer;
use spin_engine::trigger::{
    app_settings, trigger_entries, Drain, PreparedTrigger, Shutdown, TriggerConfig as _, TriggerPlugin,
};

use crate::banner::RouteLine;
use crate::config::{HttpAppConfig, Target};
use crate::local::LocalServer;
use crate::server::{ChainedTarget, Handler, RouteTarget, Server};

pub use banner::BannerFormat;
pub use listen::{parse_listen_addr, FreePortSearch, CLI_DEFAULT_LISTEN, SHIM_DEFAULT_LISTEN};
pub use reuse::{
    InstanceReuse, DEFAULT_IDLE_INSTANCE_TIMEOUT, DEFAULT_MAX_INSTANCE_CONCURRENT_REUSE_COUNT,
    DEFAULT_MAX_INSTANCE_REUSE_COUNT,
};
pub use tls::TlsFiles;

/// Settings of the HTTP trigger that come from the host, not the manifest (the
/// shim reads them from `SPIN_HTTP_*` variables). The per-request deadline and
/// the cap on concurrent requests are the app's [`spin_engine::limits::GuestLimits`].
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Address to listen on; port 0 picks a free port.
    pub listen: String,
    /// Whether a taken port makes it try the next ones.
    pub find_free_port: FreePortSearch,
    /// Serve HTTPS with these files (else plain HTTP).
    pub tls: Option<TlsFiles>,
    /// How long in-flight requests may run after SIGTERM.
    pub drain: Drain,
    /// Limits on clients' connections.
    pub connections: ConnectionLimits,
    /// Instance reuse for WASI 0.3 components.
    pub reuse: InstanceReuse,
    /// Threads serving connections, each on its own single-threaded runtime;
    /// `None` for one per CPU the process may use (its cgroup's CPU quota counts).
    pub threads: Option<usize>,
    /// How the start-up banner is printed.
    pub banner: BannerFormat,
    /// Starts a trace span per request when traces are exported.
    pub tracer: Option<RequestTracer>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            listen: CLI_DEFAULT_LISTEN.to_string(),
            find_free_port: FreePortSearch::default(),
            tls: None,
            drain: Drain::default(),
            connections: ConnectionLimits::default(),
            reuse: InstanceReuse::default(),
            threads: None,
            banner: BannerFormat::Plain,
            tracer: None,
        }
    }
}

/// Bounds on what a client's connection may hold.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// Time a client has to send a request's headers, and the longest an idle
    /// keep-alive connection stays open (10 s by default).
    pub header_read_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog (1024 by default).
    pub max_connections: usize,
    /// The most an HTTP/1 connection buffers of a request's head, in bytes
    /// (hyper's default, about 400 KiB, when unset; at least
    /// [`MIN_HTTP1_MAX_BUF_SIZE`]). A longer head is answered 431.
    pub http1_max_buf_size: Option<usize>,
}

/// The smallest `http1_max_buf_size` HTTP/1 parsing works with (hyper's floor).
pub const MIN_HTTP1_MAX_BUF_SIZE: usize = 8192;

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self { header_read_timeout: Duration::from_secs(10), max_connections: 1024, http1_max_buf_size: None }
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
        HttpTriggerConfig::TYPE
    }

    fn prepare(&self, app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
        let locked = app.locked();
        app_settings::<HttpAppConfig>(locked, HttpTriggerConfig::TYPE)?.check()?;
        let mut routed = Vec::new();
        // Per handler: the name the banner and warnings show.
        let mut names = Vec::new();
        let mut lines = Vec::new();
        let mut chained = std::collections::HashMap::new();
        let entries = trigger_entries::<HttpTriggerConfig>(locked)?;
        let threads = self.options.threads.unwrap_or_else(default_threads).max(1);
        let handlers = (0..threads)
            .map(|_| entries.iter().map(|entry| Handler::new(entry, app, &self.options.reuse)).collect())
            .collect::<Result<Vec<Vec<Handler>>, _>>()?;
        for (handler, entry) in entries.into_iter().enumerate() {
            let (name, description) = match entry.config.target() {
                Target::Component(c) => {
                    let description = locked.component(&c).and_then(|c| c.description().map(str::to_string));
                    chained.entry(c.clone()).or_insert_with(|| chained_target(handler, entry.config.route()));
                    (c, description)
                }
                Target::Static(_) => (entry.id.clone(), None),
            };
            if entry.config.wagi_argv().is_some() {
                let description = entry.config.route().map_or("private endpoint".to_owned(), |r| format!("route {r}"));
                tracing::warn!(
                    "HTTP {description} uses the WAGI executor. WAGI will be deprecated in a future version of Spin."
                );
            }
            names.push(name.clone());
            let Some(raw) = entry.config.route() else { continue };
            let route = Route::parse(raw);
            if route.based.starts_with(well_known::PREFIX.trim_end_matches('/')) {
                tracing::error!("trigger `{}`: route {raw} is reserved for Spin and will never be reached", entry.id);
            }
            lines.push((name, route.clone(), description));
            routed.push((route.clone(), RouteTarget::new(handler, &route)));
        }
        let (router, duplicates) = Router::build(routed);
        if !duplicates.is_empty() {
            let mut msg = String::from("The following component routes are duplicates and will never be used:");
            for (old, new, raw) in duplicates {
                msg.push_str(&format!("\n  {}: {raw} (duplicate of {})", names[old.handler], names[new.handler]));
            }
            eprintln!("{msg}");
        }
        let listener = listen::bind(&self.options.listen, self.options.find_free_port)?;
        let addr = listener.local_addr()?;
        let route_lines: Vec<RouteLine> =
            lines.iter().map(|(id, route, d)| RouteLine { id, route, description: d.as_deref() }).collect();
        let tls = self.options.tls.as_ref().map(tls::acceptor).transpose()?;
        let scheme = if tls.is_some() { http::uri::Scheme::HTTPS } else { http::uri::Scheme::HTTP };
        let banner = banner::render(&scheme, addr, &route_lines, self.options.banner);
        let limits = app.limits();
        let server = Server {
            router,
            handlers,
            chained,
            info: well_known::info_body(locked),
            request_timeout: limits.http_request_timeout,
            instances: limits.event_slots(),
            max_buffered_body: limits.max_buffered_body,
            connections: self.options.connections.clone(),
            tracer: self.options.tracer.clone(),
            counts: names.iter().map(|name| app.request_count("http", name)).collect(),
            names: names.iter().map(|n| n.as_str().into()).collect(),
            tls,
            scheme,
        };
        let server = Arc::new(server);
        app.local_routes().provide(Arc::new(LocalServer(Arc::downgrade(&server))));
        Ok(Box::new(PreparedHttp { server, listener, banner, drain: self.options.drain }))
    }
}

/// One serving thread per CPU this process may use.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Where chained requests to the component of trigger entry `handler` go: its
/// route (`raw`, or `/...` for a private component) and Spin's `/...`.
fn chained_target(handler: usize, raw: Option<&str>) -> ChainedTarget {
    let wildcard = &*server::WILDCARD;
    let route = raw.map(Route::parse).unwrap_or_else(|| wildcard.clone());
    ChainedTarget { routed: RouteTarget::new(handler, &route), wildcard: RouteTarget::new(handler, wildcard), route }
}

struct PreparedHttp {
    server: Arc<Server>,
    listener: std::net::TcpListener,
    banner: String,
    drain: Drain,
}

impl PreparedTrigger for PreparedHttp {
    fn run(self: Box<Self>, shutdown: Shutdown) -> BoxFuture<'static, anyhow::Result<i32>> {
        Box::pin(async move {
            let listener = tokio::net::TcpListener::from_std(self.listener)?;
            // One worker per set of handlers `prepare` built.
            let workers = workers::Workers::start(self.server.handlers.len())?;
            print!("{}", self.banner);
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
            self.server.serve(listener, workers, shutdown, self.drain).await
        })
    }
}
