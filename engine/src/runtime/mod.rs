//! The wasmtime runtime: engine, compile cache, componentization, and the
//! pre-linked components every event is instantiated from.

mod cache_bound;
mod cache_key;
mod compile_cache;
mod compile_lock;
mod componentize;
mod compose;
mod engine_config;
mod epoch;
mod memory_images;
mod packed_artifact;
mod pre_release;
mod prepared;
mod quiet_release;
mod run_limit;
mod start_up_memory;
mod tiered;

pub(crate) use cache_bound::touch;
pub use cache_bound::DEFAULT_CACHE_MAX_BYTES;
pub use cache_key::{CacheKey, DEFAULT_NODE_KEY_FILE};
pub use compile_cache::{compile, precompile, refuse_native, CompileCache};
pub use componentize::{servable_component, wasm_kind, WasmKind};
pub(crate) use compose::DENIED_SUFFIX;
pub use engine_config::{build_engine, compatibility_key, EngineOptions, FirstStartCompiler, DEFAULT_POOL_INSTANCES};
pub(crate) use epoch::EpochUse;
pub use packed_artifact::ARTIFACT_FORM;
pub use prepared::{composed_wasm, Code, PrepareOptions, PreparedApp, PreparedComponent, Runtime};
pub use quiet_release::release_memory_when_quiet;
pub use start_up_memory::{release_start_up_memory, CodePages};
