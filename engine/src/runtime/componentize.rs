//! Turns what a component source holds into a component this runtime links:
//! core wasm modules (older SDKs, `wasm32-wasip1` builds) are wrapped into
//! components, and components of a WASI pre-release identical to a release take
//! the release's names (see [`super::pre_release`]).

use super::pre_release::adopt_release_names;
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

/// Returns a component: components unchanged (or renamed from a pre-release, see
/// [`adopt_release_names`]), core modules wrapped with the WASI preview1 adapter
/// (command adapter when the module exports `_start`).
pub fn servable_component(bytes: &[u8]) -> anyhow::Result<std::borrow::Cow<'_, [u8]>> {
    match wasm_kind(bytes)? {
        WasmKind::Component => Ok(match adopt_release_names(bytes)? {
            Some(renamed) => renamed.into(),
            None => bytes.into(),
        }),
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
