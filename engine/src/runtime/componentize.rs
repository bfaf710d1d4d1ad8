//! Turns core wasm modules (older SDKs, `wasm32-wasip1` builds) into components.

use anyhow::Context as _;
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};

/// What a byte string holds, judged by its header.
#[derive(Debug, PartialEq, Eq)]
pub enum WasmKind {
    /// A component-model component.
    Component,
    /// A core WebAssembly module.
    Module,
}

/// Classifies `bytes`, or errors when they are not WebAssembly at all.
pub fn wasm_kind(bytes: &[u8]) -> anyhow::Result<WasmKind> {
    if wasmparser::Parser::is_component(bytes) {
        Ok(WasmKind::Component)
    } else if wasmparser::Parser::is_core_wasm(bytes) {
        Ok(WasmKind::Module)
    } else {
        anyhow::bail!("not a WebAssembly module or component (bad header)")
    }
}

/// Returns a component: components unchanged, core modules wrapped with the WASI
/// preview1 adapter (command adapter when the module exports `_start`).
pub fn componentize_if_needed(bytes: &[u8]) -> anyhow::Result<std::borrow::Cow<'_, [u8]>> {
    match wasm_kind(bytes)? {
        WasmKind::Component => Ok(bytes.into()),
        WasmKind::Module => {
            let adapter = if exports_start(bytes)? {
                WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER
            } else {
                WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER
            };
            let component = wit_component::ComponentEncoder::default()
                .validate(true)
                .module(bytes)
                .context("reading the core module's component type metadata")?
                .adapter("wasi_snapshot_preview1", adapter)
                .context("applying the WASI preview1 adapter")?
                .encode()
                .context("converting the core module into a component")?;
            Ok(component.into())
        }
    }
}

fn exports_start(bytes: &[u8]) -> anyhow::Result<bool> {
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::ExportSection(exports) = payload? {
            for export in exports {
                if export?.name == "_start" {
                    return Ok(true);
                }
            }
        }
    }
    Ok(false)
}
