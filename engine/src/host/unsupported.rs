//! Imports this runtime does not provide (postgres, mysql, llm, ... today) are
//! linked as functions that trap when called, so apps built against Spin's full
//! world still start. Interfaces the linker does provide are never touched, so
//! their resource types stay the host's.

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceType};

use super::state::HostState;

/// Interface name prefixes the linker provides (any 0.2.x patch for WASI 0.2).
const PROVIDED: &[&str] = &[
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:filesystem/",
    "wasi:io/",
    "wasi:random/",
    "wasi:sockets/",
    "wasi:http/",
    "wasi:config/store@0.2.0-draft-2024-09-27",
    "fermyon:spin/variables@2.0.0",
    "fermyon:spin/config",
    "fermyon:spin/mqtt@2.0.0",
    "fermyon:spin/redis@2.0.0",
    "fermyon:spin/redis-types",
    "fermyon:spin/key-value@2.0.0",
    "fermyon:spin/key-value",
    "fermyon:spin/sqlite@2.0.0",
    "fermyon:spin/sqlite",
    "wasi:keyvalue/store@0.2.0-draft2",
    "wasi:keyvalue/atomics@0.2.0-draft2",
    "wasi:keyvalue/batch@0.2.0-draft2",
];

/// Marker type of resources from unsupported interfaces.
struct Unsupported;

/// Whether `import` names an interface the linker provides (WASI 0.2 patches only).
fn is_provided(import: &str) -> bool {
    PROVIDED
        .iter()
        .any(|p| import.starts_with(p) && (!p.starts_with("wasi:") || !p.ends_with('/') || is_wasi_02(import)))
}

fn is_wasi_02(import: &str) -> bool {
    import.rsplit_once('@').is_some_and(|(_, v)| v.starts_with("0.2.") && !v.contains('-'))
}

/// Returns a linker for `component`: `base` itself when every import is provided,
/// else a copy with the unsupported instance imports stubbed. Also returns the
/// stubbed names.
pub fn linker_for(
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
                ComponentItem::ComponentFunc(_) => {
                    callable = true;
                    let full = format!("{name}#{export}");
                    inst.func_new(export, move |_, _, _, _| {
                        Err(wasmtime::Error::msg(format!("`{full}` is not supported by this runtime")))
                    })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provided_interfaces() {
        assert!(is_provided("wasi:http/types@0.2.0"));
        assert!(is_provided("wasi:cli/environment@0.2.12"));
        assert!(!is_provided("wasi:http/types@0.2.0-rc-2023-11-10"));
        assert!(is_provided("wasi:keyvalue/store@0.2.0-draft2"));
        assert!(!is_provided("wasi:keyvalue/watcher@0.2.0-draft2"));
        assert!(is_provided("fermyon:spin/variables@2.0.0"));
        assert!(is_provided("fermyon:spin/key-value@2.0.0"));
        assert!(is_provided("fermyon:spin/key-value"));
        assert!(is_provided("fermyon:spin/sqlite@2.0.0"));
        assert!(!is_provided("fermyon:spin/postgres@2.0.0"));
        assert!(is_provided("wasi:config/store@0.2.0-draft-2024-09-27"));
    }
}
