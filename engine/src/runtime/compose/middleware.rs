//! Spin 4.1 HTTP middleware: a component's `middleware` trigger dependencies are
//! composed in front of it at load time (with `wac-graph`, as Spin does), and the
//! composed component is what the executor serves, caches and reuses.
//!
//! Each middleware imports and exports `wasi:http/handler@0.3.0`; the list is
//! outermost first, so the first entry receives the request and its import is
//! the second's export, down to the trigger's component.
//!
//! Configuration, as Spin: a middleware runs inside the trigger component's
//! instance, so it has no configuration of its own (its component's environment,
//! files and permissions are ignored). With `inherit_configuration = true` it
//! uses the trigger component's; with a list of keys only those; by default none
//! (what it does not inherit is cut off as `super` describes).

use anyhow::{bail, Context as _};
use wac_graph::{CompositionGraph, EncodeOptions};

use super::{exports, imports, list, register, ComposedIn, Denials};

/// The interface a middleware exports and imports, and the trigger component exports.
pub(crate) const HANDLER: &str = "wasi:http/handler@0.3.0";

/// Composes `middlewares` (outermost first) in front of `primary`; the result
/// exports only `wasi:http/handler@0.3.0`.
pub(crate) fn compose(primary: &[u8], middlewares: &[ComposedIn]) -> anyhow::Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    let primary = register(&mut graph, "primary", primary)
        .context("the component is not a WebAssembly component, so middleware cannot be composed in front of it")?;
    if !exports(&graph, primary).iter().any(|e| e == HANDLER) {
        bail!(
            "middleware needs the component to export `{HANDLER}` (WASI 0.3); it exports {}",
            list(&exports(&graph, primary))
        );
    }
    let mut packages = Vec::with_capacity(middlewares.len());
    for (index, mw) in middlewares.iter().enumerate() {
        let which = || format!("middleware {} ({})", index + 1, mw.origin);
        let package = register(&mut graph, &format!("middleware{index}"), &mw.bytes)
            .with_context(|| format!("{}: not a WebAssembly component", which()))?;
        let (imports, exports) = (imports(&graph, package), exports(&graph, package));
        if !imports.iter().any(|i| i == HANDLER) || !exports.iter().any(|e| e == HANDLER) {
            bail!(
                "{}: a middleware must import and export `{HANDLER}` (spin-sdk 7 `http-middleware`); it imports {} and exports {}",
                which(),
                list(&imports),
                list(&exports)
            );
        }
        packages.push(package);
    }

    // Innermost first: each instance's handler import is the previous handler export.
    let instance = graph.instantiate(primary);
    let mut handler = graph.alias_instance_export(instance, HANDLER)?;
    let mut denials = Denials::default();
    for (index, (&package, mw)) in packages.iter().zip(middlewares).enumerate().rev() {
        let instance = graph.instantiate(package);
        graph
            .set_instantiation_argument(instance, HANDLER, handler)
            .with_context(|| format!("middleware {} ({}): its `{HANDLER}` import", index + 1, mw.origin))?;
        denials
            .cut_off(&mut graph, package, instance, &mw.inherit)
            .with_context(|| format!("middleware {} ({})", index + 1, mw.origin))?;
        handler = graph.alias_instance_export(instance, HANDLER)?;
    }
    graph.export(handler, HANDLER)?;
    graph.encode(EncodeOptions::default()).context("encoding the composed component")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locked::InheritConfiguration;
    use crate::runtime::compose::DENIED_SUFFIX;
    use wasmtime::component::{Component, Linker};
    use wasmtime::{Engine, Store};

    /// A stand-in handler interface (`handle: func(x: u32) -> u32`) keeps these
    /// components small; composition only needs the names and types to agree.
    const HANDLER_TYPE: &str = r#"(export "handle" (func (param "x" u32) (result u32)))"#;
    use crate::runtime::compose::test_components::ENV_TYPE;

    /// A middleware answering `next(x + 1) * 2 + env.get()`.
    fn middleware() -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component
                (import "wasi:http/handler@0.3.0" (instance $next {HANDLER_TYPE}))
                (import "wasi:cli/environment@0.2.6" (instance $env {ENV_TYPE}))
                (core module $m
                    (import "next" "handle" (func $next (param i32) (result i32)))
                    (import "env" "get" (func $env (result i32)))
                    (func (export "handle") (param i32) (result i32)
                        (i32.add
                            (i32.mul (call $next (i32.add (local.get 0) (i32.const 1))) (i32.const 2))
                            (call $env))))
                (core func $next_handle (canon lower (func $next "handle")))
                (core func $env_get (canon lower (func $env "get")))
                (core instance $i (instantiate $m
                    (with "next" (instance (export "handle" (func $next_handle))))
                    (with "env" (instance (export "get" (func $env_get))))))
                (func $handle (param "x" u32) (result u32) (canon lift (core func $i "handle")))
                (instance $out (export "handle" (func $handle)))
                (export "wasi:http/handler@0.3.0" (instance $out)))"#
        ))
        .unwrap()
    }

    /// The trigger's component, answering `x * 10 + env.get()`.
    fn primary() -> Vec<u8> {
        crate::runtime::compose::test_components::scaling(HANDLER, "handle", 10)
    }

    fn mw(inherit: InheritConfiguration) -> ComposedIn {
        ComposedIn { bytes: middleware(), inherit, origin: "mw.wasm".into() }
    }

    /// Runs `handle(x)` of `composed` with `get()` = 5 for the host's environment;
    /// a denied environment traps.
    fn run(composed: &[u8], x: u32) -> anyhow::Result<u32> {
        let engine = Engine::default();
        let component = Component::new(&engine, composed)?;
        let mut linker = Linker::<()>::new(&engine);
        linker.instance("wasi:cli/environment@0.2.6")?.func_wrap("get", |_, ()| Ok((5u32,)))?;
        for (name, _) in component.component_type().imports(&engine) {
            if name.contains(DENIED_SUFFIX) {
                linker.instance(name)?.func_new("get", |_, _, _, _| Err(wasmtime::Error::msg("denied")))?;
            }
        }
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component)?;
        let handler = instance.get_export_index(&mut store, None, HANDLER).unwrap();
        let handle = instance.get_export_index(&mut store, Some(&handler), "handle").unwrap();
        let handle = instance.get_typed_func::<(u32,), (u32,)>(&mut store, handle)?;
        Ok(handle.call(&mut store, (x,))?.0)
    }

    #[test]
    fn middlewares_run_outermost_first_in_front_of_the_component() {
        assert_eq!(run(&primary(), 1).unwrap(), 15);
        let one = compose(&primary(), &[mw(InheritConfiguration::All)]).unwrap();
        // (2 * 10 + 5) * 2 + 5
        assert_eq!(run(&one, 1).unwrap(), 55);
        let env = InheritConfiguration::Some(vec!["environment".into()]);
        let two = compose(&primary(), &[mw(InheritConfiguration::All), mw(env)]).unwrap();
        // inner: (3 * 10 + 5) * 2 + 5 = 75; outer: 75 * 2 + 5
        assert_eq!(run(&two, 1).unwrap(), 155);
    }

    #[test]
    fn a_middleware_that_does_not_inherit_a_configuration_cannot_reach_it() {
        let composed = compose(&primary(), &[mw(InheritConfiguration::default())]).unwrap();
        let engine = Engine::default();
        let imports: Vec<String> = Component::new(&engine, &composed)
            .unwrap()
            .component_type()
            .imports(&engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        // The component keeps the host's environment; the middleware's is cut off.
        assert!(imports.contains(&"wasi:cli/environment@0.2.6".to_owned()), "{imports:?}");
        assert!(imports.contains(&"wasi-denied:cli/environment@0.2.6".to_owned()), "{imports:?}");
        let err = run(&composed, 1).unwrap_err();
        assert!(format!("{err:?}").contains("denied"), "{err:?}");
        // Two middlewares denied the same interface share one cut-off import.
        let none = InheritConfiguration::default;
        assert!(compose(&primary(), &[mw(none()), mw(none())]).is_ok());
    }

    #[test]
    fn what_cannot_be_composed_is_named() {
        let err = |r: anyhow::Result<Vec<u8>>| format!("{:#}", r.unwrap_err());
        let not_a_middleware =
            ComposedIn { bytes: primary(), inherit: InheritConfiguration::All, origin: "p.wasm".into() };
        let e = err(compose(&primary(), &[not_a_middleware]));
        assert!(
            e.contains("middleware 1 (p.wasm): a middleware must import and export `wasi:http/handler@0.3.0`"),
            "{e}"
        );
        let e = err(compose(b"not wasm", &[mw(InheritConfiguration::All)]));
        assert!(e.contains("not a WebAssembly component"), "{e}");
        let no_handler = wat::parse_str("(component)").unwrap();
        let e = err(compose(&no_handler, &[mw(InheritConfiguration::All)]));
        assert!(e.contains("middleware needs the component to export `wasi:http/handler@0.3.0`"), "{e}");
        let core = ComposedIn {
            bytes: wat::parse_str("(module)").unwrap(),
            inherit: InheritConfiguration::All,
            origin: "core.wasm".into(),
        };
        let e = err(compose(&primary(), &[core]));
        assert!(e.contains("middleware 1 (core.wasm): not a WebAssembly component"), "{e}");
    }
}
