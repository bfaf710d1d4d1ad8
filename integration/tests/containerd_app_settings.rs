//! App settings a Pod spec gives a rootfs Spin image, under a private containerd:
//! `SPIN_COMPONENTS_TO_RETAIN` (selective deployment: the other routes answer
//! 404), a runtime config file mounted at `/runtime-config.toml` (it selects
//! the key-value store: here Redis, where the value is then found), and
//! `SPIN_PROFILE` (the manifest's named profile runs),
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (request spans and counts reach a collector),
//! and a wasm-pkg config mounted under the container's `$HOME` (registry
//! packages are fetched from the registry it names).

use std::time::Duration;

use integration::containerd::{Containerd, TaskSpec, RUNTIME};
use integration::process::free_port;
use integration::services::redis::RedisServer;
use integration::{guests, http, paths};

/// Runs `image` with `env` and `mounts` until it answers; `check` gets its base URL.
fn with_task(
    containerd: &Containerd,
    image: &str,
    id: &str,
    env: &[(&str, &str)],
    mounts: &[(&std::path::Path, &str)],
    check: impl FnOnce(&str),
) {
    let listen = format!("127.0.0.1:{}", free_port());
    let mut env = env.to_vec();
    env.push(("SPIN_HTTP_LISTEN_ADDR", &listen));
    let spec = TaskSpec { runtime: RUNTIME, image, id, env: &env, mounts, command: &["/"], read_only: false };
    let mut task = containerd.run_task_on(&spec).unwrap();
    let base = format!("http://{listen}");
    http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{id}: {e:#}\n{}", task.output()));
    check(&base);
    containerd.kill_task(id, "SIGTERM").unwrap();
    task.wait(Duration::from_secs(10)).unwrap();
}

#[test]
fn components_to_retain_and_a_mounted_runtime_config_apply_in_a_container() {
    let containerd = Containerd::start(&paths::bin_dir()).unwrap();
    containerd.import_app(&guests::app("rust-echo"), "test.local/rust-echo:latest", false).unwrap();
    containerd.import_app(&guests::app("rust-kv"), "test.local/rust-kv:latest", false).unwrap();

    // rust-echo has a component per route; keep `exact` only.
    with_task(
        &containerd,
        "test.local/rust-echo:latest",
        "retain",
        &[("SPIN_COMPONENTS_TO_RETAIN", "exact")],
        &[],
        |b| {
            assert_eq!(http::get(&format!("{b}/exact")).unwrap().status, 200);
            for dropped in ["/", "/users/7", "/files"] {
                assert_eq!(http::get(&format!("{b}{dropped}")).unwrap().status, 404, "{dropped}");
            }
        },
    );

    // The runtime config puts the default key-value store in Redis.
    let redis = RedisServer::start().unwrap();
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("runtime-config.toml");
    std::fs::write(&config, format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{}\"\n", redis.address()))
        .unwrap();
    with_task(
        &containerd,
        "test.local/rust-kv:latest",
        "runtime-config",
        &[],
        &[(&config, "/runtime-config.toml")],
        |b| {
            let r = http::request("PUT", &format!("{b}/kv/from-pod"), &[], "in redis").unwrap();
            assert_eq!((r.status, r.body.as_str()), (200, "stored"));
        },
    );
    assert_eq!(redis.get("from-pod").unwrap().as_deref(), Some("in redis"));
}

/// An image packed with `spin-shim package --profile debug` runs that profile
/// when the container sets `SPIN_PROFILE=debug`; without it, the default
/// profile's missing source stops the start with its name.
#[test]
fn spin_profile_runs_the_manifests_named_profile_in_a_container() {
    use integration::fixtures::{with_manifest, PROFILED_DEPS};
    const IMAGE: &str = "test.local/profiled:latest";
    let containerd = Containerd::start(&paths::bin_dir()).unwrap();
    let (_copy, dir) = with_manifest("rust-deps", PROFILED_DEPS);
    let tar = containerd.dir().join("profiled.tar");
    let out = std::process::Command::new(paths::cli())
        .args(["package", "--profile", "debug", "-r", IMAGE, "-f"])
        .arg(&dir)
        .arg("-o")
        .arg(&tar)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    containerd.import(&tar, IMAGE).unwrap();

    with_task(&containerd, IMAGE, "profile", &[("SPIN_PROFILE", "debug")], &[], |b| {
        let resp = http::get(&format!("{b}/alice")).unwrap();
        assert_eq!((resp.status, resp.body.as_str()), (200, "Hello, alice!; front GREETING=Debugging"));
    });
    let mut task = containerd.run_task(IMAGE, "no-profile", &[]).unwrap();
    let (code, output) = task.wait(Duration::from_secs(60)).unwrap();
    assert!(code != 0 && output.contains("source `release.wasm`"), "exit {code}: {output}");
}

/// A container whose environment names an OTLP collector traces its requests
/// there and counts them in `spin.request_count`, sent every
/// `OTEL_METRIC_EXPORT_INTERVAL` of the container's environment (here while it
/// runs), with the resource attributes of its `OTEL_RESOURCE_ATTRIBUTES`, and
/// the last spans and counts when it is stopped; its spans leave after its
/// `OTEL_BSP_SCHEDULE_DELAY`. One that names a logs collector only sends its
/// guest's logs there, after its `OTEL_BLRP_SCHEDULE_DELAY` (here when it
/// stops); one whose `OTEL_TRACES_SAMPLER` is `always_off` sends counts and no
/// span.
#[test]
fn a_containers_requests_are_traced_counted_and_logged_to_the_collectors_its_environment_names() {
    use integration::services::otlp_receiver::OtlpReceiver;
    let containerd = Containerd::start(&paths::bin_dir()).unwrap();
    containerd.import_app(&guests::app("rust-hello"), "test.local/traced:latest", false).unwrap();
    let receiver = OtlpReceiver::start().unwrap();
    let endpoint = receiver.endpoint();
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_SERVICE_NAME", "traced-pod"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "300"),
        ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,service.name=overridden"),
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
    ];
    with_task(&containerd, "test.local/traced:latest", "traced", &env, &[], |b| {
        assert_eq!(http::get(&format!("{b}/hello")).unwrap().status, 200);
        // The SDK's default (5 s from the container's start) would be later.
        let span_sent = receiver.wait_until(Duration::from_secs(2), |r| !r.spans().is_empty());
        assert!(span_sent, "the span did not leave within 2 s while the container ran");
        assert_eq!(http::get(&format!("{b}/again")).unwrap().status, 200);
        // The SDK's own default would send the count only at shutdown (60 s).
        let counted = |r: &OtlpReceiver| r.sums().iter().any(|p| p["name"] == "spin.request_count" && p["value"] == 2);
        let sent = receiver.wait_until(Duration::from_secs(10), counted);
        assert!(sent, "the count was not sent while the container ran: {:#?}", receiver.sums());
    });
    receiver.wait_until(Duration::from_secs(10), |r| !r.spans().is_empty() && !r.sums().is_empty());
    let sums = receiver.sums();
    let count = sums.iter().rfind(|p| p["name"] == "spin.request_count").unwrap_or_else(|| panic!("{sums:#?}"));
    assert_eq!((&count["attributes"]["component_id"], &count["value"]), (&"rust-hello".into(), &2.into()));
    assert_eq!(count["service"], "traced-pod");
    let spans = receiver.spans();
    let span = spans.iter().find(|s| s["name"] == "GET /...").unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(span["service"], "traced-pod");
    assert_eq!(span["resource"]["deployment.environment"], "prod", "the Pod's resource attributes: {span:#}");
    assert_eq!(span["attributes"]["url.path"], "/hello");
    assert_eq!(span["attributes"]["spin.component_id"], "rust-hello");

    // Logs alone, as spin-operator names them: the guest's output lines and its
    // `wasi:otel` records reach the collector; no span does.
    let logs_only = OtlpReceiver::start().unwrap();
    let logs_endpoint = format!("{}/v1/logs", logs_only.endpoint());
    containerd.import_app(&guests::app("rust-sdk7-otel"), "test.local/logged:latest", false).unwrap();
    let env = [("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", logs_endpoint.as_str()), ("OTEL_BLRP_SCHEDULE_DELAY", "60000")];
    with_task(&containerd, "test.local/logged:latest", "logged", &env, &[], |b| {
        assert_eq!(http::get(&format!("{b}/")).unwrap().status, 200);
        // The SDK's default would send them within 1 s.
        std::thread::sleep(Duration::from_millis(2500));
        assert_eq!(logs_only.logs(), Vec::<serde_json::Value>::new(), "log records left their 60 s batch early");
    });
    logs_only.wait_until(Duration::from_secs(10), |r| r.logs().len() >= 3);
    let logs = logs_only.logs();
    let line = logs.iter().find(|l| l["body"] == "guest says hello").unwrap_or_else(|| panic!("{logs:#?}"));
    assert_eq!((&line["attributes"]["component_id"], &line["service"]), (&"otel".into(), &"spin".into()));
    assert!(logs.iter().any(|l| l["event_name"] == "order.paid"), "{logs:#?}");
    assert!(logs_only.spans().is_empty() && logs_only.sums().is_empty());

    // The container's `OTEL_TRACES_SAMPLER` decides: `always_off` records no trace,
    // while the request count still arrives.
    let unsampled = OtlpReceiver::start().unwrap();
    let endpoint = unsampled.endpoint();
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_TRACES_SAMPLER", "always_off"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "300"),
    ];
    with_task(&containerd, "test.local/traced:latest", "unsampled", &env, &[], |b| {
        assert_eq!(http::get(&format!("{b}/hello")).unwrap().status, 200);
        unsampled.wait_until(Duration::from_secs(10), |r| !r.sums().is_empty());
    });
    assert!(!unsampled.sums().is_empty() && unsampled.spans().is_empty(), "{:#?}", unsampled.spans());
}

/// A rootfs image whose components come from a registry (a source and a
/// dependency given as packages) runs with the wasm-pkg config mounted under
/// the container's `$HOME/.config`, as a ConfigMap would be, and a CA bundle
/// mounted where the system store is read: the packages are fetched from the
/// registry the config names. Without the bundle (an image `FROM scratch`),
/// the container stops with an error that says what is missing.
#[test]
fn registry_packages_are_fetched_with_the_wasm_pkg_config_mounted_in_the_container() {
    use integration::services::registry::Registry;
    let registry = Registry::start().unwrap();
    let (_copy, dir) = integration::fixtures::copy_of("rust-deps");
    registry.publish_package(&dir.join("app.wasm"), "demo:front", "1.0.0").unwrap();
    registry.publish_package(&dir.join("greeter.wasm"), "demo:greeter", "0.1.0").unwrap();
    for file in ["app.wasm", "greeter.wasm"] {
        std::fs::remove_file(dir.join(file)).unwrap();
    }
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"from-registry\"\n\
                    [[trigger.http]]\nroute = \"/...\"\ncomponent = \"front\"\n\
                    [component.front]\nsource = { package = \"demo:front\", version = \"1.0.0\" }\n\
                    environment = { GREETING = \"Howdy\" }\n\
                    [component.front.dependencies]\n\"demo:greeter/greet\" = \"^0.1\"\n";
    std::fs::write(dir.join("spin.toml"), manifest).unwrap();
    let containerd = Containerd::start(&paths::bin_dir()).unwrap();
    // Packing names the packages without fetching them (no registry is configured here).
    containerd.import_app(&dir, "test.local/from-registry:latest", false).unwrap();
    let config = tempfile::tempdir().unwrap();
    std::fs::write(config.path().join("config.toml"), registry.wasm_pkg_config(true)).unwrap();
    let env = [("HOME", "/home/app")];
    let ca_bundle = std::path::Path::new("/etc/ssl/certs/ca-certificates.crt");
    let mounts = [(config.path(), "/home/app/.config/wasm-pkg"), (ca_bundle, "/etc/ssl/certs/ca-certificates.crt")];
    with_task(&containerd, "test.local/from-registry:latest", "from-registry", &env, &mounts, |base| {
        integration::suite::component_dependencies(base).unwrap();
    });
    let spec = TaskSpec {
        runtime: RUNTIME,
        image: "test.local/from-registry:latest",
        id: "no-ca-bundle",
        env: &env,
        mounts: &mounts[..1],
        command: &["/"],
        read_only: false,
    };
    let mut task = containerd.run_task_on(&spec).unwrap();
    let (code, output) = task.wait(Duration::from_secs(60)).unwrap();
    assert!(code != 0 && output.contains("needs CA certificates, and the system has none"), "exit {code}: {output}");
}
