//! The manifests in config-examples/ are valid YAML with the fields Kubernetes
//! requires, and the containerd snippets and runtime config are valid TOML that
//! map every variant.

use std::path::Path;

use serde::Deserialize as _;
use serde_yaml::Value;

fn examples() -> std::path::PathBuf {
    integration::paths::workspace_root().join("config-examples")
}

fn docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

fn field<'a>(doc: &'a Value, path: &str, file: &Path) -> &'a Value {
    let mut v = doc;
    for key in path.split('.') {
        v = match key.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[key],
        };
        assert!(!v.is_null(), "{}: missing {path}", file.display());
    }
    v
}

#[test]
fn runtime_classes_name_each_variant_handler() {
    let dir = examples().join("runtimeclasses");
    let mut handlers = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        for doc in docs(&path) {
            assert_eq!(field(&doc, "apiVersion", &path), "node.k8s.io/v1");
            assert_eq!(field(&doc, "kind", &path), "RuntimeClass");
            let name = field(&doc, "metadata.name", &path).as_str().unwrap().to_string();
            assert_eq!(path.file_stem().unwrap().to_str().unwrap(), name);
            handlers.push(field(&doc, "handler", &path).as_str().unwrap().to_string());
        }
    }
    handlers.sort();
    assert_eq!(handlers, ["spin", "spin-command", "spin-cron", "spin-http", "spin-mqtt", "spin-redis", "spin-sqs"]);
}

/// Every workload selects a Spin RuntimeClass and runs `/`; every RuntimeClass has
/// a workload; a Deployment that exposes a port has a Service selecting it.
#[test]
fn workloads_select_a_spin_runtime_class_and_run_slash() {
    let dir = examples().join("deployments");
    let mut classes = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let docs = docs(&path);
        let services: Vec<&Value> = docs.iter().filter(|d| d["kind"] == "Service").collect();
        for doc in &docs {
            field(doc, "apiVersion", &path);
            field(doc, "metadata.name", &path);
            match field(doc, "kind", &path).as_str().unwrap() {
                "Deployment" | "Job" => {
                    let spec = field(doc, "spec.template.spec", &path);
                    let rc = field(spec, "runtimeClassName", &path).as_str().unwrap();
                    assert!(rc.starts_with("wasmtime-spin-"), "{}: {rc}", path.display());
                    classes.insert(rc.to_string());
                    let c = field(spec, "containers.0", &path);
                    field(c, "image", &path);
                    assert_eq!(field(c, "command.0", &path), "/", "{}", path.display());
                    if doc["kind"] == "Deployment" {
                        let labels = field(doc, "spec.template.metadata.labels", &path);
                        assert_eq!(field(doc, "spec.selector.matchLabels", &path), labels, "{}", path.display());
                        if !c["ports"].is_null() {
                            assert!(
                                services.iter().any(|s| &s["spec"]["selector"] == labels),
                                "{}: a Deployment with ports needs a Service selecting {labels:?}",
                                path.display()
                            );
                        }
                    }
                }
                "Service" => {
                    field(doc, "spec.selector", &path);
                    field(doc, "spec.ports.0.port", &path);
                }
                "ConfigMap" => {
                    field(doc, "data", &path);
                }
                other => panic!("{}: unexpected kind {other}", path.display()),
            }
        }
    }
    let expected: std::collections::BTreeSet<String> = ["v2", "http", "redis", "sqs", "command", "cron", "mqtt"]
        .iter()
        .map(|v| format!("wasmtime-spin-{v}"))
        .collect();
    assert_eq!(classes, expected, "one workload per RuntimeClass");
}

#[test]
fn containerd_snippets_map_every_variant_in_their_schema() {
    for (file, key) in
        [("containerd-1.x.toml", "io.containerd.grpc.v1.cri"), ("containerd-2.x.toml", "io.containerd.cri.v1.runtime")]
    {
        let text = std::fs::read_to_string(examples().join("containerd").join(file)).unwrap();
        let t: toml::Table = toml::from_str(&text).unwrap();
        let runtimes = t["plugins"][key]["containerd"]["runtimes"].as_table().unwrap();
        assert_eq!(runtimes.len(), 7, "{file}");
        assert_eq!(runtimes["spin"]["runtime_type"].as_str(), Some("io.containerd.spin.v2"));
        assert_eq!(runtimes["spin-mqtt"]["runtime_type"].as_str(), Some("io.containerd.spin-mqtt.v2"));
    }
}

#[test]
fn runtime_config_examples_parse() {
    let file = examples().join("runtime-config/runtime-config.toml");
    let config = spin_engine::runtime_config::RuntimeConfig::from_file(&file).unwrap();
    assert_eq!(config.variables_provider.len(), 2);
    assert_eq!(config.max_instance_memory, Some(134217728));
    // Every table of the example is served, blocked networks included.
    assert!(config.unserved_tables().is_empty(), "{:?}", config.unserved_tables());
    spin_engine::host::check_runtime_config(&config).unwrap();
    let cm = docs(&examples().join("runtime-config/configmap.yaml"));
    let embedded = cm[0]["data"]["runtime-config.toml"].as_str().unwrap();
    let copy = tempfile::tempdir().unwrap();
    std::fs::write(copy.path().join("runtime-config.toml"), embedded).unwrap();
    let config =
        spin_engine::runtime_config::RuntimeConfig::from_file(&copy.path().join("runtime-config.toml")).unwrap();
    assert_eq!(config.key_value_store.len(), 1);
    assert_eq!(config.sqlite_database.len(), 1);
    // The store and database tables are parsed by their capabilities.
    spin_engine::host::check_runtime_config(&config).unwrap();
    let mut broken = config;
    broken.key_value_store.get_mut("default").unwrap().insert("type".into(), "azure_cosmos".into());
    let e = spin_engine::host::check_runtime_config(&broken).unwrap_err().to_string();
    assert!(e.contains("[key_value_store.default]") && e.contains("azure_cosmos"), "{e}");
}
