//! Component dependencies (Spin 3's `[component.x.dependencies]`): each
//! dependency is instantiated once and its exports are plugged into the imports
//! its name covers (see `manifest::DependencyName`), so the component runs
//! with them inside its own instance. The composed component exports what the
//! component exports; whatever the component and its dependencies still import
//! comes from the host.
//!
//! A dependency's export fills an import of the same name, or the export
//! named by its `export` field. A dependency that covers none of the
//! component's imports, an import two dependencies cover, and an export that is
//! missing or of another type are errors that name both sides.
//!
//! Configuration: a dependency inherits the component's configuration as its
//! `inherit_configuration` (or the component's
//! `dependencies_inherit_configuration`) says; what it does not inherit is cut
//! off as `super` describes.

use std::collections::BTreeMap;

use anyhow::{bail, Context as _};
use wac_graph::{CompositionGraph, EncodeOptions};

use super::{exports, imports, list, register, ComposedIn, Denials};
use crate::manifest::DependencyName;

/// One dependency to compose: its name (which imports it covers), the export
/// that fills them (absent: the export named as each import), and its wasm.
pub(crate) struct DependencyWasm {
    pub(crate) name: String,
    pub(crate) export: Option<String>,
    pub(crate) wasm: ComposedIn,
}

/// Composes `dependencies` into `component`'s imports.
pub(crate) fn compose_dependencies(component: &[u8], dependencies: &[DependencyWasm]) -> anyhow::Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    let package = register(&mut graph, "component", component)
        .context("the component is not a WebAssembly component, so its dependencies cannot be composed into it")?;
    let component_imports = imports(&graph, package);
    let instance = graph.instantiate(package);
    let mut denials = Denials::default();
    // Which dependency fills each import, to refuse an import two would fill.
    let mut filled: BTreeMap<&str, &str> = BTreeMap::new();
    for (index, dep) in dependencies.iter().enumerate() {
        let which = || format!("dependency `{}` ({})", dep.name, dep.wasm.origin);
        let name: DependencyName =
            dep.name.parse().with_context(|| format!("`{}` is not a dependency name", dep.name))?;
        let covered: Vec<&String> = component_imports.iter().filter(|import| name.matches(import)).collect();
        if covered.is_empty() {
            bail!("{} matches none of the component's imports ({})", which(), list(&component_imports));
        }
        let dep_package = register(&mut graph, &format!("dependency{index}"), &dep.wasm.bytes)
            .with_context(|| format!("{}: not a WebAssembly component", which()))?;
        let dep_exports = exports(&graph, dep_package);
        let dep_instance = graph.instantiate(dep_package);
        denials.cut_off(&mut graph, dep_package, dep_instance, &dep.wasm.inherit).with_context(which)?;
        for import in covered {
            if let Some(other) = filled.insert(import, &dep.name) {
                bail!("the component's import `{import}` is covered by two dependencies, `{other}` and `{}`", dep.name);
            }
            let export = dep.export.as_deref().unwrap_or(import);
            if !dep_exports.iter().any(|e| e == export) {
                bail!(
                    "{} does not export `{export}` for the import `{import}`; it exports {}",
                    which(),
                    list(&dep_exports)
                );
            }
            let node = graph.alias_instance_export(dep_instance, export)?;
            graph
                .set_instantiation_argument(instance, import, node)
                .with_context(|| format!("{}: its export `{export}` does not fit the import `{import}`", which()))?;
        }
    }
    for export in exports(&graph, package) {
        let node = graph.alias_instance_export(instance, &export)?;
        graph.export(node, &export)?;
    }
    graph.encode(EncodeOptions::default()).context("encoding the component composed with its dependencies")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locked::InheritConfiguration;
    use wasmtime::component::{Component, Linker};
    use wasmtime::{Engine, Store};

    const GREET: &str = "demo:greeter/greet@0.1.0";
    const ENV: &str = "wasi:cli/environment@0.2.6";
    /// A stand-in interface (`greet: func(x: u32) -> u32`).
    const GREET_TYPE: &str = r#"(export "greet" (func (param "x" u32) (result u32)))"#;

    /// The component: exports `run(x) = greet(x) + 1000`, importing `import`.
    fn component(import: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component
                (import "{import}" (instance $dep {GREET_TYPE}))
                (core module $m
                    (import "dep" "greet" (func $greet (param i32) (result i32)))
                    (func (export "run") (param i32) (result i32)
                        (i32.add (call $greet (local.get 0)) (i32.const 1000))))
                (core func $greet (canon lower (func $dep "greet")))
                (core instance $i (instantiate $m (with "dep" (instance (export "greet" (func $greet))))))
                (func $run (param "x" u32) (result u32) (canon lift (core func $i "run")))
                (export "run" (func $run)))"#
        ))
        .unwrap()
    }

    /// A dependency exporting `greet(x) = x * factor + env.get()` as `export`.
    fn dependency(export: &str, factor: u32) -> Vec<u8> {
        crate::runtime::compose::test_components::scaling(export, "greet", factor)
    }

    fn dep(name: &str, bytes: Vec<u8>, export: Option<&str>, inherit: InheritConfiguration) -> DependencyWasm {
        let wasm = ComposedIn { bytes, inherit, origin: "dep.wasm".into() };
        DependencyWasm { name: name.into(), export: export.map(Into::into), wasm }
    }

    /// Runs `run(x)` of `composed` with the host's `get()` = 5; a denied
    /// environment traps.
    fn run(composed: &[u8], x: u32) -> anyhow::Result<u32> {
        let engine = Engine::default();
        let component = Component::new(&engine, composed)?;
        let mut linker = Linker::<()>::new(&engine);
        linker.instance(ENV)?.func_wrap("get", |_, ()| Ok((5u32,)))?;
        for (name, _) in component.component_type().imports(&engine) {
            if name.contains(super::super::DENIED_SUFFIX) {
                linker.instance(name)?.func_new("get", |_, _, _, _| Err(wasmtime::Error::msg("denied")))?;
            }
        }
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component)?;
        let run = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "run")?;
        Ok(run.call(&mut store, (x,))?.0)
    }

    #[test]
    fn a_dependency_fills_the_imports_its_name_covers() {
        for name in [GREET, "demo:greeter/greet", "demo:greeter", "demo:greeter@0.1.0"] {
            let composed = compose_dependencies(
                &component(GREET),
                &[dep(name, dependency(GREET, 3), None, InheritConfiguration::All)],
            )
            .unwrap();
            // 2 * 3 + 5 + 1000
            assert_eq!(run(&composed, 2).unwrap(), 1011, "{name}");
        }
        // A plain name, and an export of another name.
        let plain = compose_dependencies(
            &component("greeter"),
            &[dep("greeter", dependency("other:pkg/hello", 4), Some("other:pkg/hello"), InheritConfiguration::All)],
        )
        .unwrap();
        assert_eq!(run(&plain, 2).unwrap(), 1013);
    }

    #[test]
    fn a_dependency_that_does_not_inherit_the_environment_cannot_reach_it() {
        let composed = compose_dependencies(
            &component(GREET),
            &[dep(GREET, dependency(GREET, 3), None, InheritConfiguration::default())],
        )
        .unwrap();
        let err = run(&composed, 2).unwrap_err();
        assert!(format!("{err:?}").contains("denied"), "{err:?}");
        let env = InheritConfiguration::Some(vec!["environment".into()]);
        let composed = compose_dependencies(&component(GREET), &[dep(GREET, dependency(GREET, 3), None, env)]).unwrap();
        assert_eq!(run(&composed, 2).unwrap(), 1011);
    }

    #[test]
    fn what_cannot_be_composed_is_named() {
        let err = |deps: &[DependencyWasm]| format!("{:#}", compose_dependencies(&component(GREET), deps).unwrap_err());
        let all = || InheritConfiguration::All;
        let e = err(&[dep("demo:other", dependency(GREET, 1), None, all())]);
        assert!(
            e.contains(
                "dependency `demo:other` (dep.wasm) matches none of the component's imports (demo:greeter/greet@0.1.0)"
            ),
            "{e}"
        );
        let e = err(&[
            dep(GREET, dependency(GREET, 1), None, all()),
            dep("demo:greeter", dependency(GREET, 2), None, all()),
        ]);
        assert!(e.contains("covered by two dependencies, `demo:greeter/greet@0.1.0` and `demo:greeter`"), "{e}");
        let e = err(&[dep(GREET, dependency("demo:greeter/greet@0.2.0", 1), None, all())]);
        assert!(e.contains("does not export `demo:greeter/greet@0.1.0` for the import"), "{e}");
        assert!(e.contains("it exports demo:greeter/greet@0.2.0"), "{e}");
        let e = err(&[dep(GREET, b"\0asm not really".to_vec(), None, all())]);
        assert!(e.contains("not a WebAssembly component"), "{e}");
        let e = err(&[dep("Not A Name", dependency(GREET, 1), None, all())]);
        assert!(e.contains("`Not A Name` is not a dependency name"), "{e}");
        // An export of another shape.
        let wrong = wat::parse_str(format!(
            r#"(component
                (core module $m (func (export "f") (result i32) (i32.const 0)))
                (core instance $i (instantiate $m))
                (func $f (result u32) (canon lift (core func $i "f")))
                (instance $out (export "greet" (func $f)))
                (export "{GREET}" (instance $out)))"#
        ))
        .unwrap();
        let e = err(&[dep(GREET, wrong, None, all())]);
        assert!(e.contains("does not fit the import"), "{e}");
    }
}
