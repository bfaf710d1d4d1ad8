//! runwasi's `Shim` and `Compiler`: the shim's name, the OCI layer types it wants,
//! and ahead-of-time compilation of wasm layers into containerd's content store.

use containerd_shim_wasm::sandbox::context::WasmLayer;
use containerd_shim_wasm::shim::{Compiler, Shim, Version};
use wasmtime::Engine;

use spin_engine::runtime::{build_engine, compatibility_key, precompile, EngineOptions};

use crate::app_source::{is_wasm_layer, LAYER_TYPES};
use crate::sandbox::SpinSandbox;

/// The Spin shim.
pub struct SpinShim;

impl Shim for SpinShim {
    fn name() -> &'static str {
        "spin"
    }

    fn version() -> Version {
        containerd_shim_wasm::shim::version!()
    }

    type Sandbox = SpinSandbox;

    async fn compiler() -> Option<impl Compiler> {
        match EngineOptions::from_env().and_then(|o| build_engine(&o)) {
            Ok(engine) => Some(SpinCompiler { engine }),
            Err(e) => {
                log_error(&format!("precompilation disabled: {e:#}"));
                None
            }
        }
    }

    fn supported_layers_types() -> &'static [&'static str] {
        LAYER_TYPES
    }
}

/// Precompiles wasm layers with the same engine configuration the sandbox runs.
pub struct SpinCompiler {
    engine: Engine,
}

impl Compiler for SpinCompiler {
    fn cache_key(&self) -> impl std::hash::Hash {
        compatibility_key(&self.engine)
    }

    async fn compile(&self, layers: &[WasmLayer]) -> anyhow::Result<Vec<Option<Vec<u8>>>> {
        layers
            .iter()
            .map(|layer| {
                if !is_wasm_layer(layer.config.media_type().as_ref()) {
                    return Ok(None);
                }
                if Engine::detect_precompiled(&layer.layer).is_some() {
                    return Ok(Some(layer.layer.clone()));
                }
                precompile(&self.engine, &layer.layer).map(Some)
            })
            .collect()
    }
}

fn log_error(msg: &str) {
    eprintln!("containerd-shim-spin: {msg}");
}
