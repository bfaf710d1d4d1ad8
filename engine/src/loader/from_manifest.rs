//! Loading an app from a spin.toml: parse, normalise, and build the [`LockedApp`].

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use serde_json::{Map, Value};

use super::files::{require_direct_mounts, resolve_files};
use super::wasm_pkg::{self, Wanted};
use super::{remote, LoadOptions, LoadedApp, RemoteSources};
use crate::locked::{
    file_url, ContentRef, InheritConfiguration as LockedInherit, LockedApp, LockedComponent, LockedComponentDependency,
    LockedComponentSource, LockedTrigger, LockedVariable, WASM_CONTENT_TYPE,
};
use crate::manifest::parse_manifest;
use crate::manifest::v2::{
    AppManifest, Component, ComponentSource, ComponentSpec, Dependency, DependencySource, InheritConfiguration, Trigger,
};

/// Where a manifest's sources are found: files relative to the app's folder,
/// and `{ url, digest }` sources in the download cache (when fetched).
struct Places<'a> {
    app_dir: &'a Path,
    downloads: &'a Path,
    wasm_pkg_config: Option<&'a Path>,
    remote: RemoteSources,
    direct_mounts_only: bool,
}

/// Loads the app described by `manifest_path` as `options` say; every error
/// names the manifest file.
pub(super) fn load_from_manifest(manifest_path: &Path, options: &LoadOptions) -> anyhow::Result<LoadedApp> {
    let manifest_path =
        manifest_path.canonicalize().with_context(|| format!("cannot open manifest {}", manifest_path.display()))?;
    let text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("cannot read manifest {}", manifest_path.display()))?;
    let manifest = parse_manifest(&text, &manifest_path, options.profile.as_deref())?;
    let app_dir = manifest_path.parent().context("the manifest path has no parent directory")?.to_path_buf();
    let places = Places {
        app_dir: &app_dir,
        downloads: &options.downloads,
        wasm_pkg_config: options.wasm_pkg_config.as_deref(),
        remote: options.remote,
        direct_mounts_only: options.direct_mounts_only,
    };
    let mut locked =
        lock_manifest(&manifest, &manifest_path, &places).map_err(|e| anyhow!("{}: {e:#}", manifest_path.display()))?;
    if let Some(profile) = &options.profile {
        locked.metadata.insert("profile".into(), profile.as_str().into());
    }
    Ok(LoadedApp::local(locked, Some(app_dir)))
}

/// Builds the locked app from a normalised manifest located at `manifest_path`.
fn lock_manifest(manifest: &AppManifest, manifest_path: &Path, places: &Places) -> anyhow::Result<LockedApp> {
    let mut components: Vec<LockedComponent> =
        manifest.components.iter().map(|(id, c)| lock_component(id, c, places)).collect::<anyhow::Result<_>>()?;
    // A component dependency may be another component's Wasm, so dependencies
    // are locked once every component is.
    let dependencies = manifest
        .components
        .iter()
        .map(|(id, c)| lock_component_dependencies(id, c, &components, places))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for (component, dependencies) in components.iter_mut().zip(dependencies) {
        component.dependencies = dependencies;
    }
    let triggers = manifest
        .triggers
        .iter()
        .flat_map(|(ty, triggers)| triggers.iter().map(move |t| (ty, t)))
        .map(|(ty, t)| lock_trigger(ty, t, &components, places))
        .collect::<anyhow::Result<_>>()?;
    let mut locked = LockedApp {
        metadata: app_metadata(manifest, manifest_path)?,
        variables: manifest
            .variables
            .iter()
            .map(|(name, v)| {
                let variable =
                    LockedVariable { description: v.description.clone(), default: v.default.clone(), secret: v.secret };
                (name.clone(), variable)
            })
            .collect(),
        triggers,
        components,
        ..LockedApp::default()
    };
    locked.add_single_trigger_metadata();
    super::trigger_deps::reassign_trigger_deps(&mut locked);
    Ok(locked)
}

fn app_metadata(manifest: &AppManifest, manifest_path: &Path) -> anyhow::Result<Map<String, Value>> {
    let app = &manifest.application;
    let mut metadata = Map::new();
    metadata.insert("name".into(), app.name.clone().into());
    insert_some(&mut metadata, "version", &app.version);
    insert_some(&mut metadata, "description", &app.description);
    insert_non_empty(&mut metadata, "authors", &app.authors);
    metadata.insert("origin".into(), file_url(manifest_path)?.into());
    if !app.trigger_global_configs.is_empty() {
        let triggers = app
            .trigger_global_configs
            .iter()
            .map(|(ty, table)| (ty.clone(), Value::Object(toml_table_to_json(table))))
            .collect::<Map<_, _>>();
        metadata.insert("triggers".into(), triggers.into());
    }
    Ok(metadata)
}

/// The trigger table minus `id`, with `component` as an id string and each `components`
/// entry as an array of id strings (inline components were hoisted by normalisation).
fn lock_trigger(
    trigger_type: &str,
    trigger: &Trigger,
    components: &[LockedComponent],
    places: &Places,
) -> anyhow::Result<LockedTrigger> {
    let mut config = toml_table_to_json(&trigger.config);
    if let Some(spec) = &trigger.component {
        config.insert("component".into(), spec_id(spec).into());
    }
    if !trigger.components.is_empty() {
        let components = trigger
            .components
            .iter()
            .map(|(key, specs)| {
                let ids: Vec<Value> = specs.0.iter().map(|s| spec_id(s).into()).collect();
                (key.clone(), Value::Array(ids))
            })
            .collect::<Map<_, _>>();
        config.insert("components".into(), components.into());
    }
    let trigger_dependencies = trigger
        .dependencies
        .iter()
        .map(|(role, deps)| {
            let locked = deps
                .iter()
                .map(|d| lock_dependency(None, d, LockedInherit::default(), components, places))
                .collect::<anyhow::Result<_>>()
                .with_context(|| format!("trigger `{}`: `dependencies.{role}`", trigger.id))?;
            Ok((role.clone(), locked))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(LockedTrigger {
        id: trigger.id.clone(),
        trigger_type: trigger_type.to_owned(),
        trigger_config: config.into(),
        trigger_dependencies,
    })
}

/// Locks one dependency (`name` is its key, when it has one): an app
/// component's Wasm source, a local file, a download or a registry package;
/// `inherit` applies when the dependency does not say what it inherits.
fn lock_dependency(
    name: Option<&str>,
    dep: &Dependency,
    inherit: LockedInherit,
    components: &[LockedComponent],
    places: &Places,
) -> anyhow::Result<LockedComponentDependency> {
    let source = match &dep.source {
        DependencySource::Component(id) => components
            .iter()
            .find(|c| &c.id == id)
            .map(|c| c.source.clone())
            .with_context(|| format!("component `{id}` is not defined"))?,
        DependencySource::Path(relative) => {
            let path = places.app_dir.join(relative);
            if !path.is_file() {
                bail!("`{{ path = \"{relative}\" }}` ({}) does not exist", path.display());
            }
            LockedComponentSource::wasm_file(&path)?
        }
        DependencySource::Url { url, digest } => remote_source(url, digest, places)?,
        DependencySource::Registry { registry, package, version } => {
            let package = match (package, name) {
                (Some(package), _) => package.clone(),
                (None, Some(name)) => package_of_dependency(name),
                (None, None) => bail!("a registry dependency without a key names its `package`"),
            };
            registry_source(places, registry.as_deref(), &package, Wanted::Matching(version))?
        }
    };
    let inherit = match &dep.inherit_configuration {
        None => inherit,
        Some(InheritConfiguration::All(true)) => LockedInherit::All,
        Some(InheritConfiguration::All(false)) => LockedInherit::default(),
        Some(InheritConfiguration::Some(keys)) => LockedInherit::Some(keys.clone()),
    };
    Ok(LockedComponentDependency { source, export: dep.export.clone(), inherit })
}

/// The locked source of a registry package: the downloaded file, with its digest.
fn registry_source(
    places: &Places,
    registry: Option<&str>,
    package: &str,
    wanted: Wanted<'_>,
) -> anyhow::Result<LockedComponentSource> {
    if places.remote == RemoteSources::Name {
        return Ok(named_source(format!("registry-package:{package}"), None));
    }
    let (path, digest) = wasm_pkg::fetch(places.downloads, places.wasm_pkg_config, registry, package, wanted)?;
    downloaded_source(&path, digest)
}

/// The package a dependency's key names: `ns:name` of `ns:name/interface@1.0`.
fn package_of_dependency(key: &str) -> String {
    let package = key.split_once('@').map_or(key, |(package, _)| package);
    package.split_once('/').map_or(package, |(package, _)| package).to_owned()
}

/// The locked source of a `{ url, digest }`: the downloaded file, with its digest.
fn remote_source(url: &str, digest: &str, places: &Places) -> anyhow::Result<LockedComponentSource> {
    if places.remote == RemoteSources::Name {
        return Ok(named_source(url.to_owned(), Some(digest.to_owned())));
    }
    downloaded_source(&remote::fetch(places.downloads, url, digest)?, digest.to_owned())
}

/// A source that is named, not fetched ([`RemoteSources::Name`]).
fn named_source(name: String, digest: Option<String>) -> LockedComponentSource {
    LockedComponentSource {
        content_type: WASM_CONTENT_TYPE.into(),
        content: ContentRef { source: Some(name), inline: None, digest },
    }
}

/// A downloaded wasm file as a locked source pinned to its `digest`.
fn downloaded_source(path: &Path, digest: String) -> anyhow::Result<LockedComponentSource> {
    let mut source = LockedComponentSource::wasm_file(path)?;
    source.content.digest = Some(digest);
    Ok(source)
}

/// Locks component `id`'s dependencies; by default they inherit all of its
/// configuration or none, as `dependencies_inherit_configuration` says.
fn lock_component_dependencies(
    id: &str,
    c: &Component,
    components: &[LockedComponent],
    places: &Places,
) -> anyhow::Result<BTreeMap<String, LockedComponentDependency>> {
    let inherit = if c.dependencies_inherit_configuration { LockedInherit::All } else { LockedInherit::default() };
    c.dependencies
        .iter()
        .map(|(name, dep)| {
            let locked = lock_dependency(Some(name), dep, inherit.clone(), components, places)
                .with_context(|| format!("component `{id}`: dependency `{name}`"))?;
            Ok((name.clone(), locked))
        })
        .collect()
}

fn spec_id(spec: &ComponentSpec) -> String {
    match spec {
        ComponentSpec::Reference(id) => id.clone(),
        ComponentSpec::Inline(_) => unreachable!("normalisation hoists inline components"),
    }
}

fn lock_component(id: &str, c: &Component, places: &Places) -> anyhow::Result<LockedComponent> {
    let source = match &c.source {
        ComponentSource::Local(relative) => {
            let path = places.app_dir.join(relative);
            if !path.is_file() {
                bail!(
                    "component `{id}`: source `{relative}` ({}) does not exist; build the component first",
                    path.display()
                );
            }
            LockedComponentSource::wasm_file(&path)?
        }
        ComponentSource::Remote { url, digest } => remote_source(url, digest, places)
            .with_context(|| format!("component `{id}`: source `{{ url = \"{url}\" }}`"))?,
        ComponentSource::Registry { registry, package, version } => {
            registry_source(places, registry.as_deref(), package, Wanted::Exact(version))
                .with_context(|| format!("component `{id}`: source `{package}@{version}`"))?
        }
    };
    let mut metadata = Map::new();
    insert_some(&mut metadata, "description", &c.description);
    insert_non_empty(&mut metadata, "allowed_outbound_hosts", &c.allowed_outbound_hosts);
    insert_non_empty(&mut metadata, "key_value_stores", &c.key_value_stores);
    insert_non_empty(&mut metadata, "databases", &c.sqlite_databases);
    insert_non_empty(&mut metadata, "ai_models", &c.ai_models);
    Ok(LockedComponent {
        id: id.to_owned(),
        metadata,
        source,
        env: c.environment.clone(),
        files: {
            if places.direct_mounts_only {
                require_direct_mounts(places.app_dir, &c.files, &c.exclude_files)
                    .with_context(|| format!("component `{id}`"))?;
            }
            resolve_files(places.app_dir, id, &c.files, &c.exclude_files)?
        },
        config: c.variables.clone(),
        ..LockedComponent::default()
    })
}

fn insert_some(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
        map.insert(key.into(), v.clone().into());
    }
}

fn insert_non_empty(map: &mut Map<String, Value>, key: &str, values: &[String]) {
    if !values.is_empty() {
        map.insert(key.into(), values.to_vec().into());
    }
}

fn toml_table_to_json(table: &toml::Table) -> Map<String, Value> {
    table.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect()
}

/// Converts TOML to JSON (datetimes become their TOML text).
fn toml_to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => s.clone().into(),
        toml::Value::Integer(i) => (*i).into(),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => (*b).into(),
        toml::Value::Datetime(d) => d.to_string().into(),
        toml::Value::Array(items) => items.iter().map(toml_to_json).collect(),
        toml::Value::Table(table) => Value::Object(toml_table_to_json(table)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::fs;

    const MANIFEST: &str = r#"spin_manifest_version = 2

[application]
name = "kv-demo"
version = "0.2.0"
description = "Key-value demo"
authors = ["Dev <dev@example.com>"]

[application.trigger.redis]
address = "redis://localhost:6379"

[variables]
password = { required = true, secret = true }
region = { default = "eu" }

[[trigger.http]]
route = "/api/..."
component = "api"

[[trigger.http]]
route = "/..."
component = { source = "static.wasm", files = [{ source = "www", destination = "/" }] }

[[trigger.redis]]
channel = "events"
component = "api"

[component.api]
source = "target/api.wasm"
description = "The API"
allowed_outbound_hosts = ["redis://{{ region }}.cache:6379"]
key_value_stores = ["default"]
sqlite_databases = ["default"]
environment = { RUST_LOG = "info" }
files = ["config/*.json"]
[component.api.variables]
db_password = "{{ password }}"
[component.api.build]
command = "cargo build --release"
workdir = "api"
"#;

    /// Loads a manifest whose sources are all local files.
    fn load(manifest: &Path) -> anyhow::Result<LoadedApp> {
        load_from_manifest(
            manifest,
            &LoadOptions {
                downloads: "/nonexistent/downloads".into(),
                profile: None,
                // No registry is configured: only wasm-pkg's built-in defaults.
                wasm_pkg_config: Some("/nonexistent/wasm-pkg.toml".into()),
                remote: RemoteSources::Fetch,
                direct_mounts_only: false,
            },
        )
    }

    fn app_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in ["target/api.wasm", "static.wasm", "www/index.html", "config/a.json"] {
            let p = root.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "x").unwrap();
        }
        fs::write(root.join("spin.toml"), MANIFEST).unwrap();
        dir
    }

    #[test]
    fn builds_the_locked_app() {
        let dir = app_dir();
        let loaded = load(&dir.path().join("spin.toml")).unwrap();
        let root = dir.path().canonicalize().unwrap();
        assert_eq!(loaded.app_dir.as_deref(), Some(root.as_path()));
        let app = &loaded.locked;
        let file_url = |p: &str| url::Url::from_file_path(root.join(p)).unwrap().to_string();

        assert_eq!(app.name(), Some("kv-demo"));
        assert_eq!(app.metadata["authors"], json!(["Dev <dev@example.com>"]));
        assert_eq!(app.metadata["origin"], json!(file_url("spin.toml")));
        assert_eq!(app.metadata["triggers"], json!({ "redis": { "address": "redis://localhost:6379" } }));
        assert!(app.metadata.get("trigger").is_none(), "two trigger types");
        assert_eq!(app.variables["password"].default, None);
        assert!(app.variables["password"].secret);
        assert_eq!(app.variables["region"].default.as_deref(), Some("eu"));

        assert_eq!(app.trigger_types(), vec!["http", "redis"]);
        let http: Vec<_> = app.triggers_of("http").collect();
        assert_eq!(http[0].id, "api-http-trigger");
        assert_eq!(http[0].trigger_config, json!({ "route": "/api/...", "component": "api" }));
        assert_eq!(http[1].id, "http-trigger1");
        assert_eq!(http[1].component_id(), Some("http-trigger1-component"));

        let api = app.component("api").unwrap();
        assert_eq!(api.source.content_type, "application/wasm");
        assert_eq!(api.source.content.source, Some(file_url("target/api.wasm")));
        assert_eq!(api.description(), Some("The API"));
        assert_eq!(api.allowed_outbound_hosts(), vec!["redis://{{ region }}.cache:6379"]);
        assert_eq!(api.sqlite_databases(), vec!["default"]);
        assert_eq!(api.key_value_stores(), vec!["default"]);
        assert_eq!(api.env["RUST_LOG"], "info");
        assert_eq!(api.config["db_password"], "{{ password }}");
        assert_eq!(api.files.len(), 1);
        assert_eq!(api.files[0].path, Path::new("/config/a.json"));

        let inline = app.component("http-trigger1-component").unwrap();
        assert_eq!(inline.files[0].content.source, Some(file_url("www")));
        assert_eq!(inline.files[0].path, Path::new("/"));

        let again = LockedApp::from_json(app.to_json_pretty().unwrap().as_bytes()).unwrap();
        assert_eq!(&again, app);
    }

    #[test]
    fn single_trigger_type_sets_metadata_trigger() {
        let dir = app_dir();
        let text = MANIFEST.replace("[[trigger.redis]]\nchannel = \"events\"\ncomponent = \"api\"\n", "");
        fs::write(dir.path().join("spin.toml"), text).unwrap();
        let loaded = load(&dir.path().join("spin.toml")).unwrap();
        assert_eq!(loaded.locked.metadata["trigger"], json!({ "type": "http" }));
    }

    #[test]
    fn missing_wasm_names_component_and_path() {
        let dir = app_dir();
        fs::remove_file(dir.path().join("target/api.wasm")).unwrap();
        let err = load(&dir.path().join("spin.toml")).unwrap_err().to_string();
        assert!(err.contains("spin.toml: component `api`: source `target/api.wasm`"), "{err}");
        assert!(err.contains("does not exist"), "{err}");
    }

    #[test]
    fn bad_remote_sources_and_registry_dependencies_are_refused() {
        let dir = app_dir();
        let text = MANIFEST.replace(
            "source = \"target/api.wasm\"",
            "source = { url = \"https://example.com/api.wasm\", digest = \"sha256:00\" }",
        );
        fs::write(dir.path().join("spin.toml"), text).unwrap();
        let err = format!("{:#}", load(&dir.path().join("spin.toml")).unwrap_err());
        assert!(err.contains("component `api`: source `{ url = \"https://example.com/api.wasm\" }`"), "{err}");
        assert!(err.contains("is not `sha256:` and 64 hex digits"), "{err}");

        let text = MANIFEST.replace(
            "[component.api.variables]",
            "dependencies = { \"ns:pkg/iface\" = \"1.0.0\" }\n[component.api.variables]",
        );
        fs::write(dir.path().join("spin.toml"), text).unwrap();
        // No wasm-pkg configuration names a registry for `ns`.
        let err = format!("{:#}", load(&dir.path().join("spin.toml")).unwrap_err());
        assert!(err.contains("component `api`: dependency `ns:pkg/iface`: listing the releases of ns:pkg"), "{err}");
        assert!(err.contains("no registry configured for namespace \"ns\""), "{err}");
    }

    #[test]
    fn remote_sources_are_only_named_when_asked() {
        let dir = app_dir();
        let digest = format!("sha256:{}", "0".repeat(64));
        let text = MANIFEST
            .replace(
                "source = \"target/api.wasm\"",
                &format!("source = {{ url = \"http://127.0.0.1:9/api.wasm\", digest = \"{digest}\" }}"),
            )
            .replace(
                "[component.api.variables]",
                "dependencies = { \"ns:pkg/iface\" = \"1.0.0\" }\n[component.api.variables]",
            );
        fs::write(dir.path().join("spin.toml"), text).unwrap();
        let options = LoadOptions {
            downloads: "/nonexistent/downloads".into(),
            profile: None,
            wasm_pkg_config: Some("/nonexistent/wasm-pkg.toml".into()),
            remote: RemoteSources::Name,
            direct_mounts_only: false,
        };
        let loaded = load_from_manifest(&dir.path().join("spin.toml"), &options).unwrap();
        let api = loaded.locked.components.iter().find(|c| c.id == "api").unwrap();
        assert_eq!(api.source.content.source.as_deref(), Some("http://127.0.0.1:9/api.wasm"));
        assert_eq!(api.source.content.digest.as_deref(), Some(digest.as_str()));
        let dependency = &api.dependencies["ns:pkg/iface"].source.content;
        assert_eq!((dependency.source.as_deref(), dependency.local_path()), (Some("registry-package:ns:pkg"), None));
    }

    const MIDDLEWARE_APP: &str = r#"spin_manifest_version = 2
[application]
name = "mw"

[[trigger.http]]
route = "/one/..."
component = "handler"
dependencies.middleware = [{ component = "mw" }, { path = "auth.wasm", inherit_configuration = ["environment"] }]

[[trigger.http]]
route = "/two/..."
component = "handler"
dependencies.middleware = [{ component = "mw", inherit_configuration = true }]

[[trigger.http]]
route = "/plain/..."
component = "handler"

[component.handler]
source = "handler.wasm"

[component.mw]
source = "mw.wasm"
"#;

    fn middleware_app(text: &str) -> anyhow::Result<LockedApp> {
        let dir = tempfile::tempdir().unwrap();
        for file in ["handler.wasm", "mw.wasm", "auth.wasm"] {
            fs::write(dir.path().join(file), b"\0asm").unwrap();
        }
        fs::write(dir.path().join("spin.toml"), text).unwrap();
        load(&dir.path().join("spin.toml")).map(|l| l.locked)
    }

    #[test]
    fn middleware_is_locked_onto_a_component_per_trigger_as_spin_writes_it() {
        let app = middleware_app(MIDDLEWARE_APP).unwrap();
        let json: Value = serde_json::from_str(&app.to_json_pretty().unwrap()).unwrap();
        assert_eq!(json["spin_lock_version"], 1);
        assert_eq!(json["must_understand"], json!(["component_host_requirements"]));
        let routes: Vec<(&str, &str)> = app
            .triggers
            .iter()
            .map(|t| (t.trigger_config["route"].as_str().unwrap(), t.component_id().unwrap()))
            .collect();
        assert_eq!(
            routes,
            [
                ("/one/...", "handler-for-handler-http-trigger"),
                ("/two/...", "handler-for-http-trigger1"),
                ("/plain/...", "handler")
            ]
        );
        let one = json["components"].as_array().unwrap().iter().find(|c| c["id"] == "handler-for-handler-http-trigger");
        let one = one.unwrap();
        assert_eq!(one["host_requirements"], json!({ "middleware": "required" }));
        assert_eq!(one["metadata"]["resolve-trigger-dependencies-using"], "http");
        let deps = one["trigger_dependencies"]["middleware"].as_array().unwrap();
        assert!(deps[0]["source"]["source"].as_str().unwrap().ends_with("/mw.wasm"), "{deps:?}");
        assert!(deps[0].get("inherit").is_none(), "{deps:?}");
        assert_eq!(deps[0]["export"], Value::Null);
        assert!(deps[1]["source"]["source"].as_str().unwrap().ends_with("/auth.wasm"), "{deps:?}");
        assert_eq!(deps[1]["inherit"], json!({ "Some": ["environment"] }));
        let two = app.component("handler-for-http-trigger1").unwrap();
        assert_eq!(two.trigger_dependencies["middleware"][0].inherit, crate::locked::InheritConfiguration::All);
        assert!(app.component("handler").unwrap().trigger_dependencies.is_empty());
    }

    #[test]
    fn middleware_errors_name_the_trigger_and_what_is_wrong() {
        let err = |text: String| format!("{:#}", middleware_app(&text).unwrap_err());
        let e = err(MIDDLEWARE_APP.replacen("{ component = \"mw\" }", "{ component = \"ghost\" }", 1));
        assert!(
            e.contains("trigger `handler-http-trigger`") && e.contains("middleware component `ghost` is not defined"),
            "{e}"
        );
        let e = err(MIDDLEWARE_APP.replacen("dependencies.middleware", "dependencies.auth", 1));
        assert!(e.contains("`dependencies.auth`: the HTTP trigger's only dependency role is `middleware`"), "{e}");
        let e = err(MIDDLEWARE_APP.replace("path = \"auth.wasm\"", "path = \"gone.wasm\""));
        assert!(
            e.contains("`dependencies.middleware`") && e.contains("gone.wasm") && e.contains("does not exist"),
            "{e}"
        );
        let e =
            err(MIDDLEWARE_APP.replace("path = \"auth.wasm\"", "url = \"https://x/a.wasm\", digest = \"sha256:00\""));
        assert!(e.contains("`dependencies.middleware`") && e.contains("is not `sha256:` and 64 hex digits"), "{e}");
        let e =
            err(MIDDLEWARE_APP.replace("{ component = \"mw\", inherit", "{ component = \"mw\", path = \"x\", inherit"));
        assert!(e.contains("invalid dependency"), "{e}");
        let e = err(MIDDLEWARE_APP.replace("{ component = \"mw\" }", "{ component = \"mw\", export = \"x\" }"));
        assert!(e.contains("a middleware takes no `export`"), "{e}");
    }

    const DEPENDENCIES_APP: &str = r#"spin_manifest_version = 2
[application]
name = "deps"

[[trigger.http]]
route = "/..."
component = "front"

[component.front]
source = "front.wasm"
dependencies_inherit_configuration = true
[component.front.dependencies]
"demo:greeter/greet" = { path = "lib/greeter.wasm", export = "demo:greeter/greet@0.2.0" }
"demo:clock" = { component = "clock", inherit_configuration = ["environment"] }
"demo:plain" = { path = "plain.wasm", inherit_configuration = false }

[component.clock]
source = "clock.wasm"
"#;

    fn dependencies_app(text: &str) -> anyhow::Result<(LockedApp, std::path::PathBuf)> {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("lib")).unwrap();
        for file in ["front.wasm", "clock.wasm", "lib/greeter.wasm", "plain.wasm"] {
            fs::write(dir.path().join(file), b"\0asm").unwrap();
        }
        fs::write(dir.path().join("spin.toml"), text).unwrap();
        let root = dir.path().canonicalize().unwrap();
        load(&dir.path().join("spin.toml")).map(|l| (l.locked, root))
    }

    #[test]
    fn component_dependencies_are_locked_as_spin_writes_them() {
        let (app, root) = dependencies_app(DEPENDENCIES_APP).unwrap();
        let front = app.component("front").unwrap();
        let deps = &front.dependencies;
        assert_eq!(deps.len(), 3);
        let greeter = &deps["demo:greeter/greet"];
        assert_eq!(greeter.source.content.source, Some(file_url(&root.join("lib/greeter.wasm")).unwrap()));
        assert_eq!(greeter.export.as_deref(), Some("demo:greeter/greet@0.2.0"));
        // `dependencies_inherit_configuration = true` unless the dependency says otherwise.
        assert_eq!(greeter.inherit, LockedInherit::All);
        let clock = &deps["demo:clock"];
        assert_eq!(clock.source, app.component("clock").unwrap().source);
        assert_eq!(clock.inherit, LockedInherit::Some(vec!["environment".into()]));
        assert!(deps["demo:plain"].inherit.is_none());
        let json: Value = serde_json::from_str(&app.to_json_pretty().unwrap()).unwrap();
        let locked = &json["components"][1]["dependencies"]["demo:greeter/greet"];
        assert_eq!(locked["export"], "demo:greeter/greet@0.2.0");
        assert_eq!(locked["inherit"], "All");

        // Without the component's flag, dependencies inherit nothing.
        let (app, _) =
            dependencies_app(&DEPENDENCIES_APP.replace("dependencies_inherit_configuration = true\n", "")).unwrap();
        assert!(app.component("front").unwrap().dependencies["demo:greeter/greet"].inherit.is_none());
    }

    #[test]
    fn component_dependency_errors_name_the_component_and_the_dependency() {
        let err = |text: String| format!("{:#}", dependencies_app(&text).unwrap_err());
        let e = err(DEPENDENCIES_APP.replace("lib/greeter.wasm\"", "lib/gone.wasm\""));
        assert!(
            e.contains("component `front`: dependency `demo:greeter/greet`") && e.contains("does not exist"),
            "{e}"
        );
        let e = err(DEPENDENCIES_APP.replace("component = \"clock\"", "component = \"nope\""));
        assert!(e.contains("dependency `demo:clock`: component `nope` is not defined"), "{e}");
        let e = err(DEPENDENCIES_APP.replace("\"demo:plain\"", "\"Demo Plain\""));
        assert!(e.contains("`Demo Plain` is not a dependency name"), "{e}");
        let e = err(DEPENDENCIES_APP.replace("{ path = \"plain.wasm\", inherit_configuration = false }", "\"^1.0\""));
        assert!(e.contains("dependency `demo:plain`: listing the releases of demo:plain"), "{e}");
    }

    #[test]
    fn toml_values_convert_to_json() {
        let table: toml::Table = "a = 1\nb = 1.5\nc = [true, \"x\"]\nd = { e = 1979-05-27 }".parse().unwrap();
        assert_eq!(
            Value::Object(toml_table_to_json(&table)),
            json!({ "a": 1, "b": 1.5, "c": [true, "x"], "d": { "e": "1979-05-27" } })
        );
    }
}
