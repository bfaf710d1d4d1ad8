//! Serde types for a spin.toml in format version 2 (spec §1.2, §1.3).
//!
//! The app, `[application]` and components reject unknown fields; trigger tables are open-ended.

use std::collections::BTreeMap;

use serde::de::SeqAccess;
use serde::{Deserialize, Deserializer};

use super::de::{seq_of, string_or_table, StringOrTable};

/// A whole V2 manifest (a V1 manifest is converted into this).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppManifest {
    /// Always 2 once parsed.
    #[serde(alias = "spin_version")]
    pub spin_manifest_version: u32,
    /// `[application]`.
    pub application: AppDetails,
    /// `[variables.<name>]`.
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    /// `[[trigger.<type>]]`, by type.
    #[serde(default, rename = "trigger")]
    pub triggers: BTreeMap<String, Vec<Trigger>>,
    /// `[component.<id>]`, by id.
    #[serde(default, rename = "component")]
    pub components: BTreeMap<String, Component>,
}

/// The `[application]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppDetails {
    /// App name (required).
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
    /// Environment targets (ignored by this runtime).
    #[serde(default)]
    pub targets: Vec<toml::Value>,
    /// `[application.trigger.<type>]` app-level trigger settings.
    #[serde(default, rename = "trigger")]
    pub trigger_global_configs: BTreeMap<String, toml::Table>,
    /// `[application.tool.<name>]` (ignored).
    #[serde(default)]
    pub tool: BTreeMap<String, toml::Table>,
}

/// A `[variables.<name>]` entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// Whether a provider must supply the value.
    #[serde(default)]
    pub required: bool,
    /// Default value.
    #[serde(default)]
    pub default: Option<String>,
    /// Whether the value is secret.
    #[serde(default)]
    pub secret: bool,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// One `[[trigger.<type>]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Trigger {
    /// Trigger id; empty until normalisation assigns one.
    #[serde(default)]
    pub id: String,
    /// The component it invokes (reference or inline table).
    #[serde(default)]
    pub component: Option<ComponentSpec>,
    /// Trigger-specific named component sets.
    #[serde(default)]
    pub components: BTreeMap<String, ComponentSpecs>,
    /// `dependencies = { <role> = [dep, ...] }` (Spin 4.1; `middleware` on http).
    #[serde(default)]
    pub dependencies: BTreeMap<String, Vec<Dependency>>,
    /// Every other key: opaque trigger configuration.
    #[serde(flatten)]
    pub config: toml::Table,
}

/// A trigger's `component`: an id or an inline component.
#[derive(Debug, Clone, PartialEq)]
pub enum ComponentSpec {
    /// The id of a `[component.<id>]`.
    Reference(String),
    /// A component defined inside the trigger.
    Inline(Box<Component>),
}

/// One or several [`ComponentSpec`]s (a value of a trigger's `components` table).
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentSpecs(pub Vec<ComponentSpec>);

/// A dependency: one entry of a trigger's `dependencies.<role>` list, or one
/// value of a component's `dependencies` table (whose key names the imports it
/// satisfies).
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    /// Where the dependency's Wasm comes from.
    pub source: DependencySource,
    /// `export`: the dependency's export that satisfies the imports (component
    /// dependencies only; absent: the export named as each import).
    pub export: Option<String>,
    /// `inherit_configuration`: what it may use of its component's configuration
    /// (absent: a trigger dependency inherits nothing, a component dependency
    /// what the component's `dependencies_inherit_configuration` says).
    pub inherit_configuration: Option<InheritConfiguration>,
}

/// Where a dependency's Wasm comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum DependencySource {
    /// `{ component = "<id>" }`: the Wasm of a component of the app (only its Wasm).
    Component(String),
    /// `{ path = "x.wasm" }`, relative to the manifest directory.
    Path(String),
    /// `{ url, digest }`.
    Url {
        /// Download URL.
        url: String,
        /// `sha256:<hex>`.
        digest: String,
    },
    /// `"<version>"` or `{ version, registry?, package? }`.
    Registry {
        /// Registry address, if not the one wasm-pkg's configuration names.
        registry: Option<String>,
        /// `namespace:name`; absent: the package the dependency's key names.
        package: Option<String>,
        /// Version requirement.
        version: String,
    },
}

/// `inherit_configuration = true | false | ["key", ...]` (absent: `false`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum InheritConfiguration {
    /// `true`: everything; `false`: nothing.
    All(bool),
    /// Only these configuration keys.
    Some(Vec<String>),
}

impl Default for InheritConfiguration {
    fn default() -> Self {
        Self::All(false)
    }
}

/// The table form of a dependency.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DependencyTable {
    component: Option<String>,
    path: Option<String>,
    url: Option<String>,
    digest: Option<String>,
    registry: Option<String>,
    package: Option<String>,
    version: Option<String>,
    export: Option<String>,
    inherit_configuration: Option<InheritConfiguration>,
}

impl StringOrTable for Dependency {
    type Table = DependencyTable;
    const EXPECTING: &'static str = "a version requirement, or a table `{ component }`, `{ path }`, `{ url, digest }` or `{ registry?, package?, version }`";

    fn from_string(version: String) -> Self {
        Self {
            source: DependencySource::Registry { registry: None, package: None, version },
            export: None,
            inherit_configuration: None,
        }
    }

    fn from_table(t: DependencyTable) -> Result<Self, String> {
        let source = match t {
            DependencyTable {
                component: Some(id),
                path: None,
                url: None,
                digest: None,
                registry: None,
                package: None,
                version: None,
                ..
            } => DependencySource::Component(id),
            DependencyTable {
                path: Some(path),
                component: None,
                url: None,
                digest: None,
                registry: None,
                package: None,
                version: None,
                ..
            } => DependencySource::Path(path),
            DependencyTable {
                url: Some(url),
                digest: Some(digest),
                component: None,
                path: None,
                registry: None,
                package: None,
                version: None,
                ..
            } => DependencySource::Url { url, digest },
            DependencyTable {
                version: Some(version), component: None, path: None, url: None, digest: None, ..
            } => DependencySource::Registry { registry: t.registry, package: t.package, version },
            _ => {
                return Err(format!(
                    "invalid dependency: expected {}, each with an optional `export` and `inherit_configuration`",
                    Self::EXPECTING
                ))
            }
        };
        Ok(Self { source, export: t.export, inherit_configuration: t.inherit_configuration })
    }
}

impl<'de> Deserialize<'de> for Dependency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_or_table(d)
    }
}

/// A `[component.<id>]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Where the Wasm comes from.
    pub source: ComponentSource,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Component variables: lower_snake name -> template.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// WASI environment.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Files to make visible to the guest.
    #[serde(default)]
    pub files: Vec<FileMount>,
    /// Globs (relative to the app dir) excluded from `files`.
    #[serde(default)]
    pub exclude_files: Vec<String>,
    /// Deprecated HTTP allow-list; converted into `allowed_outbound_hosts` on parse.
    #[serde(default)]
    pub allowed_http_hosts: Vec<String>,
    /// Outbound network allow-list (spec §6).
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Key-value store labels.
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    /// SQLite database labels.
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    /// AI model names.
    #[serde(default)]
    pub ai_models: Vec<String>,
    /// Environment targets (ignored).
    #[serde(default)]
    pub targets: Vec<toml::Value>,
    /// Build settings (ignored by the runtime).
    #[serde(default)]
    pub build: Option<toml::Value>,
    /// `[component.x.tool.*]` (ignored).
    #[serde(default)]
    pub tool: BTreeMap<String, toml::Table>,
    /// Whether dependencies inherit this component's configuration.
    #[serde(default)]
    pub dependencies_inherit_configuration: bool,
    /// Component dependencies (composed into the component at load time), by
    /// the name of the import(s) each satisfies.
    #[serde(default)]
    pub dependencies: BTreeMap<String, Dependency>,
    /// `[component.x.profile.<name>]`: what each named profile changes (Spin 4).
    #[serde(default)]
    pub profile: BTreeMap<String, ComponentProfile>,
}

/// What a named profile changes in a component (`spin up --profile <name>`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentProfile {
    /// Replaces the component's `source`.
    #[serde(default)]
    pub source: Option<ComponentSource>,
    /// Added to (and overriding) the component's `environment`.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Added to (and overriding) the component's `dependencies`.
    #[serde(default)]
    pub dependencies: BTreeMap<String, Dependency>,
    /// Build settings (ignored by the runtime).
    #[serde(default)]
    pub build: Option<toml::Value>,
}

/// A component `source`.
#[derive(Debug, Clone, PartialEq)]
pub enum ComponentSource {
    /// A path relative to the manifest directory.
    Local(String),
    /// `{ url, digest }`.
    Remote {
        /// Download URL.
        url: String,
        /// `sha256:<hex>`.
        digest: String,
    },
    /// `{ registry?, package, version }`.
    Registry {
        /// Registry host, if not the default.
        registry: Option<String>,
        /// `namespace:name`.
        package: String,
        /// Package version.
        version: String,
    },
}

/// A `files` item.
#[derive(Debug, Clone, PartialEq)]
pub enum FileMount {
    /// A path or glob relative to the app dir, placed at the same relative guest path.
    Pattern(String),
    /// `{ source, destination }`: a file or directory placed at an absolute guest path.
    Placement {
        /// File or directory, relative to the app dir.
        source: String,
        /// Absolute guest path.
        destination: String,
    },
}

impl Default for ComponentSource {
    fn default() -> Self {
        ComponentSource::Local(String::new())
    }
}

impl<'de> Deserialize<'de> for ComponentSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_or_table(d)
    }
}

impl StringOrTable for ComponentSpec {
    type Table = Component;
    const EXPECTING: &'static str = "a component id or an inline component table";
    fn from_string(s: String) -> Self {
        ComponentSpec::Reference(s)
    }
    fn from_table(t: Component) -> Result<Self, String> {
        Ok(ComponentSpec::Inline(Box::new(t)))
    }
}

impl<'de> Deserialize<'de> for ComponentSpecs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_or_table(d)
    }
}

impl StringOrTable for ComponentSpecs {
    type Table = Component;
    const EXPECTING: &'static str = "a component id, an inline component table, or an array of them";
    fn from_string(s: String) -> Self {
        ComponentSpecs(vec![ComponentSpec::Reference(s)])
    }
    fn from_table(t: Component) -> Result<Self, String> {
        Ok(ComponentSpecs(vec![ComponentSpec::Inline(Box::new(t))]))
    }
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        seq_of(seq).map(ComponentSpecs)
    }
}

/// The table form of a component `source`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceTable {
    url: Option<String>,
    digest: Option<String>,
    registry: Option<String>,
    package: Option<String>,
    version: Option<String>,
}

impl<'de> Deserialize<'de> for ComponentSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_or_table(d)
    }
}

impl StringOrTable for ComponentSource {
    type Table = SourceTable;
    const EXPECTING: &'static str = "a path string, `{ url, digest }` or `{ registry?, package, version }`";
    fn from_string(s: String) -> Self {
        ComponentSource::Local(s)
    }
    fn from_table(t: SourceTable) -> Result<Self, String> {
        match t {
            SourceTable { url: Some(url), digest: Some(digest), registry: None, package: None, version: None } => {
                Ok(ComponentSource::Remote { url, digest })
            }
            SourceTable { url: None, digest: None, registry, package: Some(package), version: Some(version) } => {
                Ok(ComponentSource::Registry { registry, package, version })
            }
            _ => Err(format!("invalid component source: expected {}", Self::EXPECTING)),
        }
    }
}

/// The table form of a `files` item.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlacementTable {
    source: String,
    destination: String,
}

impl<'de> Deserialize<'de> for FileMount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_or_table(d)
    }
}

impl StringOrTable for FileMount {
    type Table = PlacementTable;
    const EXPECTING: &'static str = "a path or glob string, or `{ source, destination }`";
    fn from_string(s: String) -> Self {
        FileMount::Pattern(s)
    }
    fn from_table(t: PlacementTable) -> Result<Self, String> {
        Ok(FileMount::Placement { source: t.source, destination: t.destination })
    }
}

impl Trigger {
    /// Every component spec of this trigger (`component` then each `components` entry).
    pub fn component_specs_mut(&mut self) -> impl Iterator<Item = &mut ComponentSpec> {
        self.component.iter_mut().chain(self.components.values_mut().flat_map(|s| s.0.iter_mut()))
    }

    /// Every component spec of this trigger, read-only.
    pub fn component_specs(&self) -> impl Iterator<Item = &ComponentSpec> {
        self.component.iter().chain(self.components.values().flat_map(|s| s.0.iter()))
    }
}
