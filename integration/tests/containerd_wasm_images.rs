//! Images that are not Spin apps, run by the shim under a private containerd:
//! plain WASI images (a `FROM scratch` rootfs holding one wasm, no spin.toml),
//! through `ctr` on containerd 1.6 and 1.7; and `wkg`-shaped packages (one
//! `application/wasm` layer) pulled by the CRI plugin from a real registry on
//! containerd 1.7. A component that exports `wasi:cli/run` runs as a command
//! with the container's args and exit code; one exporting an HTTP handler
//! serves HTTP. Several wasm layers without a Spin config are one clear error.

use std::time::Duration;

use integration::containerd::{Containerd, TaskSpec, RUNTIME};
use integration::cri::spin_node;
use integration::process::free_port;
use integration::services::registry::Registry;
use integration::{guests, http, images, paths, suite};

/// wkg's config media type.
const WKG_CONFIG: &str = "application/vnd.wasm.config.v0+json";

fn wasm(guest: &str) -> Vec<u8> {
    std::fs::read(guests::app(guest).join("app.wasm")).unwrap()
}

/// A config as wkg writes it: its layers' digests make it (and the image id
/// the CRI plugin derives from it) differ between packages.
fn wkg_config(layers: &[&[u8]]) -> Vec<u8> {
    use sha2::Digest as _;
    let digests: Vec<String> =
        layers.iter().map(|l| format!("sha256:{}", hex::encode(sha2::Sha256::digest(l)))).collect();
    serde_json::to_vec(&serde_json::json!({ "architecture": "wasm", "os": "wasip2", "layerDigests": digests })).unwrap()
}

/// Pushes a wkg-shaped package of `guests`' wasm as `repository_tag`.
fn push_wkg(registry: &Registry, repository_tag: &str, guests: &[&str]) -> String {
    let layers: Vec<Vec<u8>> = guests.iter().map(|g| wasm(g)).collect();
    let refs: Vec<&[u8]> = layers.iter().map(Vec::as_slice).collect();
    let typed: Vec<(&[u8], &str)> = refs.iter().map(|l| (*l, "application/wasm")).collect();
    registry.push_image(repository_tag, WKG_CONFIG, &wkg_config(&refs), &typed).unwrap()
}

#[test]
fn plain_wasi_images_run_as_commands_or_http_servers() {
    let containerd = Containerd::start(&paths::bin_dir()).unwrap();
    let mut failures = Vec::new();
    for (guest, reference) in
        [("rust-command", "test.local/plain-command:1"), ("rust-hello", "test.local/plain-http:1")]
    {
        let tar = images::plain_wasm_image(reference, &guests::app(guest).join("app.wasm"), containerd.dir()).unwrap();
        containerd.import(&tar, reference).unwrap();
    }

    // A command: the container's args after the entrypoint reach argv, and its exit code is the task's.
    let spec = |id: &'static str, command: &'static [&'static str]| TaskSpec {
        runtime: RUNTIME,
        image: "test.local/plain-command:1",
        id,
        env: &[],
        mounts: &[],
        command,
        read_only: false,
    };
    let mut task = containerd.run_task_on(&spec("plain-cmd", &["/app.wasm", "exit", "7"])).unwrap();
    match task.wait(Duration::from_secs(120)) {
        Ok((7, out)) if out.contains("argv=") && out.contains("exit 7") => {}
        other => failures.push(format!("plain command: {other:?}")),
    }

    // An HTTP component: served on the listen address.
    let listen = format!("127.0.0.1:{}", free_port());
    let http_spec = TaskSpec {
        runtime: RUNTIME,
        image: "test.local/plain-http:1",
        id: "plain-http",
        env: &[("SPIN_HTTP_LISTEN_ADDR", &listen)],
        mounts: &[],
        command: &["/app.wasm"],
        read_only: false,
    };
    let mut task = containerd.run_task_on(&http_spec).unwrap();
    let base = format!("http://{listen}");
    if let Err(e) = http::wait_until_up(&format!("{base}/"), Duration::from_secs(120))
        .and_then(|_| suite::hello(&base, "Hello, Fermyon"))
    {
        failures.push(format!("plain http: {e:#}\n{}", task.output()));
    }
    containerd.kill_task("plain-http", "SIGTERM").unwrap();
    let _ = task.wait(Duration::from_secs(10));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn wkg_packages_are_pulled_and_run_by_their_exports() {
    let registry = Registry::start().unwrap();
    let hello = push_wkg(&registry, "wkg/hello:1", &["rust-hello"]);
    let command = push_wkg(&registry, "wkg/command:1", &["rust-command"]);
    let two = push_wkg(&registry, "wkg/two:1", &["rust-hello", "rust-command"]);

    let (mut containerd, mut cri) = spin_node(Some(&registry.host())).unwrap();
    if containerd.is_v1_6() {
        let err = format!("{:#}", cri.pull_image(&hello).unwrap_err());
        assert!(err.contains("mismatched image rootfs and manifest layers"), "{err}");
        return;
    }
    for reference in [&hello, &command, &two] {
        cri.pull_image(reference).unwrap_or_else(|e| panic!("PullImage {reference}: {e:#}\n{}", containerd.log()));
    }
    let logs = containerd.dir().join("pods");

    // HTTP by its exports. The second Pod gets the wasm back from runwasi
    // marked precompiled (the shim's compiler leaves it to the Pod, as it is)
    // and runs it as wasm; runwasi does not take its precompile path again.
    for n in 0..2 {
        let log_before = containerd.log().len();
        let pod = cri.run_pod(&format!("wkg-hello-{n}"), "spin", &logs).unwrap();
        let listen = format!("127.0.0.1:{}", free_port());
        let container = cri.start_container(&pod, "app", &hello, &[("SPIN_HTTP_LISTEN_ADDR", &listen)]).unwrap();
        let base = format!("http://{listen}");
        if let Err(e) = http::wait_until_up(&format!("{base}/"), Duration::from_secs(120))
            .and_then(|_| suite::hello(&base, "Hello, Fermyon"))
        {
            panic!("wkg hello {n}: {e:#}\n{:?}\n{}", cri.container_status(&container), pod.log("app"));
        }
        let shim_log = containerd.log()[log_before..].to_string();
        assert!(n == 0 || !shim_log.contains("failed to load precompiled layer"), "{shim_log}");
        cri.remove_pod(&pod).unwrap();
    }

    // A command by its exports: the Pod's args reach argv, its exit code is the container's.
    let pod = cri.run_pod("wkg-command", "spin", &logs).unwrap();
    let container = cri.start_container_with_args(&pod, "app", &command, &[], &["exit", "7"]).unwrap();
    let status = cri.wait_exited(&container, Duration::from_secs(120)).unwrap();
    assert_eq!(status.exit_code, 7, "{status:?}\n{}", pod.log("app"));
    assert!(pod.log("app").contains("exit 7"), "{}", pod.log("app"));
    cri.remove_pod(&pod).unwrap();

    // Two wasm layers and no Spin config: the container fails with one line saying so.
    let pod = cri.run_pod("wkg-two", "spin", &logs).unwrap();
    let container = cri.start_container(&pod, "app", &two, &[]).unwrap();
    let status = cri.wait_exited(&container, Duration::from_secs(120)).unwrap();
    assert_ne!(status.exit_code, 0, "{status:?}");
    assert!(
        pod.log("app").contains("several wasm layers but no Spin app config layer"),
        "{status:?}\n{}",
        pod.log("app")
    );
    cri.remove_pod(&pod).unwrap();
}
