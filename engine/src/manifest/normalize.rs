//! Normalisation of a V2 manifest (spec §1.4): every trigger gets an id and every inline
//! component is moved into `[component]` and replaced by a reference.

use std::collections::HashSet;

use super::ids::validate_component_id;
use super::v2::{AppManifest, ComponentSpec};

/// Assigns missing trigger ids, then hoists inline components (in that order).
pub fn normalize(manifest: &mut AppManifest) {
    normalize_trigger_ids(manifest);
    normalize_inline_components(manifest);
}

/// Gives each trigger without an id `<component-id>-<type>-trigger` (when it references a
/// component and that id is free) or else the first free `<type>-trigger<N>`.
pub(crate) fn normalize_trigger_ids(manifest: &mut AppManifest) {
    let mut used: HashSet<String> =
        manifest.triggers.values().flatten().filter(|t| !t.id.is_empty()).map(|t| t.id.clone()).collect();
    for (trigger_type, triggers) in manifest.triggers.iter_mut() {
        for trigger in triggers.iter_mut().filter(|t| t.id.is_empty()) {
            let preferred = match &trigger.component {
                Some(ComponentSpec::Reference(id)) => Some(format!("{id}-{trigger_type}-trigger")),
                _ => None,
            };
            let id = preferred
                .filter(|id| !used.contains(id))
                .unwrap_or_else(|| first_free(&used, |n| format!("{trigger_type}-trigger{n}")));
            used.insert(id.clone());
            trigger.id = id;
        }
    }
}

/// Moves inline components into `[component]`: a lone one becomes `<trigger-id>-component`
/// (when valid and free), otherwise each becomes the first free `inline-component<N>`.
pub(crate) fn normalize_inline_components(manifest: &mut AppManifest) {
    let mut used: HashSet<String> = manifest.components.keys().cloned().collect();
    let mut hoisted = Vec::new();
    for trigger in manifest.triggers.values_mut().flatten() {
        let trigger_id = trigger.id.clone();
        let several = trigger.component_specs().count() > 1;
        for spec in trigger.component_specs_mut() {
            if !matches!(spec, ComponentSpec::Inline(_)) {
                continue;
            }
            let preferred = format!("{trigger_id}-component");
            let id = if !several && validate_component_id(&preferred).is_ok() && !used.contains(&preferred) {
                preferred
            } else {
                first_free(&used, |n| format!("inline-component{n}"))
            };
            used.insert(id.clone());
            let ComponentSpec::Inline(component) = std::mem::replace(spec, ComponentSpec::Reference(id.clone())) else {
                unreachable!("checked above")
            };
            hoisted.push((id, *component));
        }
    }
    manifest.components.extend(hoisted);
}

fn first_free(used: &HashSet<String>, candidate: impl Fn(usize) -> String) -> String {
    (1..).map(candidate).find(|id| !used.contains(id)).expect("an unbounded counter always finds a free id")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::v2::AppManifest;

    fn manifest(text: &str) -> AppManifest {
        let mut m: AppManifest = toml::from_str(text).unwrap();
        normalize(&mut m);
        m
    }

    const HEAD: &str = "spin_manifest_version = 2\n[application]\nname = \"a\"\n";

    #[test]
    fn trigger_ids_from_component_or_counter() {
        let m = manifest(&format!(
            r#"{HEAD}
[[trigger.http]]
route = "/a"
component = "hello"
[[trigger.http]]
route = "/b"
component = "hello"
[[trigger.http]]
id = "http-trigger1"
route = "/c"
component = "hello"
[[trigger.redis]]
channel = "c"
component = "hello"
[component.hello]
source = "hello.wasm"
"#
        ));
        let http: Vec<_> = m.triggers["http"].iter().map(|t| t.id.as_str()).collect();
        assert_eq!(http, vec!["hello-http-trigger", "http-trigger2", "http-trigger1"]);
        assert_eq!(m.triggers["redis"][0].id, "hello-redis-trigger");
    }

    #[test]
    fn single_inline_component_named_after_trigger() {
        let m = manifest(&format!(
            r#"{HEAD}
[[trigger.http]]
route = "/..."
component = {{ source = "inline.wasm", allowed_outbound_hosts = ["https://x.com"] }}
"#
        ));
        let t = &m.triggers["http"][0];
        assert_eq!(t.id, "http-trigger1");
        assert_eq!(t.component, Some(ComponentSpec::Reference("http-trigger1-component".into())));
        assert_eq!(m.components["http-trigger1-component"].allowed_outbound_hosts, vec!["https://x.com"]);
    }

    #[test]
    fn several_inline_components_are_numbered() {
        let m = manifest(&format!(
            r#"{HEAD}
[[trigger.http]]
id = "main"
route = "/..."
component = {{ source = "main.wasm" }}
components = {{ middleware = [{{ source = "m1.wasm" }}, "existing"] }}
[component.existing]
source = "e.wasm"
"#
        ));
        let t = &m.triggers["http"][0];
        assert_eq!(t.component, Some(ComponentSpec::Reference("inline-component1".into())));
        assert_eq!(
            t.components["middleware"].0,
            vec![ComponentSpec::Reference("inline-component2".into()), ComponentSpec::Reference("existing".into())]
        );
        assert_eq!(m.components.len(), 3);
    }

    #[test]
    fn inline_id_clash_falls_back_to_counter() {
        let m = manifest(&format!(
            r#"{HEAD}
[[trigger.http]]
id = "web"
route = "/..."
component = {{ source = "main.wasm" }}
[component.web-component]
source = "other.wasm"
"#
        ));
        assert_eq!(m.triggers["http"][0].component, Some(ComponentSpec::Reference("inline-component1".into())));
        let m = manifest(&format!(
            r#"{HEAD}
[[trigger.http]]
id = "Bad_Id"
route = "/..."
component = {{ source = "main.wasm" }}
"#
        ));
        assert!(m.components.contains_key("inline-component1"));
    }
}
