//! Imports this runtime does not provide (`fermyon:spin` postgres, mysql and llm,
//! `wasi:http` release candidates, ... today) are
//! linked as functions that trap when called, so apps built against Spin's full
//! world still start. Interfaces the linker does provide are never touched, so
//! their resource types stay the host's.

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceType};

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
                    let message = if name.contains(crate::runtime::DENIED_SUFFIX) {
                        format!(
                            "`{name}#{export}`: a middleware reaches this interface only with `inherit_configuration`"
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
