//! The node installer against fixture configs of each distribution and both
//! containerd schemas: the result parses, holds exactly the expected runtimes,
//! keeps what was there, and a second run changes nothing.

use std::path::PathBuf;

use containerd_shim_spin::{install, Flavor, InstallOptions, Variant};

/// The fixture folder, found at run time (see integration::paths::workspace_root).
fn fixtures() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()))
        .join("tests/fixtures/installer")
}

/// A fake node: `root/` with the flavor's config in place, and a folder of built binaries.
struct Node {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    bins: PathBuf,
}

fn node(flavor: Flavor, fixture: Option<&str>) -> Node {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let bins = tmp.path().join("bins");
    std::fs::create_dir_all(&bins).unwrap();
    for v in variants() {
        std::fs::write(bins.join(v.binary()), format!("#!/bin/sh\necho {v}\n")).unwrap();
    }
    let target = flavor.target(&root);
    if let Some(f) = fixture {
        let dest = target.seed_from.clone().unwrap_or(target.path.clone());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(fixtures().join(f), dest).unwrap();
    }
    Node { _tmp: tmp, root, bins }
}

fn variants() -> Vec<Variant> {
    ["full", "http", "redis"].iter().map(|v| v.parse().unwrap()).collect()
}

fn run(node: &Node, flavor: Flavor, dry_run: bool) -> containerd_shim_spin::Report {
    install(&InstallOptions {
        root: node.root.clone(),
        flavor,
        bin_dir: "/usr/local/bin".into(),
        source_dir: node.bins.clone(),
        variants: variants(),
        dry_run,
    })
    .unwrap()
}

/// Checks the runtimes table under `key` holds exactly runc (if it was there) plus ours.
fn check_runtimes(text: &str, key: &str, had_runc: bool) {
    let doc: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("not TOML: {e}\n{text}"));
    let runtimes = doc["plugins"][key]["containerd"]["runtimes"].as_table().unwrap();
    let mut names: Vec<&str> = runtimes.keys().map(String::as_str).collect();
    names.sort();
    let mut want = vec!["spin", "spin-http", "spin-redis"];
    if had_runc {
        want.insert(0, "runc");
    }
    assert_eq!(names, want, "{text}");
    assert_eq!(runtimes["spin"]["runtime_type"].as_str(), Some("io.containerd.spin.v2"));
    assert_eq!(runtimes["spin-http"]["runtime_type"].as_str(), Some("io.containerd.spin-http.v2"));
    assert_eq!(runtimes["spin-redis"]["runtime_type"].as_str(), Some("io.containerd.spin-redis.v2"));
    // Our handlers put containers in cgroups the way the node's runc does.
    let systemd = |name: &str| {
        runtimes.get(name).and_then(|r| r.get("options")).and_then(|o| o.get("SystemdCgroup")).and_then(|v| v.as_bool())
    };
    for handler in ["spin", "spin-http", "spin-redis"] {
        assert_eq!(systemd(handler), systemd("runc").filter(|on| *on), "{handler}: {text}");
    }
}

fn check_flavor(flavor: Flavor, fixture: Option<&str>, key: &str, had_runc: bool) {
    let n = node(flavor, fixture);
    let target = flavor.target(&n.root);

    let dry = run(&n, flavor, true);
    assert!(dry.diff.contains("+[plugins.") || dry.diff.contains("runtime_type"), "{}", dry.diff);
    assert!(!target.path.exists() || fixture.is_some() && target.seed_from.is_none(), "dry run wrote the config");

    let first = run(&n, flavor, false);
    assert_eq!(first.config_changed.as_deref(), Some(target.path.as_path()));
    assert_eq!(first.copied.len(), 3);
    let text = std::fs::read_to_string(&target.path).unwrap();
    check_runtimes(&text, key, had_runc);
    if let Some(f) = fixture {
        let original = std::fs::read_to_string(fixtures().join(f)).unwrap();
        let first_line = original.lines().next().unwrap();
        assert!(text.contains(first_line), "comments and settings are kept");
    }
    for v in variants() {
        let bin = n.root.join("usr/local/bin").join(v.binary());
        assert!(bin.is_file(), "{} missing", bin.display());
    }

    let second = run(&n, flavor, false);
    assert!(second.config_changed.is_none() && second.copied.is_empty(), "second run is a no-op");
    assert_eq!(std::fs::read_to_string(&target.path).unwrap(), text);
}

#[test]
fn plain_containerd_1x_schema() {
    check_flavor(Flavor::Containerd, Some("containerd-v2.toml"), "io.containerd.grpc.v1.cri", true);
}

#[test]
fn plain_containerd_2x_schema() {
    check_flavor(Flavor::Containerd, Some("containerd-v3.toml"), "io.containerd.cri.v1.runtime", true);
}

#[test]
fn k3s_writes_the_template_seeded_from_the_generated_config() {
    check_flavor(Flavor::K3s, Some("k3s-config.toml"), "io.containerd.grpc.v1.cri", true);
    let n = node(Flavor::K3s, Some("k3s-config.toml"));
    run(&n, Flavor::K3s, false);
    let generated = Flavor::K3s.target(&n.root).seed_from.unwrap();
    assert_eq!(
        std::fs::read_to_string(generated).unwrap(),
        std::fs::read_to_string(fixtures().join("k3s-config.toml")).unwrap(),
        "the generated config.toml itself is left to k3s"
    );
}

#[test]
fn rke2_writes_the_template() {
    check_flavor(Flavor::Rke2, Some("rke2-config.toml"), "io.containerd.grpc.v1.cri", true);
}

#[test]
fn microk8s_template() {
    check_flavor(Flavor::Microk8s, Some("microk8s-template.toml"), "io.containerd.grpc.v1.cri", true);
}

#[test]
fn k0s_drop_in() {
    check_flavor(Flavor::K0s, None, "io.containerd.grpc.v1.cri", false);
}

#[test]
fn existing_config_is_backed_up() {
    let n = node(Flavor::Containerd, Some("containerd-v2.toml"));
    let report = run(&n, Flavor::Containerd, false);
    let backup = report.backup.unwrap();
    assert_eq!(
        std::fs::read_to_string(backup).unwrap(),
        std::fs::read_to_string(fixtures().join("containerd-v2.toml")).unwrap()
    );
}
