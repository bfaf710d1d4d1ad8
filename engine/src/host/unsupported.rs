//! Imports this runtime does not provide (`fermyon:spin` postgres, mysql and llm
//! of 2.0,
//! `wasi:http` release candidates, ... today) are
//! linked as functions that trap when called, so apps built against Spin's full
//! world still start. Interfaces the linker does provide are never touched, so
//! their resource types stay the host's.
//!
//! Interfaces cut off from a middleware or a dependency (`<namespace>-denied:`)
//! trap the same way, except the environment and the preopened directories,
//! which are empty: a library that reads its arguments or environment at start
//! runs on as with none.

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceType, Val};

use super::linker::is_provided;
use super::state::HostState;

/// Marker type of resources from unsupported interfaces.
struct Unsupported;

/// Returns a linker for `component`: `base` itself when every import is provided,
/// else a copy with the unsupported instance imports stubbed. Also returns the
/// stubbed names.
pub(crate) fn linker_for(
    base: &Linker<HostState>,
    component: &Component,
) -> anyhow::Result<(Option<Linker<HostState>>, Vec<String>)> {
    let engine = base.engine().clone();
    let missing: Vec<(String, ComponentItem)> = component
        .component_type()
        .imports(&engine)
        .filter(|(name, _)| !is_provided(name))
        .map(|(name, item)| (name.to_string(), item.ty))
        .collect();
    if missing.is_empty() {
        return Ok((None, vec![]));
    }
    let mut linker = base.clone();
    let mut names = Vec::new();
    for (name, item) in missing {
        let ComponentItem::ComponentInstance(instance) = item else {
            anyhow::bail!("imports `{name}`, which is not an interface this runtime can provide");
        };
        let mut inst = linker.instance(&name)?;
        // Interfaces that only define types (e.g. `*-types`) have nothing that can trap.
        let mut callable = false;
        for (export, export_item) in instance.exports(&engine) {
            match export_item.ty {
                ComponentItem::ComponentFunc(func) => {
                    callable = true;
                    if let Some(empty) = denied_and_empty(&name, export) {
                        inst.func_new(export, move |_, _, _, results| {
                            results[0] = empty.clone();
                            Ok(())
                        })?;
                        continue;
                    }
                    let message = if name.contains(crate::runtime::DENIED_SUFFIX) {
                        format!(
                            "`{name}#{export}`: a middleware or a dependency reaches this interface only with `inherit_configuration`"
                        )
                    } else {
                        format!("`{name}#{export}` is not supported by this runtime")
                    };
                    // A WIT `async func` must be met by a concurrent host function.
                    if func.async_() {
                        inst.func_new_concurrent(export, move |_, _, _, _| {
                            let message = message.clone();
                            Box::pin(async move { Err(wasmtime::Error::msg(message)) })
                        })?;
                    } else {
                        inst.func_new(export, move |_, _, _, _| Err(wasmtime::Error::msg(message.clone())))?;
                    }
                }
                ComponentItem::Resource(_) => {
                    inst.resource(export, ResourceType::host::<Unsupported>(), |_, _| Ok(()))?;
                }
                _ => {}
            }
        }
        if callable {
            names.push(name);
        }
    }
    Ok((Some(linker), names))
}

/// What a cut-off environment or preopens function answers: nothing.
fn denied_and_empty(interface: &str, function: &str) -> Option<Val> {
    let unversioned = interface.split('@').next().unwrap_or(interface);
    match (unversioned, function) {
        ("wasi-denied:cli/environment", "get-environment" | "get-arguments")
        | ("wasi-denied:filesystem/preopens", "get-directories") => Some(Val::List(Vec::new())),
        ("wasi-denied:cli/environment", "initial-cwd" | "get-initial-cwd") => Some(Val::Option(None)),
        _ => None,
    }
}
