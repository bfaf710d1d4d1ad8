//! The wasmtime `Engine` every component runs on: component model, async, epoch
//! interruption and (when the host allows it) the pooling instance allocator.

use anyhow::Context as _;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Strategy};

/// Tunables for the wasmtime engine, with defaults suited to a Kubernetes node.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Use the pooling allocator (fast instantiation); falls back to on-demand if it
    /// cannot reserve its address space.
    pub pooling: bool,
    /// Concurrent instances the pool holds (`SPIN_WASMTIME_INSTANCE_COUNT`);
    /// `None`: [`DEFAULT_POOL_INSTANCES`], unless the app's own count was filled
    /// in with [`EngineOptions::sized_for`].
    pub pool_instances: Option<u32>,
    /// Largest linear memory one pooled memory slot can grow to, in bytes.
    pub pool_max_memory_size: usize,
    /// Bytes of a freed memory slot kept mapped and reset by hand instead of
    /// released to the kernel (`SPIN_WASMTIME_KEEP_RESIDENT`); see [`default_keep_resident`].
    pub pool_keep_resident: usize,
    /// Which compiler makes a component's code when no compiled artifact of it
    /// exists (`SPIN_WASMTIME_FIRST_START_COMPILER`); see [`FirstStartCompiler`].
    pub first_start_compiler: FirstStartCompiler,
}

/// The compiler of a start that finds no compiled artifact of a component.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FirstStartCompiler {
    /// Winch, wasmtime's baseline compiler, makes code to serve from at once
    /// while Cranelift compiles the component in the background; its code then
    /// replaces Winch's and fills the compile cache (see `tiered.rs`).
    #[default]
    Winch,
    /// Cranelift compiles before the app starts, as every later start loads.
    Cranelift,
}

impl std::str::FromStr for FirstStartCompiler {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "winch" => Ok(Self::Winch),
            "cranelift" => Ok(Self::Cranelift),
            _ => anyhow::bail!("expected `winch` or `cranelift`"),
        }
    }
}

/// The instance pool of an engine not sized to an app.
pub const DEFAULT_POOL_INSTANCES: u32 = 1000;

/// The largest pool an app is given by [`EngineOptions::sized_for`]: each
/// instance reserves two memory slots of address space (4 GiB and guards each).
const MAX_POOL_INSTANCES: u32 = 2000;

impl EngineOptions {
    /// These options with the pool sized to an app, unless it was set: each of
    /// its `trigger_types` runs at most `max_concurrent_events` instances at once
    /// (a reused WASI 0.3 instance holds one of them too), and twice that leaves
    /// room for instances that are being torn down while their successors start.
    /// A smaller pool costs less to set up at every start, in time (one guard page
    /// to protect per stack) and in memory (its bookkeeping).
    pub fn sized_for(mut self, trigger_types: usize, max_concurrent_events: usize) -> Self {
        let needed = trigger_types.max(1).saturating_mul(max_concurrent_events).saturating_mul(2);
        let sized = u32::try_from(needed).unwrap_or(u32::MAX).clamp(16, MAX_POOL_INSTANCES);
        self.pool_instances.get_or_insert(sized);
        self
    }
}

/// The default for [`EngineOptions::pool_keep_resident`]: 2 MiB where the kernel
/// has PAGEMAP_SCAN (Linux 6.7+), 0 elsewhere.
///
/// With PAGEMAP_SCAN wasmtime resets only the pages an instance dirtied, so the
/// next instance in the slot finds them mapped: no page faults, no `madvise`,
/// and none of the TLB shootdowns between threads those cost, which took a third
/// of the CPU of a hello request (2x requests/s measured; see README). 2 MiB
/// covers a Rust guest's 1 MiB stack and its data. Without the scan every kept
/// byte is reset on every instance, which costs more than it saves.
pub(crate) fn default_keep_resident() -> usize {
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        2 << 20
    } else {
        0
    }
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            pooling: true,
            pool_instances: None,
            pool_max_memory_size: 4 << 30,
            pool_keep_resident: default_keep_resident(),
            first_start_compiler: FirstStartCompiler::default(),
        }
    }
}

/// The engine-wide configuration shared by compilation and execution, so that
/// precompiled artifacts are valid for every run of the same build.
fn base_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // WASI 0.3 guests (async exports, streams and futures).
    config.wasm_component_model_async(true);
    config.epoch_interruption(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    config.memory_init_cow(true);
    config
}

fn pooling_config(opts: &EngineOptions) -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    let n = opts.pool_instances.unwrap_or(DEFAULT_POOL_INSTANCES);
    pool.total_component_instances(n)
        .total_core_instances(n.saturating_mul(4))
        .total_memories(n.saturating_mul(2))
        .total_tables(n.saturating_mul(4))
        .total_stacks(n)
        .max_core_instances_per_component(200)
        .max_memories_per_component(32)
        .max_tables_per_component(64)
        .max_component_instance_size(10 << 20)
        .max_core_instance_size(10 << 20)
        .table_elements(100_000)
        .max_memory_size(opts.pool_max_memory_size)
        .linear_memory_keep_resident(opts.pool_keep_resident)
        .table_keep_resident(opts.pool_keep_resident.min(64 << 10))
        // With PAGEMAP_SCAN (Linux 6.7+) only the pages an instance dirtied are
        // reset, so kept-resident memory costs what the guest touched.
        .pagemap_scan(Enabled::Auto);
    pool
}

/// Builds the engine; with pooling requested but unavailable it logs why and
/// falls back to on-demand allocation.
pub fn build_engine(opts: &EngineOptions) -> anyhow::Result<Engine> {
    if opts.pooling {
        let mut config = base_config();
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling_config(opts)));
        match Engine::new(&config) {
            Ok(engine) => return Ok(engine),
            Err(e) => tracing::warn!("pooling allocator unavailable ({e:#}); using on-demand allocation"),
        }
    }
    Engine::new(&base_config()).map_err(anyhow::Error::from).context("creating the wasmtime engine")
}

/// The engine Winch compiles a first start's code for: the same features as
/// [`build_engine`]'s, with instances allocated on demand (it serves only until
/// Cranelift's code replaces its own, so it reserves no pool).
pub(crate) fn build_baseline_engine() -> anyhow::Result<Engine> {
    let mut config = base_config();
    config.strategy(Strategy::Winch);
    Engine::new(&config).map_err(anyhow::Error::from).context("creating the Winch engine")
}

/// The revision of what is done to a component source's bytes before they are
/// compiled ([`super::servable_component`]): artifacts are keyed by the source's
/// digest, so a change there must change the key. 2: WASI 0.3 pre-release names;
/// 3: WASI 0.2.0-rc-2023-11-10 names.
const SOURCE_TRANSFORM_REVISION: u32 = 3;

/// A stable hex key for "artifacts precompiled by this engine, from sources
/// transformed as this build does, can be loaded by it".
pub fn compatibility_key(engine: &Engine) -> String {
    use sha2::Digest as _;
    use std::hash::Hash as _;
    struct Sha(sha2::Sha256);
    impl std::hash::Hasher for Sha {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut h = Sha(sha2::Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    SOURCE_TRANSFORM_REVISION.hash(&mut h);
    hex::encode(&h.0.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_is_sized_to_the_app_unless_it_was_set() {
        let sized = |set: Option<u32>, types, events| {
            EngineOptions { pool_instances: set, ..Default::default() }.sized_for(types, events).pool_instances
        };
        // An HTTP app at the default 100 concurrent requests.
        assert_eq!(sized(None, 1, 100), Some(200));
        assert_eq!(sized(None, 3, 100), Some(600));
        assert_eq!(sized(None, 1, 2), Some(16));
        assert_eq!(sized(None, 4, 100_000), Some(2000));
        assert_eq!(sized(Some(7), 1, 100), Some(7));
        // Not sized to an app: the fixed default.
        let pool = pooling_config(&EngineOptions::default());
        assert!(
            format!("{pool:?}").contains(&format!("total_component_instances: {DEFAULT_POOL_INSTANCES}")),
            "{pool:?}"
        );
    }

    #[test]
    fn the_instance_pool_is_not_part_of_the_compatibility_key() {
        // runwasi's compiler precompiles with an engine without a pool, for apps
        // that run on an engine with one.
        let pooled = build_engine(&EngineOptions::default()).unwrap();
        let on_demand = build_engine(&EngineOptions { pooling: false, ..Default::default() }).unwrap();
        assert_eq!(compatibility_key(&pooled), compatibility_key(&on_demand));
        let artifact = on_demand.precompile_component(b"\0asm\x0d\0\x01\0").unwrap();
        // SAFETY: the bytes were just produced by this process's own engine.
        unsafe { wasmtime::component::Component::deserialize(&pooled, &artifact) }.unwrap();
    }
}
