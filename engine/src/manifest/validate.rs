//! Semantic checks on a normalised V2 manifest: names, the variable rule, trigger ids and
//! component references. Each error names the variable, component or trigger at fault.

use std::collections::HashSet;

use anyhow::{bail, Context};

use super::dependency_name::DependencyName;
use super::ids::{validate_component_id, validate_label, validate_variable_name};
use super::v2::{AppManifest, ComponentSpec, DependencySource, Trigger, Variable};
use crate::locked::MIDDLEWARE_ROLE;

/// Validates a normalised manifest.
pub fn validate(manifest: &AppManifest) -> anyhow::Result<()> {
    if manifest.application.name.trim().is_empty() {
        bail!("`[application] name` must not be empty");
    }
    for (name, variable) in &manifest.variables {
        validate_variable(name, variable).with_context(|| format!("variable `{name}`"))?;
    }
    for (id, component) in &manifest.components {
        validate_component_id(id)?;
        let in_component = || format!("component `{id}`");
        for key in component.variables.keys() {
            validate_variable_name(key).with_context(in_component)?;
        }
        for label in component.key_value_stores.iter().chain(&component.sqlite_databases) {
            validate_label(label).with_context(in_component)?;
        }
    }
    validate_component_dependencies(manifest)?;
    let mut trigger_ids = HashSet::new();
    for (trigger_type, triggers) in &manifest.triggers {
        for trigger in triggers {
            if !trigger_ids.insert(trigger.id.as_str()) {
                bail!("duplicate trigger id `{}` (in [[trigger.{trigger_type}]])", trigger.id);
            }
            for spec in trigger.component_specs() {
                if let ComponentSpec::Reference(id) = spec {
                    if !manifest.components.contains_key(id) {
                        bail!(
                            "trigger `{}` ([[trigger.{trigger_type}]]) references component `{id}`, which is not defined (expected a [component.{id}] table)",
                            trigger.id
                        );
                    }
                }
            }
            validate_trigger_dependencies(manifest, trigger_type, trigger)?;
        }
    }
    Ok(())
}

/// Checks a trigger's `dependencies`: only `middleware`, only on HTTP triggers
/// (Spin 4.1's one trigger-dependency role), and every `component` defined.
fn validate_trigger_dependencies(manifest: &AppManifest, trigger_type: &str, trigger: &Trigger) -> anyhow::Result<()> {
    let id = &trigger.id;
    for (role, deps) in &trigger.dependencies {
        if trigger_type != "http" {
            bail!("trigger `{id}` ([[trigger.{trigger_type}]]): `dependencies.{role}`: only HTTP triggers take dependencies");
        }
        if role != MIDDLEWARE_ROLE {
            bail!("trigger `{id}` ([[trigger.http]]): `dependencies.{role}`: the HTTP trigger's only dependency role is `middleware`");
        }
        for dep in deps {
            if let Some(export) = &dep.export {
                bail!("trigger `{id}` ([[trigger.http]]): `dependencies.{role}`: a middleware takes no `export` (found `{export}`)");
            }
            if let DependencySource::Component(component) = &dep.source {
                if !manifest.components.contains_key(component) {
                    bail!(
                        "trigger `{id}` ([[trigger.http]]): middleware component `{component}` is not defined (expected a [component.{component}] table)"
                    );
                }
            }
        }
    }
    Ok(())
}

/// Checks a component's `dependencies`: each key a dependency name (a plain
/// kebab name, or `ns:pkg[/interface][@version]`) and each `component` defined.
fn validate_component_dependencies(manifest: &AppManifest) -> anyhow::Result<()> {
    for (id, component) in &manifest.components {
        for (name, dep) in &component.dependencies {
            name.parse::<DependencyName>()
                .with_context(|| format!("component `{id}`: `dependencies`: `{name}` is not a dependency name"))?;
            if let DependencySource::Component(other) = &dep.source {
                if !manifest.components.contains_key(other) {
                    bail!(
                        "component `{id}`: dependency `{name}`: component `{other}` is not defined (expected a [component.{other}] table)"
                    );
                }
            }
        }
    }
    Ok(())
}

/// Checks one `[variables.<name>]` entry: a valid name, and exactly one of `required`/`default`.
pub(crate) fn validate_variable(name: &str, variable: &Variable) -> anyhow::Result<()> {
    validate_variable_name(name)?;
    if variable.required == variable.default.is_some() {
        bail!("must be `required` OR have a `default`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> anyhow::Result<()> {
        let mut m: AppManifest = toml::from_str(text).unwrap();
        super::super::normalize::normalize(&mut m);
        validate(&m)
    }

    const HEAD: &str = "spin_manifest_version = 2\n[application]\nname = \"a\"\n";

    #[test]
    fn variable_rule() {
        let ok = format!("{HEAD}[variables]\na = {{ required = true }}\nb = {{ default = \"x\" }}\n");
        check(&ok).unwrap();
        for bad in ["c = { required = true, default = \"x\" }", "c = { secret = true }", "c = { required = false }"] {
            let err = check(&format!("{HEAD}[variables]\n{bad}\n")).unwrap_err();
            assert_eq!(format!("{err:#}"), "variable `c`: must be `required` OR have a `default`");
        }
        let err = check(&format!("{HEAD}[variables]\nApiKey = {{ default = \"x\" }}\n")).unwrap_err();
        assert!(format!("{err:#}").contains("`ApiKey` is not a valid variable name"), "{err:#}");
    }

    #[test]
    fn bad_component_id_and_labels() {
        let err = check(&format!("{HEAD}[component.my_comp]\nsource = \"a.wasm\"\n")).unwrap_err();
        assert!(format!("{err:#}").contains("`my_comp` is not a valid component id"), "{err:#}");
        let err = check(&format!("{HEAD}[component.c]\nsource = \"a.wasm\"\nkey_value_stores = [\"bad label\"]\n"))
            .unwrap_err();
        assert!(format!("{err:#}").starts_with("component `c`: `bad label`"), "{err:#}");
        let err = check(&format!("{HEAD}[component.c]\nsource = \"a.wasm\"\nvariables = {{ BadKey = \"x\" }}\n"))
            .unwrap_err();
        assert!(format!("{err:#}").contains("`BadKey`"), "{err:#}");
    }

    #[test]
    fn unknown_component_reference_and_duplicate_ids() {
        let err = check(&format!("{HEAD}[[trigger.http]]\nroute = \"/\"\ncomponent = \"nope\"\n")).unwrap_err();
        assert!(format!("{err:#}").contains("references component `nope`"), "{err:#}");
        let err = check(&format!(
            "{HEAD}[[trigger.http]]\nid = \"t\"\nroute = \"/\"\ncomponent = \"c\"\n[[trigger.redis]]\nid = \"t\"\nchannel = \"x\"\ncomponent = \"c\"\n[component.c]\nsource = \"a.wasm\"\n"
        ))
        .unwrap_err();
        assert!(format!("{err:#}").contains("duplicate trigger id `t`"), "{err:#}");
    }
}
