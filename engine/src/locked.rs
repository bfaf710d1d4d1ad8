//! The locked application model (spec §2.1): the single, normalised, JSON-serialisable
//! description of an app that everything after the loader consumes.
//!
//! Writers omit empty strings, arrays and maps; readers ignore unknown fields but fail on
//! `must_understand` entries and required `host_requirements` this runtime does not support.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// `must_understand` entry announcing app-level `host_requirements`.
pub const MUST_UNDERSTAND_HOST_REQUIREMENTS: &str = "host_requirements";
/// `must_understand` entry announcing per-component `host_requirements`.
pub const MUST_UNDERSTAND_COMPONENT_HOST_REQUIREMENTS: &str = "component_host_requirements";
/// Host requirement key for in-process service chaining (`*.spin.internal`).
pub const HOST_REQ_LOCAL_SERVICE_CHAINING: &str = "local_service_chaining";
/// Host requirement key for trigger dependencies (HTTP middleware, Spin 4.1).
pub const HOST_REQ_MIDDLEWARE: &str = "middleware";
/// The host requirement value that marks a feature as needed.
pub const HOST_REQ_REQUIRED: &str = "required";
/// The one trigger-dependency role (of the HTTP trigger) this runtime composes.
pub const MIDDLEWARE_ROLE: &str = "middleware";
/// The host requirement value that lets a runtime ignore an unsupported requirement.
pub const HOST_REQ_OPTIONAL: &str = "optional";
/// Content type of a component's Wasm source.
pub const WASM_CONTENT_TYPE: &str = "application/wasm";

const SUPPORTED_MUST_UNDERSTAND: &[&str] =
    &[MUST_UNDERSTAND_HOST_REQUIREMENTS, MUST_UNDERSTAND_COMPONENT_HOST_REQUIREMENTS];
const SUPPORTED_APP_HOST_REQUIREMENTS: &[&str] = &[HOST_REQ_LOCAL_SERVICE_CHAINING, HOST_REQ_MIDDLEWARE];
const SUPPORTED_COMPONENT_HOST_REQUIREMENTS: &[&str] = &[HOST_REQ_MIDDLEWARE];

/// A whole locked application (the content of a `spin.lock` or an OCI config layer).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct LockedApp {
    /// Format version; on write it is recomputed (0 unless `must_understand`/`host_requirements` are used).
    #[serde(default, deserialize_with = "deserialize_lock_version")]
    pub spin_lock_version: u32,
    /// Features a reader must support to run this app.
    #[serde(default)]
    pub must_understand: Vec<String>,
    /// App metadata: `name`, `version`, `description`, `authors`, `origin`, `triggers`, `trigger`, ...
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// Host capabilities the app needs (`local_service_chaining`).
    #[serde(default)]
    pub host_requirements: Map<String, Value>,
    /// App variables by name.
    #[serde(default)]
    pub variables: BTreeMap<String, LockedVariable>,
    /// Every trigger of every type, in manifest order within a type.
    #[serde(default)]
    pub triggers: Vec<LockedTrigger>,
    /// Every component.
    #[serde(default)]
    pub components: Vec<LockedComponent>,
}

/// An app variable; it is required exactly when it has no default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LockedVariable {
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default value; `None` means the variable is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether the value is a secret (never logged).
    #[serde(default, skip_serializing_if = "is_false")]
    pub secret: bool,
}

/// One trigger entry (`[[trigger.<type>]]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LockedTrigger {
    /// Unique trigger id.
    pub id: String,
    /// Trigger type, e.g. `http`.
    pub trigger_type: String,
    /// Opaque trigger configuration; `component` holds the component id.
    #[serde(default)]
    pub trigger_config: Value,
    /// Trigger dependencies by role (`middleware`), before the loader moves them
    /// onto the trigger's component (see `loader::trigger_deps`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub trigger_dependencies: BTreeMap<String, Vec<LockedComponentDependency>>,
}

/// One component: its Wasm source, files, environment, config templates and permissions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LockedComponent {
    /// Component id (kebab case).
    pub id: String,
    /// Metadata: `description`, `allowed_outbound_hosts`, `key_value_stores`, `databases`, `ai_models`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// Where the Wasm binary comes from.
    pub source: LockedComponentSource,
    /// WASI environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Files made visible to the guest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ContentPath>,
    /// Component variables: name -> template over app variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, String>,
    /// Component dependencies by name (see `manifest::DependencyName`),
    /// composed into this component at load time.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dependencies: BTreeMap<String, LockedComponentDependency>,
    /// Trigger dependencies by role: `middleware` is the list, outermost first,
    /// composed in front of this component at load time.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub trigger_dependencies: BTreeMap<String, Vec<LockedComponentDependency>>,
    /// Host capabilities this component needs.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub host_requirements: Map<String, Value>,
}

/// One resolved dependency: its Wasm source, the export it supplies (always
/// `null` for trigger dependencies) and what it inherits from its parent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LockedComponentDependency {
    /// Where the dependency's Wasm comes from.
    pub source: LockedComponentSource,
    /// The export of the dependency to use, if any.
    #[serde(default)]
    pub export: Option<String>,
    /// Which of the parent component's configuration the dependency may use.
    #[serde(default, skip_serializing_if = "InheritConfiguration::is_none")]
    pub inherit: InheritConfiguration,
}

/// Spin's `inherit_configuration`, as locked: `"All"` or `{"Some": [keys]}`;
/// `Some([])` (the default, omitted on write) inherits nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InheritConfiguration {
    /// Every configuration of the parent.
    All,
    /// Only these configuration keys (`allowed_outbound_hosts`, `environment`, ...).
    Some(Vec<String>),
}

impl Default for InheritConfiguration {
    fn default() -> Self {
        Self::Some(Vec::new())
    }
}

impl InheritConfiguration {
    /// Whether nothing is inherited.
    pub fn is_none(&self) -> bool {
        matches!(self, Self::Some(keys) if keys.is_empty())
    }

    /// Whether the configuration key `key` (e.g. `environment`) is inherited.
    pub fn inherits(&self, key: &str) -> bool {
        match self {
            Self::All => true,
            Self::Some(keys) => keys.iter().any(|k| k == key),
        }
    }
}

/// A component's Wasm source: a content type plus a content reference.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LockedComponentSource {
    /// MIME type, normally `application/wasm`.
    pub content_type: String,
    /// Where the bytes are.
    #[serde(flatten)]
    pub content: ContentRef,
}

/// A reference to content: a URL, inline bytes, and/or a digest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentRef {
    /// URL of the content, usually `file://`.
    #[serde(default, skip_serializing_if = "is_none_or_empty")]
    pub source: Option<String>,
    /// The bytes themselves (base64 in JSON).
    #[serde(default, with = "base64_bytes", skip_serializing_if = "Option::is_none")]
    pub inline: Option<Vec<u8>>,
    /// `sha256:<hex>` digest of the content.
    #[serde(default, skip_serializing_if = "is_none_or_empty")]
    pub digest: Option<String>,
}

/// Content placed at a guest path (a file, or a directory for a direct mount).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentPath {
    /// The content.
    #[serde(flatten)]
    pub content: ContentRef,
    /// Absolute guest path.
    pub path: PathBuf,
}

impl LockedApp {
    /// Sets `metadata.trigger = { type, ...app-level config }` when the app has
    /// exactly one trigger type (Spin's rule for single-trigger apps).
    pub(crate) fn add_single_trigger_metadata(&mut self) {
        let types = self.trigger_types();
        let [trigger_type] = types.as_slice() else {
            return;
        };
        let mut trigger = self
            .metadata
            .get("triggers")
            .and_then(|t| t.get(trigger_type))
            .and_then(serde_json::Value::as_object)
            .cloned()
            .unwrap_or_default();
        trigger.insert("type".into(), trigger_type.clone().into());
        self.metadata.insert("trigger".into(), trigger.into());
    }

    /// Parses locked JSON, enforcing the version, `must_understand` and `host_requirements` rules.
    pub fn from_json(bytes: &[u8]) -> anyhow::Result<Self> {
        let app: LockedApp = serde_json::from_slice(bytes).context("invalid locked app JSON")?;
        app.check_understood()?;
        Ok(app)
    }

    /// Serialises as pretty-printed JSON (as `spin up` writes `spin.lock`).
    pub fn to_json_pretty(&self) -> anyhow::Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// The lock version a writer emits for this app.
    pub fn effective_lock_version(&self) -> u32 {
        if self.must_understand.is_empty() && self.host_requirements.is_empty() {
            0
        } else {
            1
        }
    }

    /// The app name, if any.
    pub fn name(&self) -> Option<&str> {
        self.metadata_str("name")
    }

    /// The app version, if any.
    pub fn version(&self) -> Option<&str> {
        self.metadata_str("version")
    }

    /// The app description, if any.
    pub fn description(&self) -> Option<&str> {
        self.metadata_str("description")
    }

    /// Distinct trigger types, in first-seen order.
    pub fn trigger_types(&self) -> Vec<String> {
        let mut types: Vec<String> = Vec::new();
        for trigger in &self.triggers {
            if !types.contains(&trigger.trigger_type) {
                types.push(trigger.trigger_type.clone());
            }
        }
        types
    }

    /// The component with the given id.
    pub fn component(&self, id: &str) -> Option<&LockedComponent> {
        self.components.iter().find(|c| c.id == id)
    }

    /// The triggers of one type.
    pub fn triggers_of<'a>(&'a self, trigger_type: &'a str) -> impl Iterator<Item = &'a LockedTrigger> + 'a {
        self.triggers.iter().filter(move |t| t.trigger_type == trigger_type)
    }

    fn metadata_str(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(Value::as_str)
    }

    fn check_understood(&self) -> anyhow::Result<()> {
        for feature in &self.must_understand {
            if !SUPPORTED_MUST_UNDERSTAND.contains(&feature.as_str()) {
                bail!(
                    "the locked app requires feature `{feature}` (must_understand), which this runtime does not support"
                );
            }
        }
        check_host_requirements(&self.host_requirements, SUPPORTED_APP_HOST_REQUIREMENTS)
            .context("the locked app has unsupported host_requirements")?;
        for component in &self.components {
            check_host_requirements(&component.host_requirements, SUPPORTED_COMPONENT_HOST_REQUIREMENTS)
                .with_context(|| format!("component `{}` has unsupported host_requirements", component.id))?;
        }
        Ok(())
    }
}

fn check_host_requirements(reqs: &Map<String, Value>, supported: &[&str]) -> anyhow::Result<()> {
    for (key, value) in reqs {
        let optional = value.as_str() == Some(HOST_REQ_OPTIONAL);
        if !optional && !supported.contains(&key.as_str()) {
            bail!("host requirement `{key}` = {value} is not supported by this runtime");
        }
    }
    Ok(())
}

impl Serialize for LockedApp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("LockedApp", 7)?;
        s.serialize_field("spin_lock_version", &self.effective_lock_version())?;
        if self.must_understand.is_empty() {
            s.skip_field("must_understand")?;
        } else {
            s.serialize_field("must_understand", &self.must_understand)?;
        }
        s.serialize_field("metadata", &self.metadata)?;
        if self.host_requirements.is_empty() {
            s.skip_field("host_requirements")?;
        } else {
            s.serialize_field("host_requirements", &self.host_requirements)?;
        }
        s.serialize_field("variables", &self.variables)?;
        s.serialize_field("triggers", &self.triggers)?;
        s.serialize_field("components", &self.components)?;
        s.end()
    }
}

impl LockedTrigger {
    /// The id of the component this trigger invokes, if it names one.
    pub fn component_id(&self) -> Option<&str> {
        self.trigger_config.get("component").and_then(Value::as_str)
    }
}

/// The hex digits of a `sha256:` and 64 hex digits digest, lower-cased (so
/// safe as a file name); `None` for anything else.
pub fn sha256_hex(digest: &str) -> Option<String> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hex.to_ascii_lowercase())
}

impl LockedComponent {
    /// Everything composed with this component at load time: its middleware
    /// (trigger dependencies) and its component dependencies.
    pub fn composed_in(&self) -> impl Iterator<Item = &LockedComponentDependency> {
        self.trigger_dependencies.values().flatten().chain(self.dependencies.values())
    }

    /// The component description, if any.
    pub fn description(&self) -> Option<&str> {
        self.metadata.get("description").and_then(Value::as_str)
    }

    /// Raw `allowed_outbound_hosts` entries (templates unresolved).
    pub fn allowed_outbound_hosts(&self) -> Vec<String> {
        self.metadata_strings("allowed_outbound_hosts")
    }

    /// Key-value store labels the component may open.
    pub fn key_value_stores(&self) -> Vec<String> {
        self.metadata_strings("key_value_stores")
    }

    /// SQLite database labels the component may open (metadata key `databases`).
    pub fn sqlite_databases(&self) -> Vec<String> {
        self.metadata_strings("databases")
    }

    /// AI model names the component may use.
    pub fn ai_models(&self) -> Vec<String> {
        self.metadata_strings("ai_models")
    }

    fn metadata_strings(&self, key: &str) -> Vec<String> {
        self.metadata
            .get(key)
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

impl LockedComponentSource {
    /// A Wasm source at an absolute local path.
    pub fn wasm_file(path: &std::path::Path) -> anyhow::Result<Self> {
        Ok(Self { content_type: WASM_CONTENT_TYPE.into(), content: ContentRef::from_path(path)? })
    }
}

impl ContentRef {
    /// A reference to a local file or directory by absolute path (`file://` URL).
    pub fn from_path(path: &std::path::Path) -> anyhow::Result<Self> {
        Ok(Self { source: Some(file_url(path)?), ..Self::default() })
    }

    /// Checks `bytes` against the `sha256:` digest, when one is given; `origin`
    /// names the content in the error.
    pub fn verify(&self, bytes: &[u8], origin: &str) -> anyhow::Result<()> {
        use sha2::Digest as _;
        if self.digest.is_none() {
            return Ok(());
        }
        self.verify_sha256(&sha2::Sha256::digest(bytes), origin)
    }

    /// [`Self::verify`] for content whose SHA-256 is already known.
    pub fn verify_sha256(&self, sha256: &[u8], origin: &str) -> anyhow::Result<()> {
        let Some(expected) = &self.digest else { return Ok(()) };
        let actual = format!("sha256:{}", hex::encode(sha256));
        if !expected.eq_ignore_ascii_case(&actual) {
            anyhow::bail!("{origin} does not match its digest {expected} (it is {actual})");
        }
        Ok(())
    }

    /// The local path of a `file://` source, if this reference has one.
    pub fn local_path(&self) -> Option<PathBuf> {
        let url = url::Url::parse(self.source.as_deref()?).ok()?;
        if url.scheme() != "file" {
            return None;
        }
        url.to_file_path().ok()
    }
}

/// The `file://` URL of an absolute local path.
pub fn file_url(path: &std::path::Path) -> anyhow::Result<String> {
    url::Url::from_file_path(path)
        .map(|u| u.to_string())
        .map_err(|()| anyhow::anyhow!("`{}` is not an absolute path", path.display()))
}

fn deserialize_lock_version<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let version = u32::deserialize(d)?;
    match version {
        0 | 1 => Ok(version),
        other => Err(serde::de::Error::custom(format!(
            "unsupported spin_lock_version {other} (this runtime reads versions 0 and 1)"
        ))),
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_none_or_empty(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(str::is_empty)
}

/// Serde adapter for optional bytes stored as standard base64.
mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("invalid base64 in `inline`: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> serde_json::Value {
        json!({
            "spin_lock_version": 0,
            "metadata": { "name": "hello", "version": "1.0.0", "origin": "file:///app/spin.toml",
                          "trigger": { "type": "http" }, "unknown_meta": 1 },
            "variables": {
                "api_key": { "secret": true },
                "greeting": { "default": "hi", "description": "say" }
            },
            "triggers": [
                { "id": "t1", "trigger_type": "http", "trigger_config": { "component": "hello", "route": "/..." } },
                { "id": "t2", "trigger_type": "redis", "trigger_config": { "component": "hello", "channel": "c" } },
                { "id": "t3", "trigger_type": "http", "trigger_config": { "component": "hello", "route": "/x" } }
            ],
            "components": [{
                "id": "hello",
                "metadata": { "description": "d", "allowed_outbound_hosts": ["https://a.com"],
                              "key_value_stores": ["default"], "databases": ["db"] },
                "source": { "content_type": "application/wasm", "source": "file:///app/hello.wasm" },
                "files": [ { "inline": "aGk=", "path": "/a.txt" }, { "digest": "sha256:00", "path": "/b" } ],
                "config": { "msg": "{{ greeting }}" },
                "some_future_field": true
            }]
        })
    }

    #[test]
    fn parses_and_exposes_accessors() {
        let app = LockedApp::from_json(sample().to_string().as_bytes()).unwrap();
        assert_eq!(app.name(), Some("hello"));
        assert_eq!(app.version(), Some("1.0.0"));
        assert_eq!(app.description(), None);
        assert_eq!(app.trigger_types(), vec!["http", "redis"]);
        assert_eq!(app.triggers_of("http").count(), 2);
        assert_eq!(app.triggers[1].component_id(), Some("hello"));
        let c = app.component("hello").unwrap();
        assert_eq!(c.allowed_outbound_hosts(), vec!["https://a.com"]);
        assert_eq!(c.key_value_stores(), vec!["default"]);
        assert_eq!(c.sqlite_databases(), vec!["db"]);
        assert_eq!(c.description(), Some("d"));
        assert_eq!(c.files[0].content.inline.as_deref(), Some(&b"hi"[..]));
        assert_eq!(c.source.content.local_path(), Some(PathBuf::from("/app/hello.wasm")));
        assert!(app.variables["api_key"].default.is_none());
        assert!(app.variables["api_key"].secret);
        assert!(app.component("nope").is_none());
    }

    #[test]
    fn round_trip_preserves_model_and_omits_empty_fields() {
        let app = LockedApp::from_json(sample().to_string().as_bytes()).unwrap();
        let text = app.to_json_pretty().unwrap();
        let again = LockedApp::from_json(text.as_bytes()).unwrap();
        assert_eq!(app, again);
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["spin_lock_version"], 0);
        assert!(value.get("must_understand").is_none());
        assert!(value.get("host_requirements").is_none());
        let comp = &value["components"][0];
        assert!(comp.get("env").is_none());
        assert!(comp.get("dependencies").is_none());
        assert!(comp["files"][0].get("source").is_none());
        assert_eq!(comp["files"][0]["inline"], "aGk=");
        assert!(value["variables"]["greeting"].get("secret").is_none());
    }

    #[test]
    fn lock_version_is_one_when_host_requirements_used() {
        let mut v = sample();
        v["spin_lock_version"] = json!(1);
        v["must_understand"] = json!(["host_requirements"]);
        v["host_requirements"] = json!({ "local_service_chaining": "required" });
        let app = LockedApp::from_json(v.to_string().as_bytes()).unwrap();
        let out: Value = serde_json::from_str(&app.to_json_pretty().unwrap()).unwrap();
        assert_eq!(out["spin_lock_version"], 1);
        assert_eq!(out["must_understand"], json!(["host_requirements"]));

        let mut plain = sample();
        plain["spin_lock_version"] = json!(1);
        let app = LockedApp::from_json(plain.to_string().as_bytes()).unwrap();
        let out: Value = serde_json::from_str(&app.to_json_pretty().unwrap()).unwrap();
        assert_eq!(out["spin_lock_version"], 0);
    }

    #[test]
    fn rejects_unknown_lock_version() {
        let mut v = sample();
        v["spin_lock_version"] = json!(2);
        let err = LockedApp::from_json(v.to_string().as_bytes()).unwrap_err();
        assert!(format!("{err:#}").contains("unsupported spin_lock_version 2"), "{err:#}");
    }

    #[test]
    fn rejects_unknown_must_understand() {
        let mut v = sample();
        v["must_understand"] = json!(["host_requirements", "time_travel"]);
        let err = LockedApp::from_json(v.to_string().as_bytes()).unwrap_err();
        assert!(format!("{err:#}").contains("`time_travel`"), "{err:#}");
    }

    #[test]
    fn host_requirements_rules() {
        let mut v = sample();
        v["host_requirements"] = json!({ "gpu": "optional", "local_service_chaining": "required" });
        assert!(LockedApp::from_json(v.to_string().as_bytes()).is_ok());
        v["host_requirements"] = json!({ "gpu": "required" });
        let err = LockedApp::from_json(v.to_string().as_bytes()).unwrap_err();
        assert!(format!("{err:#}").contains("`gpu`"), "{err:#}");
        let mut v = sample();
        v["components"][0]["host_requirements"] = json!({ "teleport": "required" });
        let err = LockedApp::from_json(v.to_string().as_bytes()).unwrap_err();
        assert!(format!("{err:#}").contains("component `hello`"), "{err:#}");
    }
}
