//! `spin-shim registry push | pull` and `up --from REF` against a real registry
//! (Debian's docker-registry): the pushed manifest, config and locked app are
//! checked against a description written from the spec
//! (`golden/spin-oci-artifact.toml`), and the pulled app serves every file
//! byte for byte, per-file layers, inlined files and archive layers alike.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use integration::cli_app::Up;
use integration::services::registry::Registry;
use integration::{guests, http, paths};
use serde_json::Value;

/// The fixture's files (guest path relative to `/`, bytes).
fn files() -> Vec<(&'static str, Vec<u8>)> {
    let pattern = |n: usize| (0..n).map(|i| (i * 7 % 251) as u8).collect::<Vec<u8>>();
    vec![
        ("small.txt", b"small enough to be inlined".to_vec()),
        ("edge-128.bin", pattern(128)),
        ("edge-129.bin", pattern(129)),
        ("big.bin", pattern(5000)),
        ("sub/nested.txt", vec![b'n'; 200]),
    ]
}

/// An app whose one component (the echo guest as `files`) reads the files it mounts.
fn fixture_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(guests::app("rust-echo").join("app.wasm"), dir.path().join("app.wasm")).unwrap();
    integration::fixtures::write_tree(&dir.path().join("assets"), &files());
    std::fs::write(
        dir.path().join("spin.toml"),
        r#"spin_manifest_version = 2
[application]
name = "registry-fixture"
version = "1.2.3"
description = "the registry tests' app"
authors = ["Ann", "Bob"]
[[trigger.http]]
route = "/files"
component = "files"
[component.files]
source = "app.wasm"
environment = { COMPONENT = "files" }
files = [{ source = "assets", destination = "/" }]
"#,
    )
    .unwrap();
    dir
}

fn golden() -> toml::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/spin-oci-artifact.toml");
    toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(v: &toml::Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

/// Runs `spin-shim registry ...`; panics with its output on failure.
fn registry_cmd(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(paths::cli()).arg("registry").args(args).envs(env.iter().copied()).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "spin-shim registry {args:?}: {text}");
    text
}

fn push(registry: &Registry, app: &Path, tag: &str, archive: bool) -> String {
    registry.push_app(app, &format!("tests/fixture:{tag}"), archive).unwrap()
}

/// Checks the pushed artifact `tag` against the golden description's `mode` table.
fn check_layout(registry: &Registry, tag: &str, mode: &str) {
    let golden = golden();
    let manifest = registry.manifest("tests/fixture", tag).unwrap();
    let blob = |d: &Value| registry.blob("tests/fixture", d.as_str().unwrap()).unwrap();

    // Config.
    let expected = &golden["config"];
    assert_eq!(manifest["config"]["mediaType"], expected["media_type"].as_str().unwrap());
    let config: Value = serde_json::from_slice(&blob(&manifest["config"]["digest"])).unwrap();
    assert_eq!(config["architecture"], expected["architecture"].as_str().unwrap());
    assert_eq!(config["os"], expected["os"].as_str().unwrap());

    // Layers, the locked app last and named by the config's label.
    let layers = manifest["layers"].as_array().unwrap();
    let mut media_types: Vec<String> = layers.iter().map(|l| l["mediaType"].as_str().unwrap().to_string()).collect();
    let mut expected_types = strings(&golden[mode]["layers"]);
    assert_eq!(media_types.last(), expected_types.last(), "{manifest:#}");
    media_types.sort();
    expected_types.sort();
    assert_eq!(media_types, expected_types, "{manifest:#}");
    let locked_layer = layers.last().unwrap();
    let label = expected["locked_app_label"].as_str().unwrap();
    assert_eq!(config["config"]["Labels"][label], locked_layer["digest"], "{config:#}");

    // Annotations.
    for (key, value) in golden["manifest"]["annotations"].as_table().unwrap() {
        let got = manifest["annotations"][key].as_str().unwrap_or_else(|| panic!("annotation {key}: {manifest:#}"));
        match value.as_str().unwrap() {
            "<rfc3339>" => assert!(got.len() > 19 && got.as_bytes()[10] == b'T', "{key} = {got}"),
            value => assert_eq!(got, value, "{key}"),
        }
    }

    // The locked app: no origin, digests for the wasm and every file, inline as the rules say.
    let locked: Value = serde_json::from_slice(&blob(&locked_layer["digest"])).unwrap();
    for key in strings(&golden["locked"]["absent_metadata"]) {
        assert!(locked["metadata"].get(&key).is_none(), "metadata.{key} was pushed: {:#}", locked["metadata"]);
    }
    let component = &locked["components"][0];
    let wasm_layer = layers.iter().find(|l| l["mediaType"] == "application/vnd.wasm.content.layer.v1+wasm").unwrap();
    assert_eq!(component["source"]["digest"], wasm_layer["digest"]);
    assert!(component["source"].get("source").is_none(), "{component:#}");
    let by_path: BTreeMap<String, &Value> =
        component["files"].as_array().unwrap().iter().map(|f| (f["path"].as_str().unwrap().to_string(), f)).collect();
    assert_eq!(by_path.keys().cloned().collect::<Vec<_>>(), {
        let mut names: Vec<String> = files().iter().map(|(p, _)| p.to_string()).collect();
        names.sort();
        names
    });
    let inline = strings(&golden[mode]["inline"]);
    for (path, bytes) in files() {
        let entry = by_path[path];
        let digest = format!("sha256:{}", sha256_hex(&bytes));
        assert_eq!(entry["digest"], digest.as_str(), "{path}");
        assert!(entry.get("source").is_none(), "{path}: {entry}");
        assert_eq!(entry.get("inline").is_some(), inline.contains(&path.to_string()), "{path}: {entry}");
    }
    let data_digests: Vec<&Value> = layers
        .iter()
        .filter(|l| l["mediaType"] == "application/vnd.wasm.content.layer.v1+data")
        .map(|l| &l["digest"])
        .collect();
    let mut expected_data: Vec<String> =
        strings(&golden[mode]["data_layers"]).iter().map(|p| by_path[p.as_str()]["digest"].to_string()).collect();
    let mut got_data: Vec<String> = data_digests.iter().map(|d| d.to_string()).collect();
    expected_data.sort();
    got_data.sort();
    assert_eq!(got_data, expected_data);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Every fixture file, read by the guest, is the same bytes.
fn check_files(base: &str) {
    for (path, bytes) in files() {
        let got = http::get_bytes(&format!("{base}/files?path=/{path}")).unwrap();
        assert_eq!(got, bytes, "/{path}");
    }
}

#[test]
fn a_pushed_app_has_the_layout_spin_registry_push_writes_and_serves_the_same_bytes() {
    let registry = Registry::start().unwrap();
    let app = fixture_app();
    for (tag, mode, archive) in [("v1", "per_file", false), ("archive", "archive", true)] {
        let reference = push(&registry, app.path(), tag, archive);
        check_layout(&registry, tag, mode);
        let served = Up::new(Path::new(&reference)).flags(&["--insecure"]).serve().unwrap();
        check_files(&served.base);
        // The app's info names the manifest it came from, as Spin's does.
        let url = format!("http://{}/v2/tests/fixture/manifests/{tag}", registry.host());
        let manifest = http::request("GET", &url, &[("accept", "application/vnd.oci.image.manifest.v1+json")], "");
        let digest = manifest.unwrap().headers["docker-content-digest"].clone();
        let info: Value =
            serde_json::from_str(&http::get(&format!("{}/.well-known/spin/info", served.base)).unwrap().body).unwrap();
        assert_eq!(info["oci_image_digest"], digest.as_str(), "{info}");
    }
}

/// The manifest of `repository:tag` and the locked app in its last layer.
fn pushed_layout(registry: &Registry, repository: &str, tag: &str) -> (Value, Value) {
    let manifest = registry.manifest(repository, tag).unwrap();
    let locked_layer = manifest["layers"].as_array().unwrap().last().unwrap();
    let digest = locked_layer["digest"].as_str().unwrap();
    let locked = serde_json::from_slice(&registry.blob(repository, digest).unwrap()).unwrap();
    (manifest, locked)
}

/// The digests of a manifest's wasm layers.
fn wasm_layer_digests(manifest: &Value) -> Vec<String> {
    let layers = manifest["layers"].as_array().unwrap();
    let wasm = layers.iter().filter(|l| l["mediaType"] == "application/vnd.wasm.content.layer.v1+wasm");
    wasm.map(|l| l["digest"].as_str().unwrap().to_owned()).collect()
}

/// Middleware is composed before the push, as Spin does: the pushed app has no
/// trigger dependencies left and answers as the local app does.
#[test]
fn middleware_is_composed_before_the_push() {
    let registry = Registry::start().unwrap();
    let reference = registry.push_app(&guests::app("rust-sdk7-middleware"), "tests/middleware:v1", false).unwrap();
    let (_, locked) = pushed_layout(&registry, "tests/middleware", "v1");
    for c in locked["components"].as_array().unwrap() {
        assert!(c.get("trigger_dependencies").is_none(), "{c:#}");
    }
    let served = Up::new(Path::new(&reference)).flags(&["--insecure"]).serve().unwrap();
    integration::suite::http_middleware(&served.base).unwrap();
}

/// Component dependencies are composed before the push, as `spin registry push`
/// does by default: one wasm layer, no dependencies in the locked app.
#[test]
fn component_dependencies_are_composed_before_the_push() {
    let registry = Registry::start().unwrap();
    let reference = registry.push_app(&guests::app("rust-deps"), "tests/deps:v1", false).unwrap();
    let (manifest, locked) = pushed_layout(&registry, "tests/deps", "v1");
    assert_eq!(wasm_layer_digests(&manifest).len(), 1, "{manifest:#}");
    for c in locked["components"].as_array().unwrap() {
        assert!(c.get("dependencies").is_none(), "{c:#}");
    }
    let served = Up::new(Path::new(&reference)).flags(&["--insecure"]).serve().unwrap();
    integration::suite::component_dependencies(&served.base).unwrap();
}

/// With `--compose=false` each dependency is a wasm layer of its own, named by
/// digest in the locked app, and the app composes it at start.
#[test]
fn uncomposed_dependencies_travel_as_layers_and_compose_at_start() {
    let registry = Registry::start().unwrap();
    let reference = registry
        .push_app_with(&guests::app("rust-deps"), "tests/deps:uncomposed", false, &["--compose=false"])
        .unwrap();
    let (manifest, locked) = pushed_layout(&registry, "tests/deps", "uncomposed");
    let wasm_digests = wasm_layer_digests(&manifest);
    assert_eq!(wasm_digests.len(), 2, "{manifest:#}");
    let dep = &locked["components"][0]["dependencies"]["demo:greeter/greet"];
    let greeter = std::fs::read(guests::app("rust-deps").join("greeter.wasm")).unwrap();
    let digest = format!("sha256:{}", sha256_hex(&greeter));
    assert_eq!(dep["source"]["digest"], digest.as_str(), "{locked:#}");
    assert!(wasm_digests.contains(&digest), "{manifest:#}");
    let served = Up::new(Path::new(&reference)).flags(&["--insecure"]).serve().unwrap();
    integration::suite::component_dependencies(&served.base).unwrap();
}

/// `--profile` pushes the app as that profile has it: its source and
/// environment, and the profile's name in the locked app's metadata.
#[test]
fn a_profile_is_pushed_as_that_profile_has_the_app() {
    use integration::fixtures::{with_manifest, PROFILED_DEPS};
    let registry = Registry::start().unwrap();
    let (_copy, dir) = with_manifest("rust-deps", PROFILED_DEPS);
    let reference = registry.push_app_with(&dir, "tests/profiled:debug", false, &["--profile", "debug"]).unwrap();
    let (_, locked) = pushed_layout(&registry, "tests/profiled", "debug");
    assert_eq!(locked["metadata"]["profile"], "debug", "{locked:#}");
    let served = Up::new(Path::new(&reference)).flags(&["--insecure"]).serve().unwrap();
    let resp = integration::http::get(&format!("{}/alice", served.base)).unwrap();
    assert_eq!((resp.status, resp.body.as_str()), (200, "Hello, alice!; front GREETING=Debugging"));
}

/// `push --build` runs the build commands first and pushes what they made.
#[test]
fn push_build_builds_the_app_before_pushing_it() {
    use integration::fixtures::with_manifest;
    let registry = Registry::start().unwrap();
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"built\"\n\
                    [[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n\
                    [component.hello]\nsource = \"out/app.wasm\"\n\
                    [component.hello.build]\ncommand = \"mkdir -p out && cp app.wasm out/app.wasm\"\n";
    let (_copy, dir) = with_manifest("rust-hello", manifest);
    let reference = registry.push_app_with(&dir, "tests/built:v1", false, &["--build"]).unwrap();
    assert!(dir.join("out/app.wasm").is_file());
    let served = Up::new(Path::new(&reference)).flags(&["--insecure"]).serve().unwrap();
    assert_eq!(integration::http::get(&format!("{}/", served.base)).unwrap().status, 200);
}

#[test]
fn a_pulled_app_runs_from_its_lock_file() {
    let registry = Registry::start().unwrap();
    let app = fixture_app();
    let reference = push(&registry, app.path(), "v1", false);
    let out = tempfile::tempdir().unwrap();
    registry_cmd(&["pull", "--insecure", "-o", &out.path().to_string_lossy(), &reference], &[]);
    let served = Up::new(&out.path().join("spin.lock")).serve().unwrap();
    check_files(&served.base);
}

#[test]
fn an_unreachable_registry_or_unknown_tag_is_one_clear_error() {
    let registry = Registry::start().unwrap();
    let out = Command::new(paths::cli())
        .args(["registry", "pull", "--insecure", &format!("{}/tests/missing:v9", registry.host())])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("tests/missing:v9") && stderr.contains("manifest unknown"), "{stderr}");

    // HTTPS to a plain-HTTP registry: the error says what to do.
    let out = Command::new(paths::cli())
        .args(["registry", "pull", &format!("{}/tests/missing:v9", registry.host())])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("pass --insecure"), "{stderr}");
}

/// A `$DOCKER_CONFIG` folder whose `config.json` holds `user:password` for
/// `server`, the way `docker login` writes it.
fn docker_config(server: &str, user: &str, password: &str) -> tempfile::TempDir {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let config = serde_json::json!({ "auths": { server: { "auth": auth } } });
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    dir
}

/// `spin-shim registry ARGS` with `$DOCKER_CONFIG` set; (success, stdout and stderr).
fn registry_with_config(args: &[&str], config: &Path) -> (bool, String) {
    let out = Command::new(paths::cli()).arg("registry").args(args).env("DOCKER_CONFIG", config).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// A registry behind a login: push, pull and `up --from` use the Docker
/// config's credentials; with none, or the wrong ones, the command fails with
/// an error that names the registry and says how to log in.
#[test]
fn a_registry_behind_a_login_takes_the_docker_config_credentials() {
    let registry = Registry::start_with_login("ci-user", "right-password").unwrap();
    let app = fixture_app();
    let app_dir = app.path().to_string_lossy().to_string();
    let reference = format!("{}/tests/private:v1", registry.host());
    let push = ["push", "--insecure", "-f", &app_dir, &reference];

    let nobody = tempfile::tempdir().unwrap();
    let wrong = docker_config(&registry.host(), "ci-user", "wrong-password");
    for (who, config) in [("no credentials", nobody.path()), ("a wrong password", wrong.path())] {
        let (ok, text) = registry_with_config(&push, config);
        assert!(!ok, "push with {who} succeeded: {text}");
        assert!(
            text.contains(&registry.host()) && text.contains("did not authorize") && text.contains("docker login"),
            "push with {who}: {text}"
        );
    }

    let right = docker_config(&registry.host(), "ci-user", "right-password");
    let (ok, text) = registry_with_config(&push, right.path());
    assert!(ok && text.contains("Pushed with digest sha256:"), "{text}");

    let out = tempfile::tempdir().unwrap();
    let pull = ["pull", "--insecure", "-o", &out.path().to_string_lossy(), &reference];
    let (ok, text) = registry_with_config(&pull, nobody.path());
    assert!(!ok && text.contains("docker login"), "anonymous pull: {text}");
    let (ok, text) = registry_with_config(&pull, right.path());
    assert!(ok, "{text}");
    check_files(&Up::new(&out.path().join("spin.lock")).serve().unwrap().base);

    let config = right.path().to_string_lossy().to_string();
    let served =
        Up::new(Path::new(&reference)).flags(&["--insecure"]).env(&[("DOCKER_CONFIG", &config)]).serve().unwrap();
    check_files(&served.base);
}
