//! Serde types for a spin.toml in format version 1 (spec §1.6) and their conversion to V2.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use serde::Deserialize;

use super::ids::{repair_component_id, validate_component_id};
use super::v2::{AppDetails, AppManifest, Component, ComponentSource, ComponentSpec, FileMount, Trigger, Variable};

/// Hosts a V1 component may reach when it does not declare `allowed_outbound_hosts`.
pub(crate) const V1_IMPLICIT_OUTBOUND_HOSTS: [&str; 3] = ["redis://*:*", "mysql://*:*", "postgres://*:*"];

/// A whole V1 manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppManifestV1 {
    /// Always `"1"` (checked before this type is parsed; accepted here).
    #[serde(alias = "spin_version", rename = "spin_manifest_version")]
    _spin_manifest_version: String,
    /// App name.
    pub name: String,
    /// App version.
    #[serde(default)]
    pub version: Option<String>,
    /// App description.
    #[serde(default)]
    pub description: Option<String>,
    /// Authors.
    #[serde(default)]
    pub authors: Vec<String>,
    /// Legacy namespace (accepted and ignored).
    #[serde(default, rename = "namespace")]
    _namespace: Option<String>,
    /// `trigger = { type = "...", <app-level trigger config> }`.
    pub trigger: toml::Table,
    /// App variables.
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    /// `[[component]]` entries.
    #[serde(default, rename = "component")]
    pub components: Vec<ComponentV1>,
}

/// One V1 `[[component]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComponentV1 {
    /// Component id (repaired to kebab case on conversion).
    pub id: String,
    /// Wasm source.
    pub source: ComponentSource,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// `[component.trigger]`: per-component trigger config (route, executor, channel, ...).
    #[serde(default)]
    pub trigger: toml::Table,
    /// `[component.config]`: the V2 component `variables`.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// WASI environment.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Files.
    #[serde(default)]
    pub files: Vec<FileMount>,
    /// Excluded globs.
    #[serde(default)]
    pub exclude_files: Vec<String>,
    /// Deprecated HTTP allow-list.
    #[serde(default)]
    pub allowed_http_hosts: Vec<String>,
    /// Outbound allow-list; when absent, [`V1_IMPLICIT_OUTBOUND_HOSTS`] apply.
    #[serde(default)]
    pub allowed_outbound_hosts: Option<Vec<String>>,
    /// Key-value store labels.
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    /// SQLite database labels.
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    /// AI model names.
    #[serde(default)]
    pub ai_models: Vec<String>,
    /// Build settings (ignored).
    #[serde(default)]
    pub build: Option<toml::Value>,
}

impl AppManifestV1 {
    /// Converts to the V2 model: one trigger `trigger-<id>` per component, ids repaired.
    pub(crate) fn into_v2(self) -> anyhow::Result<AppManifest> {
        let mut global = self.trigger;
        let trigger_type = match global.remove("type") {
            Some(toml::Value::String(t)) if !t.is_empty() => t,
            Some(other) => bail!("`trigger.type` must be a string, found {other}"),
            None => bail!("missing `trigger.type` (e.g. trigger = {{ type = \"http\" }})"),
        };
        let mut triggers = Vec::new();
        let mut components = BTreeMap::new();
        for component in self.components {
            let original_id = component.id.clone();
            let (id, trigger, v2) =
                convert_component(component).with_context(|| format!("component `{original_id}`"))?;
            if components.insert(id.clone(), v2).is_some() {
                bail!("duplicate component id `{id}` (from `{original_id}`)");
            }
            triggers.push(trigger);
        }
        let mut trigger_global_configs = BTreeMap::new();
        if !global.is_empty() {
            trigger_global_configs.insert(trigger_type.clone(), global);
        }
        Ok(AppManifest {
            spin_manifest_version: 2,
            application: AppDetails {
                name: self.name,
                version: self.version,
                description: self.description,
                authors: self.authors,
                trigger_global_configs,
                ..AppDetails::default()
            },
            variables: self.variables,
            triggers: BTreeMap::from([(trigger_type, triggers)]),
            components,
        })
    }
}

fn convert_component(c: ComponentV1) -> anyhow::Result<(String, Trigger, Component)> {
    let id = repair_component_id(&c.id);
    validate_component_id(&id)?;
    let trigger = Trigger {
        id: format!("trigger-{id}"),
        component: Some(ComponentSpec::Reference(id.clone())),
        components: BTreeMap::new(),
        dependencies: BTreeMap::new(),
        config: c.trigger,
    };
    let allowed_outbound_hosts =
        c.allowed_outbound_hosts.unwrap_or_else(|| V1_IMPLICIT_OUTBOUND_HOSTS.map(String::from).to_vec());
    let component = Component {
        source: c.source,
        description: c.description,
        variables: c.config,
        environment: c.environment,
        files: c.files,
        exclude_files: c.exclude_files,
        allowed_http_hosts: c.allowed_http_hosts,
        allowed_outbound_hosts,
        key_value_stores: c.key_value_stores,
        sqlite_databases: c.sqlite_databases,
        ai_models: c.ai_models,
        build: c.build,
        ..Component::default()
    };
    Ok((id, trigger, component))
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = r#"
spin_manifest_version = "1"
authors = ["Fermyon Engineering <engineering@fermyon.com>"]
description = "A simple application that returns hello."
name = "spin-hello-world"
trigger = { type = "http", base = "/" }
version = "1.0.0"

[variables]
message = { default = "hello" }

[[component]]
id = "Hello_World"
source = "target/wasm32-wasi/release/spinhelloworld.wasm"
description = "A simple component that returns hello."
allowed_http_hosts = ["example.com"]
[component.trigger]
route = "/hello"
[component.config]
msg = "{{ message }}"
[component.build]
command = "cargo build --target wasm32-wasi --release"

[[component]]
id = "db"
source = "db.wasm"
allowed_outbound_hosts = ["postgres://db.internal"]
[component.trigger]
route = "/db/..."
executor = { type = "wagi" }
"#;

    #[test]
    fn converts_v1_to_v2() {
        let v1: AppManifestV1 = toml::from_str(V1).unwrap();
        let m = v1.into_v2().unwrap();
        assert_eq!(m.application.name, "spin-hello-world");
        assert_eq!(m.application.version.as_deref(), Some("1.0.0"));
        assert_eq!(m.application.trigger_global_configs["http"]["base"].as_str(), Some("/"));
        let http = &m.triggers["http"];
        assert_eq!(http[0].id, "trigger-hello-world");
        assert_eq!(http[0].component, Some(ComponentSpec::Reference("hello-world".into())));
        assert_eq!(http[0].config["route"].as_str(), Some("/hello"));
        assert_eq!(http[1].id, "trigger-db");
        assert!(http[1].config.contains_key("executor"));

        let hello = &m.components["hello-world"];
        assert_eq!(hello.variables["msg"], "{{ message }}");
        assert_eq!(hello.allowed_outbound_hosts, vec!["redis://*:*", "mysql://*:*", "postgres://*:*"]);
        assert_eq!(hello.allowed_http_hosts, vec!["example.com"]);
        assert_eq!(m.components["db"].allowed_outbound_hosts, vec!["postgres://db.internal"]);
    }

    #[test]
    fn missing_trigger_type_is_an_error() {
        let text = "spin_manifest_version = \"1\"\nname = \"x\"\ntrigger = { base = \"/\" }\n";
        let v1: AppManifestV1 = toml::from_str(text).unwrap();
        let err = v1.into_v2().unwrap_err();
        assert!(err.to_string().contains("trigger.type"), "{err}");
    }
}
