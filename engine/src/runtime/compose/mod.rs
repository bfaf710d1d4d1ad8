//! Composing components at load time with `wac-graph`, as Spin does: HTTP
//! middleware in front of a trigger's component ([`middleware`]), and a
//! component's dependencies plugged into its imports ([`dependencies`]).
//!
//! What both share is how a composed-in component is kept from configuration
//! it does not inherit (`inherit_configuration`): each of its imports of an
//! interface that configuration governs is cut off from the host. The import is
//! renamed `<namespace>-denied:...` in the composition; the linker meets such
//! imports with functions that trap, except a denied environment, which is
//! empty (Spin composes a deny adapter that answers with each interface's own
//! "not permitted" error instead).

pub(crate) mod dependencies;
pub(crate) mod middleware;

use std::collections::HashMap;

use anyhow::bail;
use wac_graph::types::{ItemKind, Package};
use wac_graph::{CompositionGraph, NodeId, PackageId};

use crate::locked::InheritConfiguration;

/// What a renamed (denied) import's namespace ends with.
pub(crate) const DENIED_SUFFIX: &str = "-denied:";

/// Spin's configuration keys and the interfaces (any version) each one governs.
const CONFIGURATIONS: &[(&str, &[&str])] = &[
    ("ai_models", &["fermyon:spin/llm"]),
    (
        "allowed_outbound_hosts",
        &[
            "fermyon:spin/http",
            "fermyon:spin/mysql",
            "fermyon:spin/postgres",
            "fermyon:spin/redis",
            "fermyon:spin/mqtt",
            "spin:mqtt/mqtt",
            "spin:mysql/mysql",
            "spin:postgres/postgres",
            "spin:redis/redis",
            "wasi:http/client",
            "wasi:http/outgoing-handler",
            "wasi:sockets/ip-name-lookup",
            "wasi:sockets/tcp-create-socket",
            "wasi:sockets/tcp",
            "wasi:sockets/udp-create-socket",
            "wasi:sockets/udp",
        ],
    ),
    ("environment", &["wasi:cli/environment"]),
    ("files", &["wasi:filesystem/preopens"]),
    ("key_value_stores", &["fermyon:spin/key-value", "spin:key-value/key-value", "wasi:keyvalue/store"]),
    ("sqlite_databases", &["fermyon:spin/sqlite", "spin:sqlite/sqlite"]),
    ("variables", &["fermyon:spin/config", "fermyon:spin/variables", "spin:variables/variables", "wasi:config/store"]),
];

/// A component to compose with another: its bytes, what it inherits of the
/// other's configuration, and how errors name its source.
pub(crate) struct ComposedIn {
    pub(crate) bytes: Vec<u8>,
    pub(crate) inherit: InheritConfiguration,
    pub(crate) origin: String,
}

/// The cut-off imports of one composition: each denied interface is imported
/// once under its new name, however many components it is denied to.
#[derive(Default)]
pub(crate) struct Denials {
    imports: HashMap<String, NodeId>,
}

impl Denials {
    /// Meets every import of `package`'s `instance` that `inherit` does not grant
    /// with the renamed (denied) import of the same interface.
    pub(crate) fn cut_off(
        &mut self,
        graph: &mut CompositionGraph,
        package: PackageId,
        instance: NodeId,
        inherit: &InheritConfiguration,
    ) -> anyhow::Result<()> {
        for name in imports(graph, package) {
            if !is_denied(&name, inherit) {
                continue;
            }
            let renamed = denied_name(&name);
            let node = match self.imports.get(&renamed) {
                Some(node) => *node,
                None => {
                    // A copy of the interface under the new name: wac-graph merges
                    // imports of one interface id into one import.
                    let kind = graph.types()[graph[package].ty()].imports[&name];
                    let ItemKind::Instance(interface) = kind else {
                        bail!("imports `{name}`, which is not an interface");
                    };
                    let mut copy = graph.types()[interface].clone();
                    copy.id = Some(renamed.clone());
                    let copy = graph.types_mut().add_interface(copy);
                    let node = graph.import(renamed.clone(), ItemKind::Instance(copy))?;
                    self.imports.insert(renamed, node);
                    node
                }
            };
            graph.set_instantiation_argument(instance, &name, node)?;
        }
        Ok(())
    }
}

/// Adds component `bytes` to `graph` as package `name`.
fn register(graph: &mut CompositionGraph, name: &str, bytes: &[u8]) -> anyhow::Result<PackageId> {
    let package = Package::from_bytes(name, None, bytes.to_vec(), graph.types_mut())?;
    Ok(graph.register_package(package)?)
}

/// The names `package` imports.
fn imports(graph: &CompositionGraph, package: PackageId) -> Vec<String> {
    graph.types()[graph[package].ty()].imports.keys().cloned().collect()
}

/// The names `package` exports.
fn exports(graph: &CompositionGraph, package: PackageId) -> Vec<String> {
    graph.types()[graph[package].ty()].exports.keys().cloned().collect()
}

/// `a, b, c`, or `nothing`, for error messages.
fn list(names: &[String]) -> String {
    if names.is_empty() {
        "nothing".into()
    } else {
        names.join(", ")
    }
}

/// Whether the import `name` belongs to a configuration `inherit` does not grant.
fn is_denied(name: &str, inherit: &InheritConfiguration) -> bool {
    let unversioned = name.split('@').next().unwrap_or(name);
    CONFIGURATIONS.iter().any(|(key, interfaces)| interfaces.contains(&unversioned) && !inherit.inherits(key))
}

/// `wasi:cli/environment@0.2.6` -> `wasi-denied:cli/environment@0.2.6`: a name no
/// host interface has, so the linker stubs it.
fn denied_name(name: &str) -> String {
    match name.split_once(':') {
        Some((namespace, rest)) => format!("{namespace}{DENIED_SUFFIX}{rest}"),
        None => format!("denied-{name}"),
    }
}

/// Small components for the composition tests.
#[cfg(test)]
mod test_components {
    /// A stand-in environment interface (`get: func() -> u32`).
    pub(super) const ENV_TYPE: &str = r#"(export "get" (func (result u32)))"#;

    /// A component exporting interface `export` with one function `func(x) =
    /// x * factor + get()`, importing `get` from `wasi:cli/environment@0.2.6`.
    pub(super) fn scaling(export: &str, func: &str, factor: u32) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component
                (import "wasi:cli/environment@0.2.6" (instance $env {ENV_TYPE}))
                (core module $m
                    (import "env" "get" (func $env (result i32)))
                    (func (export "f") (param i32) (result i32)
                        (i32.add (i32.mul (local.get 0) (i32.const {factor})) (call $env))))
                (core func $env_get (canon lower (func $env "get")))
                (core instance $i (instantiate $m (with "env" (instance (export "get" (func $env_get))))))
                (func $f (param "x" u32) (result u32) (canon lift (core func $i "f")))
                (instance $out (export "{func}" (func $f)))
                (export "{export}" (instance $out)))"#
        ))
        .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::compose::middleware::HANDLER;

    #[test]
    fn what_a_composed_component_may_reach_follows_inherit_configuration() {
        let none = InheritConfiguration::default();
        let all = InheritConfiguration::All;
        let env = InheritConfiguration::Some(vec!["environment".into()]);
        for name in ["wasi:cli/environment@0.2.6", "wasi:cli/environment@0.3.0"] {
            assert!(is_denied(name, &none), "{name}");
            assert!(!is_denied(name, &all), "{name}");
            assert!(!is_denied(name, &env), "{name}");
        }
        assert!(is_denied("spin:key-value/key-value@3.0.0", &env));
        assert!(is_denied("wasi:http/client@0.3.0", &none));
        assert!(is_denied("fermyon:spin/key-value", &none));
        // Interfaces no configuration governs stay the host's.
        for name in ["wasi:http/types@0.3.0", "wasi:io/streams@0.2.6", "wasi:cli/stdout@0.2.6", HANDLER] {
            assert!(!is_denied(name, &none), "{name}");
        }
        assert_eq!(denied_name("wasi:cli/environment@0.2.6"), "wasi-denied:cli/environment@0.2.6");
        assert!(!crate::host::is_provided(&denied_name("wasi:cli/environment@0.2.6")));
    }
}
