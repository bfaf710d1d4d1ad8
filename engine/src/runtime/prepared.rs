//! Start-up preparation: every component compiled (or loaded from cache), linked
//! into an `InstancePre`, and paired with the template of its per-event host state.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use anyhow::Context as _;
use arc_swap::ArcSwap;
use sha2::Digest as _;
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Engine, Store, UpdateDeadline};

use super::compile_cache::{refuse_native, CompileCache, NativeArtifact};
use super::compose::dependencies::{compose_dependencies, DependencyWasm};
use super::compose::middleware::compose;
use super::compose::ComposedIn;
use super::engine_config::{build_engine, EngineOptions, FirstStartCompiler};
use super::epoch::{EpochTicker, Ticked};
use super::memory_images::make_memory_images;
use super::tiered::{Baseline, Pending};
use crate::host::{build_linker, linker_for, AppHost, HostOptions, HostState, InstanceTemplate, LocalRoutes};
use crate::limits::GuestLimits;
use crate::loader::{Content, RESOLVE_USING_KEY};
use crate::locked::{ContentRef, LockedApp, LockedComponent, LockedComponentDependency, MIDDLEWARE_ROLE};
use crate::telemetry::{ComponentRequests, HostMetrics, RequestCounter};
use crate::variables::VariableResolver;

/// The engine, the shared linker and the compile cache: one per process.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    cache: CompileCache,
    first_start_compiler: FirstStartCompiler,
    /// Winch's engine, made when a start first compiles (see `tiered.rs`).
    baseline: OnceLock<Option<Baseline>>,
    /// Advances the engines' epochs while an instance lives (see `epoch.rs`).
    ticker: Arc<EpochTicker>,
}

/// Per-app settings for [`Runtime::prepare`].
#[derive(Default)]
pub struct PrepareOptions {
    /// The host side: runtime config, state and staging folders, environment.
    pub host: HostOptions,
    /// The bounds every instance and event of the app runs under.
    pub limits: GuestLimits,
    /// Artifacts runwasi delivered as `precompiled` layers (this shim's own
    /// `Compiler` wrote them), by the content digest of the wasm they replace.
    /// Nothing else is ever deserialized from outside the compile cache.
    pub trusted_artifacts: HashMap<String, Vec<u8>>,
    /// Spin's request count and instance metrics, when metrics are exported.
    pub metrics: Option<HostMetrics>,
}

impl Runtime {
    /// Builds the engine (pooling allocator, epoch ticker) and the linker.
    pub fn new(opts: &EngineOptions, cache: CompileCache) -> anyhow::Result<Arc<Self>> {
        let engine = build_engine(opts)?;
        let linker = build_linker(&engine)?;
        let first_start_compiler = opts.first_start_compiler;
        let ticker = EpochTicker::new();
        let baseline = OnceLock::new();
        let rt = Arc::new(Self { engine, linker, cache, first_start_compiler, baseline, ticker: ticker.clone() });
        ticker.start(&rt);
        Ok(rt)
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Builds the app's host side, then compiles and links every component of `app`.
    pub fn prepare(self: &Arc<Self>, app: LockedApp, opts: PrepareOptions) -> anyhow::Result<PreparedApp> {
        let host = AppHost::new(&app, opts.host, &opts.limits)?;
        let mut components = HashMap::new();
        // Components sharing the same wasm are compiled once.
        let mut compiled: HashMap<[u8; 32], Compiled> = HashMap::new();
        let mut pending = Pending::default();
        let mut budget = WasmBudget::new(&opts.limits);
        let content_dir = host.content_dir().map(Path::to_path_buf);
        let source = ComponentSource { content_dir: content_dir.as_deref(), trusted: &opts.trusted_artifacts };
        for c in &app.components {
            if !is_used_by_a_trigger(&app, &c.id) {
                // As Spin: only the components triggers run are loaded (a middleware
                // component on its own imports a handler nothing provides).
                tracing::debug!("component `{}` is used by no trigger; not prepared", c.id);
                continue;
            }
            let usage = opts.metrics.as_ref().map(|metrics| metrics.instances.for_component(&c.id));
            let template = host.template(c)?.with_usage_metrics(usage);
            let (prepared, wasm) =
                self.prepare_component(c, template, source, &mut budget, &mut compiled, &mut pending)?;
            let prepared = Arc::new(prepared);
            if let Some(sha256) = wasm {
                pending.add_user(&sha256, &prepared);
            }
            components.insert(c.id.clone(), prepared);
        }
        pending.start(self.clone());
        let local_routes = host.local_routes().clone();
        let resolver = host.into_variables();
        Ok(PreparedApp {
            locked: Arc::new(app),
            components,
            runtime: self.clone(),
            resolver,
            limits: opts.limits,
            local_routes,
            requests: opts.metrics.map(|metrics| metrics.requests),
        })
    }

    /// Compiles (or loads) and links component `c`; also returns the digest of
    /// its wasm when it runs Winch's code, for the Cranelift job in `pending`.
    fn prepare_component(
        self: &Arc<Self>,
        c: &LockedComponent,
        template: InstanceTemplate,
        source: ComponentSource<'_>,
        budget: &mut WasmBudget,
        compiled: &mut HashMap<[u8; 32], Compiled>,
        pending: &mut Pending,
    ) -> anyhow::Result<(PreparedComponent, Option<[u8; 32]>)> {
        // A precompiled artifact is of the wasm alone, never of a composition.
        let trusted = c
            .source
            .content
            .digest
            .as_ref()
            .filter(|_| c.trigger_dependencies.is_empty() && c.dependencies.is_empty())
            .and_then(|d| Some((d, source.trusted.get(d)?)));
        let (code, origin, sha256) = if let Some((digest, artifact)) = trusted {
            let component = self
                .cache
                .load_trusted_artifact(&self.engine, artifact, digest)
                .with_context(|| format!("component `{}`", c.id))?;
            (Compiled { component, optimized: true }, digest.clone(), None)
        } else {
            let wasm = read_wasm(&c.source.content, source.content_dir, budget)
                .with_context(|| format!("component `{}`: reading its wasm source", c.id))?;
            let wasm = compose_component(c, wasm, source.content_dir, budget)
                .with_context(|| format!("component `{}`", c.id))?;
            let (sha256, origin) = (wasm.sha256, wasm.origin.clone());
            let code = match compiled.get(&sha256) {
                Some(code) => code.clone(),
                None => {
                    let code = self.compile_for_start(wasm, pending).map_err(|e| {
                        // The refusal of native code is one line for the operator, as is.
                        if e.is::<NativeArtifact>() {
                            e
                        } else {
                            e.context(format!("component `{}` ({origin})", c.id))
                        }
                    })?;
                    compiled.insert(sha256, code.clone());
                    code
                }
            };
            let winch = (!code.optimized).then_some(sha256);
            (code, origin, winch)
        };
        let base = if code.optimized { &self.linker } else { self.baseline().expect("Winch compiled it").linker() };
        let (pre, stubbed) = link(base, &code.component, &format!("component `{}`", c.id))
            .with_context(|| format!("component `{}` ({origin})", c.id))?;
        if !stubbed.is_empty() {
            tracing::info!(
                "component `{}` imports interfaces this runtime does not provide; calling them traps: {}",
                c.id,
                stubbed.join(", ")
            );
        }
        let code = Code::new(code.component, pre);
        let prepared =
            PreparedComponent { id: c.id.clone(), code: ArcSwap::from_pointee(code), template, runtime: self.clone() };
        Ok((prepared, sha256))
    }

    /// The code a start runs `wasm` from: the compile cache's when it has it;
    /// otherwise Winch's, with Cranelift's queued in `pending` (which then owns
    /// the bytes; see `tiered.rs`), or Cranelift's compiled now.
    fn compile_for_start(&self, wasm: Wasm, pending: &mut Pending) -> anyhow::Result<Compiled> {
        refuse_native(&wasm.bytes, &wasm.origin)?;
        if let Some(component) = self.cache.cached(&self.engine, &wasm.sha256, &wasm.origin) {
            return Ok(Compiled { component, optimized: true });
        }
        let baseline = match self.first_start_compiler {
            FirstStartCompiler::Winch => self.baseline(),
            FirstStartCompiler::Cranelift => None,
        };
        if let Some(baseline) = baseline {
            // Replicas starting together compile it with Winch once, too: the
            // others wait for the first and load its code.
            let lock = self.cache.lock(baseline.engine(), &wasm.sha256, &wasm.origin);
            if let Some(component) = self.cache.cached(&self.engine, &wasm.sha256, &wasm.origin) {
                return Ok(Compiled { component, optimized: true });
            }
            let served = match self.cache.cached(baseline.engine(), &wasm.sha256, &wasm.origin) {
                Some(component) => Some(component),
                None => baseline.compile(&wasm.bytes, &wasm.origin).inspect(|component| {
                    if let Some(lock) = lock {
                        self.cache.store_in_background(baseline.engine(), component.clone(), wasm.sha256, lock);
                    }
                }),
            };
            if let Some(component) = served {
                pending.add(wasm.bytes, wasm.sha256, wasm.origin);
                return Ok(Compiled { component, optimized: false });
            }
        }
        let component = self.compile_optimized(&wasm.bytes, &wasm.sha256, &wasm.origin)?;
        Ok(Compiled { component, optimized: true })
    }

    /// Winch's engine and linker, made on first use; `None` where Winch cannot run.
    fn baseline(&self) -> Option<&Baseline> {
        self.baseline.get_or_init(Baseline::new).as_ref()
    }

    /// Cranelift's code for `wasm`, sealed into the compile cache.
    pub(crate) fn compile_optimized(&self, wasm: &[u8], sha256: &[u8; 32], origin: &str) -> anyhow::Result<Component> {
        self.cache.compile_and_store(&self.engine, wasm, sha256, origin)
    }

    /// Removes Winch's code for the wasm with digest `sha256` from the compile
    /// cache, once Cranelift's is there: every later start loads Cranelift's.
    pub(crate) fn forget_baseline_code(&self, sha256: &[u8; 32], origin: &str) {
        if let Some(Some(baseline)) = self.baseline.get() {
            self.cache.remove(baseline.engine(), sha256, origin);
        }
    }

    /// Cranelift's `component` (of `origin`) linked as a start links it.
    pub(crate) fn link_optimized(&self, component: &Component, origin: &str) -> anyhow::Result<InstancePre<HostState>> {
        Ok(link(&self.linker, component, origin)?.0)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker.stop();
    }
}

impl Ticked for Runtime {
    fn tick(&self) {
        self.engine.increment_epoch();
        if let Some(Some(baseline)) = self.baseline.get() {
            baseline.engine().increment_epoch();
        }
    }
}

/// A component's code as a start got it, before linking.
#[derive(Clone)]
struct Compiled {
    component: Component,
    /// Cranelift's (loaded or compiled), not Winch's.
    optimized: bool,
}

/// Links `component` (`name` in warnings) against `base` (imports it lacks
/// become traps) and makes its memory images; returns the instance pre and the
/// stubbed imports.
fn link(
    base: &Linker<HostState>,
    component: &Component,
    name: &str,
) -> anyhow::Result<(InstancePre<HostState>, Vec<String>)> {
    let (stubbed_linker, stubbed) = linker_for(base, component)?;
    let pre = stubbed_linker
        .as_ref()
        .unwrap_or(base)
        .instantiate_pre(component)
        .map_err(anyhow::Error::from)
        .context("cannot be linked")?;
    make_memory_images(component, name);
    Ok((pre, stubbed))
}

/// Whether a trigger runs component `id` (its `component`, or one of its `components`).
fn is_used_by_a_trigger(app: &LockedApp, id: &str) -> bool {
    app.triggers.iter().any(|t| {
        t.component_id() == Some(id)
            || t.trigger_config.get("components").and_then(serde_json::Value::as_object).is_some_and(|sets| {
                sets.values().any(|ids| match ids {
                    serde_json::Value::String(s) => s == id,
                    serde_json::Value::Array(items) => items.iter().any(|i| i.as_str() == Some(id)),
                    _ => false,
                })
            })
    })
}

/// The wasm component `c` runs: its source with its dependencies composed in
/// and its middleware in front (what `spin-shim registry push` uploads, as
/// Spin's push precomposes both), within `limits`' size caps.
pub fn composed_wasm(c: &LockedComponent, content_dir: Option<&Path>, limits: &GuestLimits) -> anyhow::Result<Vec<u8>> {
    let mut budget = WasmBudget::new(limits);
    let wasm = read_wasm(&c.source.content, content_dir, &mut budget)
        .with_context(|| format!("component `{}`: reading its wasm source", c.id))?;
    Ok(compose_component(c, wasm, content_dir, &mut budget).with_context(|| format!("component `{}`", c.id))?.bytes)
}

/// `c`'s wasm with its dependencies composed in, then its middleware in front.
fn compose_component(
    c: &LockedComponent,
    wasm: Wasm,
    content_dir: Option<&Path>,
    budget: &mut WasmBudget,
) -> anyhow::Result<Wasm> {
    let wasm = compose_component_dependencies(c, wasm, content_dir, budget)?;
    compose_trigger_dependencies(c, wasm, content_dir, budget)
}

/// With component dependencies, the component composed with them; otherwise
/// the component's own wasm.
fn compose_component_dependencies(
    c: &LockedComponent,
    wasm: Wasm,
    content_dir: Option<&Path>,
    budget: &mut WasmBudget,
) -> anyhow::Result<Wasm> {
    if c.dependencies.is_empty() {
        return Ok(wasm);
    }
    let mut dependencies = Vec::with_capacity(c.dependencies.len());
    for (name, dep) in &c.dependencies {
        let wasm = read_composed_in(dep, content_dir, budget, &format!("dependency `{name}`"))?;
        dependencies.push(DependencyWasm { name: name.clone(), export: dep.export.clone(), wasm });
    }
    recompose(wasm, &format!("{} dependencies", dependencies.len()), |primary| {
        compose_dependencies(primary, &dependencies)
    })
}

/// With `middleware` trigger dependencies, the composition of the middlewares in
/// front of the component; otherwise the component's own wasm.
fn compose_trigger_dependencies(
    c: &LockedComponent,
    wasm: Wasm,
    content_dir: Option<&Path>,
    budget: &mut WasmBudget,
) -> anyhow::Result<Wasm> {
    if c.trigger_dependencies.values().all(Vec::is_empty) {
        return Ok(wasm);
    }
    let resolver = c.metadata.get(RESOLVE_USING_KEY).and_then(serde_json::Value::as_str).unwrap_or("http");
    if resolver != "http" {
        anyhow::bail!("has trigger dependencies of a `{resolver}` trigger; only HTTP triggers take dependencies");
    }
    if let Some(role) = c.trigger_dependencies.keys().find(|r| *r != MIDDLEWARE_ROLE) {
        anyhow::bail!("trigger dependency role `{role}`: the HTTP trigger's only dependency role is `middleware`");
    }
    let mut middlewares = Vec::new();
    for (index, dep) in c.trigger_dependencies[MIDDLEWARE_ROLE].iter().enumerate() {
        middlewares.push(read_composed_in(dep, content_dir, budget, &format!("middleware {}", index + 1))?);
    }
    recompose(wasm, &format!("{} middleware", middlewares.len()), |primary| compose(primary, &middlewares))
}

/// A dependency's or middleware's wasm (`what` in errors), read within
/// `budget` and made a component.
fn read_composed_in(
    dep: &LockedComponentDependency,
    content_dir: Option<&Path>,
    budget: &mut WasmBudget,
    what: &str,
) -> anyhow::Result<ComposedIn> {
    let wasm = read_wasm(&dep.source.content, content_dir, budget)
        .with_context(|| format!("{what}: reading its wasm source"))?;
    let bytes =
        super::servable_component(&wasm.bytes).with_context(|| format!("{what} ({})", wasm.origin))?.into_owned();
    Ok(ComposedIn { bytes, inherit: dep.inherit.clone(), origin: wasm.origin })
}

/// `wasm` made a component and composed by `compose`, hashed again (the
/// compile cache is keyed by the bytes it compiles); `with` says what was
/// composed in, for errors and logs.
fn recompose(wasm: Wasm, with: &str, compose: impl FnOnce(&[u8]) -> anyhow::Result<Vec<u8>>) -> anyhow::Result<Wasm> {
    let primary = super::servable_component(&wasm.bytes).with_context(|| wasm.origin.clone())?;
    let bytes = compose(&primary)?;
    let sha256 = sha2::Sha256::digest(&bytes).into();
    Ok(Wasm { bytes, sha256, origin: format!("{} with {with}", wasm.origin) })
}

/// Where a component's bytes may come from.
#[derive(Clone, Copy)]
struct ComponentSource<'a> {
    content_dir: Option<&'a Path>,
    trusted: &'a HashMap<String, Vec<u8>>,
}

/// The size caps on wasm: per component, and for the app as a whole. Checked
/// before anything is read into memory or compiled, so a 200 MB module costs the
/// node a `stat`, not a compilation.
struct WasmBudget {
    per_component: u64,
    left: u64,
    total: u64,
}

impl WasmBudget {
    fn new(limits: &GuestLimits) -> Self {
        Self {
            per_component: limits.max_component_size,
            left: limits.max_app_wasm_size,
            total: limits.max_app_wasm_size,
        }
    }

    fn take(&mut self, size: u64, origin: &str) -> anyhow::Result<()> {
        if size > self.per_component {
            anyhow::bail!(
                "{origin} is {} MiB, over the {} MiB limit for one component (SPIN_MAX_COMPONENT_SIZE)",
                mib(size),
                mib(self.per_component)
            );
        }
        self.left = self.left.checked_sub(size).with_context(|| {
            format!("the app's wasm is over the {} MiB limit for one app (SPIN_MAX_APP_WASM_SIZE)", mib(self.total))
        })?;
        Ok(())
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1048576.0)
}

/// A component's wasm, hashed once: the digest checks the locked app's, keys
/// the start-up deduplication and names the compile-cache entry.
struct Wasm {
    bytes: Vec<u8>,
    sha256: [u8; 32],
    origin: String,
}

/// Reads a component's wasm within `budget` and checks it against its digest.
fn read_wasm(content: &ContentRef, content_dir: Option<&Path>, budget: &mut WasmBudget) -> anyhow::Result<Wasm> {
    let (bytes, origin) = read_content(content, content_dir, budget)?;
    let sha256: [u8; 32] = sha2::Sha256::digest(&bytes).into();
    content.verify_sha256(&sha256, &origin)?;
    Ok(Wasm { bytes, sha256, origin })
}

/// Reads a component source within `budget` (see [`Content::locate`]). Returns
/// the bytes and a description for errors.
fn read_content(
    content: &ContentRef,
    content_dir: Option<&Path>,
    budget: &mut WasmBudget,
) -> anyhow::Result<(Vec<u8>, String)> {
    let located = Content::locate(content, content_dir)?;
    let origin = match (&located, &content.digest) {
        (Content::File(_), Some(digest)) if content.source.is_none() => digest.clone(),
        _ => located.origin(),
    };
    let path = match located {
        Content::Inline(bytes) => {
            budget.take(bytes.len() as u64, "the inline component")?;
            return Ok((bytes.to_vec(), origin));
        }
        Content::File(path) => path,
    };
    let file = std::fs::File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        anyhow::bail!("{origin} is not a regular file");
    }
    budget.take(meta.len(), &origin)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(file, meta.len()), &mut bytes)?;
    Ok((bytes, origin))
}

/// One compilation of a component, linked: what its instances are made from.
pub struct Code {
    component: Component,
    pre: InstancePre<HostState>,
}

impl Code {
    pub(crate) fn new(component: Component, pre: InstancePre<HostState>) -> Self {
        Self { component, pre }
    }

    /// The pre-linked instance every event instantiates.
    pub fn instance_pre(&self) -> &InstancePre<HostState> {
        &self.pre
    }
}

/// A compiled, linked component and the template of its per-event host state.
pub struct PreparedComponent {
    id: String,
    /// Replaced once when a start served Winch's code and Cranelift's is ready;
    /// executors follow through [`crate::trigger::Binding`].
    code: ArcSwap<Code>,
    template: InstanceTemplate,
    /// Keeps the runtime, and with it the epoch ticker that interrupts guests,
    /// alive while any component can run (the prepared app itself may be
    /// dropped once the triggers hold their components); each store holds a
    /// use of its ticker.
    runtime: Arc<Runtime>,
}

impl PreparedComponent {
    /// The component id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The code instances are made from now.
    pub fn code(&self) -> Arc<Code> {
        self.code.load_full()
    }

    /// Whether `code` is the code instances are made from now.
    pub(crate) fn is_current(&self, code: &Arc<Code>) -> bool {
        Arc::ptr_eq(&self.code.load(), code)
    }

    /// Makes `code` the code of every later instance.
    pub(crate) fn replace_code(&self, code: Code) {
        self.code.store(Arc::new(code));
    }

    /// The names of the component's exports (for executor selection and errors).
    pub fn export_names(&self) -> Vec<String> {
        let code = self.code.load();
        code.component.component_type().exports(code.pre.engine()).map(|(name, _)| name.to_string()).collect()
    }

    /// The exports as a readable list for error messages (`nothing` when none).
    pub fn describe_exports(&self) -> String {
        let names = self.export_names();
        if names.is_empty() {
            "nothing".to_string()
        } else {
            names.join(", ")
        }
    }

    /// A store on `code`'s engine for an instance that serves many requests
    /// (WASI 0.3 reuse): no deadline of its own, but the guest traps when it
    /// computes without a pause for longer than `run_limit` (see `run_limit.rs`);
    /// it yields to other tasks at every epoch tick.
    pub(crate) fn new_reusable_store(
        &self,
        code: &Code,
        run_limit: Option<std::time::Duration>,
    ) -> anyhow::Result<Store<HostState>> {
        let traces = Some(Arc::new(crate::telemetry::InstanceTraces::default()));
        let mut store = self.store_with(code, &[], None, traces, None)?;
        if let Some(limit) = run_limit {
            let mut run = super::run_limit::RunLimit::new(limit);
            store.epoch_deadline_callback(move |_| run.tick(Instant::now()));
        }
        store.set_epoch_deadline(1);
        Ok(store)
    }

    /// A fresh store on `code`'s engine for one event: new host state, memory
    /// limit, and an epoch deadline that yields every tick and traps past `deadline`.
    pub(crate) fn new_store(
        &self,
        code: &Code,
        args: &[String],
        deadline: Option<Instant>,
        event: Option<&crate::host::EventStdio>,
    ) -> anyhow::Result<Store<HostState>> {
        self.store_with(code, args, deadline, None, event)
    }

    /// [`Self::new_store`] for an instance that serves the requests of
    /// `traces`, if any, and the event that hands it `event`, if any.
    fn store_with(
        &self,
        code: &Code,
        args: &[String],
        deadline: Option<Instant>,
        traces: Option<Arc<crate::telemetry::InstanceTraces>>,
        event: Option<&crate::host::EventStdio>,
    ) -> anyhow::Result<Store<HostState>> {
        let mut state = self.template.instantiate_state(args, traces, event)?;
        state.hold_epoch(self.runtime.ticker.use_epoch());
        let records_usage = state.records_usage();
        let mut store = Store::new(code.pre.engine(), state);
        store.limiter(|s| s.limits());
        if records_usage {
            store.call_hook(|mut cx, hook| {
                cx.data_mut().on_call(hook);
                Ok(())
            });
        }
        match deadline {
            None => store.epoch_deadline_async_yield_and_update(1),
            Some(deadline) => store.epoch_deadline_callback(move |_| {
                if Instant::now() >= deadline {
                    Err(wasmtime::Error::msg("the guest exceeded its execution deadline"))
                } else {
                    Ok(UpdateDeadline::Yield(1))
                }
            }),
        }
        Ok(store)
    }
}

/// An app ready to serve: the locked app plus its prepared components.
pub struct PreparedApp {
    locked: Arc<LockedApp>,
    components: HashMap<String, Arc<PreparedComponent>>,
    runtime: Arc<Runtime>,
    resolver: VariableResolver,
    limits: GuestLimits,
    local_routes: LocalRoutes,
    requests: Option<RequestCounter>,
}

impl PreparedApp {
    /// What each event `trigger_type` hands to `component` runs under: the
    /// event deadline and the component's request count.
    pub fn event_bounds(&self, trigger_type: &'static str, component: &str) -> crate::trigger::EventBounds {
        crate::trigger::EventBounds::new(self.limits.event_timeout, self.request_count(trigger_type, component))
    }

    /// The request count of what `trigger_type` hands to `component`, when
    /// metrics are exported (Spin's `spin.request_count`).
    pub fn request_count(&self, trigger_type: &'static str, component: &str) -> Option<ComponentRequests> {
        let app_id = self.locked.name().unwrap_or_default();
        self.requests.as_ref().map(|counter| counter.for_component(trigger_type, app_id, component))
    }

    /// The app model.
    pub fn locked(&self) -> &LockedApp {
        &self.locked
    }

    /// The bounds every instance and event of the app runs under.
    pub fn limits(&self) -> &GuestLimits {
        &self.limits
    }

    /// Where the HTTP trigger registers the app's routes, so that service
    /// chaining and self requests of any component are served in-process.
    pub fn local_routes(&self) -> &LocalRoutes {
        &self.local_routes
    }

    /// The runtime the app runs on.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Renders a `{{ variable }}` template over the app's variables (for trigger
    /// settings such as a Redis channel or an MQTT topic).
    pub fn render(&self, template: &str) -> anyhow::Result<String> {
        self.resolver.render(template)
    }

    /// The prepared component `id`, or an error naming it.
    pub fn component(&self, id: &str) -> anyhow::Result<&Arc<PreparedComponent>> {
        self.components.get(id).with_context(|| format!("no component `{id}` in the app"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(path: &Path) -> ContentRef {
        ContentRef { source: Some(path.display().to_string()), ..ContentRef::default() }
    }

    #[test]
    fn a_200_mb_module_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.wasm");
        // Sparse: the size is what counts, and nothing is read.
        std::fs::File::create(&big).unwrap().set_len(200 << 20).unwrap();
        let mut budget = WasmBudget::new(&GuestLimits::default());
        let err = read_content(&source(&big), None, &mut budget).unwrap_err().to_string();
        assert!(
            err.contains("200.0 MiB, over the 100.0 MiB limit for one component (SPIN_MAX_COMPONENT_SIZE)"),
            "{err}"
        );
    }

    #[test]
    fn the_app_total_is_capped_across_components() {
        let dir = tempfile::tempdir().unwrap();
        let limits = GuestLimits { max_component_size: 60 << 20, max_app_wasm_size: 100 << 20, ..Default::default() };
        let mut budget = WasmBudget::new(&limits);
        let part = dir.path().join("part.wasm");
        std::fs::File::create(&part).unwrap().set_len(50 << 20).unwrap();
        read_content(&source(&part), None, &mut budget).unwrap();
        read_content(&source(&part), None, &mut budget).unwrap();
        let err = read_content(&source(&part), None, &mut budget).unwrap_err().to_string();
        assert!(err.contains("SPIN_MAX_APP_WASM_SIZE"), "{err}");
    }

    #[test]
    fn content_that_does_not_match_its_digest_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let digest = format!("sha256:{}", "0".repeat(64));
        std::fs::write(dir.path().join(&digest), b"\0asm\x0d\0\x01\0").unwrap();
        let content = ContentRef { digest: Some(digest), ..ContentRef::default() };
        let mut budget = WasmBudget::new(&GuestLimits::default());
        let err = read_wasm(&content, Some(dir.path()), &mut budget).err().unwrap().to_string();
        assert!(err.contains("does not match its digest"), "{err}");
        let escape = ContentRef { digest: Some("../../etc/passwd".into()), ..ContentRef::default() };
        assert!(read_wasm(&escape, Some(dir.path()), &mut budget).is_err());
    }
}
