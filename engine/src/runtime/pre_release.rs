//! Components built against a WASI pre-release whose interfaces are, item for
//! item, those of a release are served as that release: their top-level import
//! and export names are rewritten (`wasi:http/handler@0.3.0-rc-2026-03-15` becomes
//! `wasi:http/handler@0.3.0`) before compilation, and the linker then checks every
//! imported and exported item's type as for any other component, so a rename can
//! never make an incompatible component run.
//!
//! - `0.3.0-rc-2026-03-15` is WASI 0.3's last release candidate, which Spin 4.0's
//!   SDKs (Rust `spin-sdk` 6) and the Go SDK v3 emit; its WIT differs from 0.3.0
//!   only in the version (and in `wasi:cli/exit.exit-with-code` being unstable).
//! - `0.2.0-rc-2023-11-10`, which componentize-py 0.7 emits, is 0.2.0 in every
//!   interface but `wasi:http/types`, which keeps its name and has bindings of its
//!   own (`host/wasi_http_rc`). Those bindings give its resources 0.2's host types,
//!   so the renamed handlers that use them type-check against 0.2's.
//! - `0.2.0-rc-2023-10-18` differs throughout and has bindings of its own.
//!
//! A component that imports or exports both a pre-release and its release (the
//! Python SDK 5 imports Spin 4.1's whole platform world, which holds both) is
//! left as it is: renaming would give two imports one name.

use std::collections::HashSet;
use std::convert::Infallible;

use wasm_encoder::reencode::{Error, Reencode, ReencodeComponent};
use wasm_encoder::{ComponentExternName, ComponentSectionId, RawSection};

/// A pre-release whose interfaces are a release's, but for some that this
/// runtime serves under the pre-release's own name.
struct SameAsRelease {
    /// The pre-release's version suffix.
    pre: &'static str,
    /// The release's version suffix.
    release: &'static str,
    /// Interfaces that keep the pre-release's name.
    own_bindings: &'static [&'static str],
}

const SAME_AS_RELEASE: &[SameAsRelease] = &[
    SameAsRelease { pre: "@0.3.0-rc-2026-03-15", release: "@0.3.0", own_bindings: &[] },
    SameAsRelease {
        pre: "@0.2.0-rc-2023-11-10",
        release: "@0.2.0",
        own_bindings: &["wasi:http/types@0.2.0-rc-2023-11-10"],
    },
];

/// `component` with its top-level import and export names moved from
/// [`SAME_AS_RELEASE`] pre-releases to their release, or `None` when it names
/// none of them or already names one of their releases. Nested modules and
/// components are copied as they are.
pub(crate) fn adopt_release_names(component: &[u8]) -> anyhow::Result<Option<Vec<u8>>> {
    if !SAME_AS_RELEASE.iter().any(|same| contains(component, same.pre.as_bytes())) {
        return Ok(None);
    }
    let mut renamer = Renamer::default();
    let mut out = wasm_encoder::Component::new();
    renamer
        .parse_component(&mut out, wasmparser::Parser::new(0), component)
        .map_err(|e| anyhow::anyhow!("rewriting pre-release interface names: {e}"))?;
    if renamer.renamed.is_empty() || renamer.renamed.iter().any(|name| renamer.kept.contains(name)) {
        return Ok(None);
    }
    Ok(Some(out.finish()))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The release name of `name`, when it ends in a pre-release of [`SAME_AS_RELEASE`]
/// and is not one of its interfaces with bindings of their own.
fn release_name(name: &str) -> Option<String> {
    SAME_AS_RELEASE.iter().find_map(|same| {
        let interface = name.strip_suffix(same.pre)?;
        (!same.own_bindings.contains(&name)).then(|| format!("{interface}{}", same.release))
    })
}

/// Re-encodes a component, renaming the imports and exports of its outermost level.
#[derive(Default)]
struct Renamer {
    /// How deeply nested the item being re-encoded is; 0 is the component itself.
    depth: u32,
    /// The outermost names given a release's name.
    renamed: HashSet<String>,
    /// The outermost names left as they were.
    kept: HashSet<String>,
}

impl Renamer {
    fn rename<'a>(&mut self, name: wasmparser::ComponentExternName<'a>) -> ComponentExternName<'a> {
        let mut name = ComponentExternName::from(name);
        if self.depth == 0 {
            match release_name(&name.name) {
                Some(release) => {
                    self.renamed.insert(release.clone());
                    name.name = release.into();
                }
                None => {
                    self.kept.insert(name.name.to_string());
                }
            }
        }
        name
    }
}

impl Reencode for Renamer {
    type Error = Infallible;
}

impl ReencodeComponent for Renamer {
    fn push_depth(&mut self) {
        self.depth += 1;
    }

    fn pop_depth(&mut self) {
        self.depth -= 1;
    }

    fn parse_component_import_section(
        &mut self,
        imports: &mut wasm_encoder::ComponentImportSection,
        section: wasmparser::ComponentImportSectionReader<'_>,
    ) -> Result<(), Error<Infallible>> {
        for import in section {
            let import = import?;
            imports.import(self.rename(import.name), self.component_type_ref(import.ty)?);
        }
        Ok(())
    }

    fn parse_component_export(
        &mut self,
        exports: &mut wasm_encoder::ComponentExportSection,
        export: wasmparser::ComponentExport<'_>,
    ) -> Result<(), Error<Infallible>> {
        let ty = export.ty.map(|t| self.component_type_ref(t)).transpose()?;
        let index = self.component_external_index(export.kind, export.index);
        exports.export(self.rename(export.name), export.kind.into(), index, ty);
        Ok(())
    }

    fn parse_component_submodule(
        &mut self,
        component: &mut wasm_encoder::Component,
        _parser: wasmparser::Parser,
        module: &[u8],
    ) -> Result<(), Error<Infallible>> {
        component.section(&RawSection { id: ComponentSectionId::CoreModule as u8, data: module });
        Ok(())
    }

    fn parse_component_subcomponent(
        &mut self,
        component: &mut wasm_encoder::Component,
        _parser: wasmparser::Parser,
        subcomponent: &[u8],
        _whole_component: &[u8],
    ) -> Result<(), Error<Infallible>> {
        component.section(&RawSection { id: ComponentSectionId::Component as u8, data: subcomponent });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component importing `wasi:random/random` at `version` and exporting a
    /// nested component's instance under `wasi:cli/run` at `version`, whose own
    /// import keeps the pre-release name.
    fn component(version: &str) -> Vec<u8> {
        let wat = format!(
            r#"(component
                (import "wasi:random/random@{version}" (instance $random
                    (export "get-random-u64" (func (result u64)))))
                (component $inner
                    (import "wasi:random/random@{version}" (instance
                        (export "get-random-u64" (func (result u64))))))
                (instance $i (instantiate $inner (with "wasi:random/random@{version}" (instance $random))))
                (export "wasi:cli/run@{version}" (instance $i)))"#
        );
        wat::parse_str(wat).unwrap()
    }

    fn names(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
        let component = wasmtime::component::Component::new(&wasmtime::Engine::default(), bytes).unwrap();
        let engine = component.engine();
        let ty = component.component_type();
        (
            ty.imports(engine).map(|(n, _)| n.to_string()).collect(),
            ty.exports(engine).map(|(n, _)| n.to_string()).collect(),
        )
    }

    #[test]
    fn the_last_wasi_03_candidate_is_served_as_the_release() {
        let renamed = adopt_release_names(&component("0.3.0-rc-2026-03-15")).unwrap().expect("renamed");
        wasmparser::Validator::new().validate_all(&renamed).unwrap();
        assert_eq!(names(&renamed), (vec!["wasi:random/random@0.3.0".into()], vec!["wasi:cli/run@0.3.0".into()]));
    }

    #[test]
    fn the_2023_11_10_candidate_is_served_as_0_2_0_but_for_its_http_types() {
        let renamed = adopt_release_names(&component("0.2.0-rc-2023-11-10")).unwrap().expect("renamed");
        assert_eq!(names(&renamed), (vec!["wasi:random/random@0.2.0".into()], vec!["wasi:cli/run@0.2.0".into()]));
        assert_eq!(
            release_name("wasi:http/outgoing-handler@0.2.0-rc-2023-11-10").as_deref(),
            Some("wasi:http/outgoing-handler@0.2.0")
        );
        assert_eq!(release_name("wasi:http/types@0.2.0-rc-2023-11-10"), None);
    }

    #[test]
    fn other_versions_are_left_alone() {
        assert!(adopt_release_names(&component("0.3.0")).unwrap().is_none());
        assert!(adopt_release_names(&component("0.2.0-rc-2023-10-18")).unwrap().is_none());
        assert_eq!(release_name("wasi:http/types@0.3.0-rc-2026-01-06"), None);
    }

    #[test]
    fn a_component_naming_both_the_candidate_and_the_release_is_left_alone() {
        let wat = r#"(component
            (import "wasi:random/random@0.3.0-rc-2026-03-15" (instance (export "get-random-u64" (func (result u64)))))
            (import "wasi:random/random@0.3.0" (instance (export "get-random-u64" (func (result u64))))))"#;
        assert!(adopt_release_names(&wat::parse_str(wat).unwrap()).unwrap().is_none());
    }
}
