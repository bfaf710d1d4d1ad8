//! Trigger dependencies (Spin 4.1 HTTP middleware) move from the trigger onto its
//! component, because the runtime looks composition up by component id.
//!
//! Spin's rule (its loader's `reassign_trigger_deps`): a component used by several
//! triggers, some of them with dependencies, is cloned once per trigger that has
//! dependencies, as `<component>-for-<trigger id>` (`-d<N>` appended on a clash),
//! and that trigger points at the clone; triggers without dependencies keep the
//! original. The component then carries `trigger_dependencies`, metadata
//! `resolve-trigger-dependencies-using = <trigger type>` and, for middleware, the
//! component host requirement `middleware = "required"` (announced in
//! `must_understand`).

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use crate::locked::{
    LockedApp, LockedTrigger, HOST_REQ_MIDDLEWARE, HOST_REQ_REQUIRED, MIDDLEWARE_ROLE,
    MUST_UNDERSTAND_COMPONENT_HOST_REQUIREMENTS,
};

/// Metadata key naming the trigger type whose composer resolves a component's trigger dependencies.
pub const RESOLVE_USING_KEY: &str = "resolve-trigger-dependencies-using";

/// Moves every trigger's dependencies onto its (possibly cloned) component.
pub(crate) fn reassign_trigger_deps(locked: &mut LockedApp) {
    if !locked.triggers.iter().any(has_deps) {
        return;
    }
    split_shared_components(locked);
    for trigger in &mut locked.triggers {
        if !has_deps(trigger) {
            trigger.trigger_dependencies.clear();
            continue;
        }
        let Some(component) = trigger.component_id().and_then(|id| locked.components.iter_mut().find(|c| c.id == id))
        else {
            continue;
        };
        component.trigger_dependencies = std::mem::take(&mut trigger.trigger_dependencies);
        component.metadata.insert(RESOLVE_USING_KEY.into(), trigger.trigger_type.clone().into());
        if component.trigger_dependencies.contains_key(MIDDLEWARE_ROLE) {
            component.host_requirements.insert(HOST_REQ_MIDDLEWARE.into(), HOST_REQ_REQUIRED.into());
            if !locked.must_understand.iter().any(|m| m == MUST_UNDERSTAND_COMPONENT_HOST_REQUIREMENTS) {
                locked.must_understand.push(MUST_UNDERSTAND_COMPONENT_HOST_REQUIREMENTS.into());
            }
        }
    }
}

/// Gives each trigger with dependencies its own copy of a component that other
/// triggers use too.
fn split_shared_components(locked: &mut LockedApp) {
    let mut users: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, trigger) in locked.triggers.iter().enumerate() {
        if let Some(id) = trigger.component_id() {
            users.entry(id.to_owned()).or_default().push(index);
        }
    }
    let mut seen = HashSet::new();
    let mut disambiguator = 0;
    for (component_id, triggers) in users {
        if triggers.len() < 2 || !triggers.iter().any(|&t| has_deps(&locked.triggers[t])) {
            continue;
        }
        for t in triggers {
            if !has_deps(&locked.triggers[t]) {
                continue;
            }
            let mut id = format!("{component_id}-for-{}", locked.triggers[t].id);
            if !seen.insert(id.clone()) {
                disambiguator += 1;
                id = format!("{id}-d{disambiguator}");
                seen.insert(id.clone());
            }
            let Some(original) = locked.component(&component_id) else { continue };
            let mut clone = original.clone();
            clone.id = id.clone();
            locked.components.push(clone);
            if let Some(config) = locked.triggers[t].trigger_config.as_object_mut() {
                config.insert("component".into(), Value::String(id));
            }
        }
    }
}

fn has_deps(trigger: &LockedTrigger) -> bool {
    trigger.trigger_dependencies.values().any(|deps| !deps.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locked::{ContentRef, LockedComponent, LockedComponentDependency, LockedComponentSource};
    use serde_json::json;

    fn dep(source: &str) -> LockedComponentDependency {
        LockedComponentDependency {
            source: LockedComponentSource {
                content_type: "application/wasm".into(),
                content: ContentRef { source: Some(source.into()), ..Default::default() },
            },
            ..Default::default()
        }
    }

    fn trigger(id: &str, component: &str, middleware: &[&str]) -> LockedTrigger {
        let deps = if middleware.is_empty() {
            BTreeMap::new()
        } else {
            BTreeMap::from([(MIDDLEWARE_ROLE.to_string(), middleware.iter().map(|m| dep(m)).collect())])
        };
        LockedTrigger {
            id: id.into(),
            trigger_type: "http".into(),
            trigger_config: json!({ "component": component, "route": format!("/{id}") }),
            trigger_dependencies: deps,
        }
    }

    fn component(id: &str) -> LockedComponent {
        LockedComponent { id: id.into(), ..Default::default() }
    }

    #[test]
    fn dependencies_move_to_the_component_and_shared_components_are_split_per_trigger() {
        let mut app = LockedApp {
            triggers: vec![
                trigger("four", "four-lights", &["file:///mw1.wasm", "file:///mw2.wasm"]),
                trigger("five", "five-lights", &[]),
                trigger("six-a", "six-lights", &["file:///mw1.wasm"]),
                trigger("six-b", "six-lights", &["file:///mw2.wasm"]),
                trigger("six-c", "six-lights", &[]),
            ],
            components: vec![component("four-lights"), component("five-lights"), component("six-lights")],
            ..Default::default()
        };
        reassign_trigger_deps(&mut app);

        let ids: Vec<_> = app.triggers.iter().map(|t| t.component_id().unwrap()).collect();
        assert_eq!(ids, ["four-lights", "five-lights", "six-lights-for-six-a", "six-lights-for-six-b", "six-lights"]);
        assert!(app.triggers.iter().all(|t| t.trigger_dependencies.is_empty()));
        let four = app.component("four-lights").unwrap();
        assert_eq!(four.trigger_dependencies[MIDDLEWARE_ROLE].len(), 2);
        assert_eq!(four.metadata[RESOLVE_USING_KEY], "http");
        assert_eq!(four.host_requirements[HOST_REQ_MIDDLEWARE], "required");
        let six_b = app.component("six-lights-for-six-b").unwrap();
        assert_eq!(six_b.trigger_dependencies[MIDDLEWARE_ROLE], vec![dep("file:///mw2.wasm")]);
        let six = app.component("six-lights").unwrap();
        assert!(six.trigger_dependencies.is_empty() && six.host_requirements.is_empty());
        assert!(app.component("five-lights").unwrap().trigger_dependencies.is_empty());
        assert_eq!(app.must_understand, [MUST_UNDERSTAND_COMPONENT_HOST_REQUIREMENTS]);
        // The lock round-trips and a reader accepts the requirement.
        let json = app.to_json_pretty().unwrap();
        assert!(json.contains(r#""spin_lock_version": 1"#), "{json}");
        assert_eq!(LockedApp::from_json(json.as_bytes()).unwrap().to_json_pretty().unwrap(), json);
    }

    #[test]
    fn an_app_without_dependencies_is_untouched() {
        let mut app = LockedApp {
            triggers: vec![trigger("a", "c", &[]), trigger("b", "c", &[])],
            components: vec![component("c")],
            ..Default::default()
        };
        let before = app.clone();
        reassign_trigger_deps(&mut app);
        assert_eq!(app, before);
    }
}
