//! Registry to Pod: an app pushed with `spin-shim registry push` to a real
//! registry, pulled by containerd's CRI plugin (PullImage, as the kubelet asks)
//! and run in a Pod on handler `spin`: the HTTP app answers and every file it
//! mounts (per-file layers, inlined files, archive layers) is byte-identical.
//! `SPIN_COMPONENTS_TO_RETAIN` in the Pod keeps one of the artifact's two components.
//! The wasm is compiled once per node, by the shim's `Compiler` into containerd's
//! content store: both Pods load that artifact and neither compiles (their logs,
//! at `RUST_LOG=info`, say which).
//! containerd 1.6 cannot unpack such artifacts: there the test checks the error
//! a 1.6 user sees (the README's compatibility table quotes it).

use std::time::Duration;

use integration::cri::spin_node;
use integration::http;
use integration::process::free_port;
use integration::services::registry::Registry;

/// The app and files of the registry tests, smaller: an inlined file, a
/// per-file layer and a nested one.
fn files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("small.txt", b"inlined in the locked app".to_vec()),
        ("big.bin", (0..4000).map(|i| (i * 13 % 251) as u8).collect()),
        ("sub/nested.txt", vec![b'n'; 300]),
    ]
}

fn fixture_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(integration::guests::app("rust-echo").join("app.wasm"), dir.path().join("app.wasm")).unwrap();
    std::fs::copy(integration::guests::app("rust-hello").join("app.wasm"), dir.path().join("hello.wasm")).unwrap();
    integration::fixtures::write_tree(&dir.path().join("assets"), &files());
    std::fs::write(
        dir.path().join("spin.toml"),
        "spin_manifest_version = 2\n[application]\nname = \"pod-fixture\"\n\
         [[trigger.http]]\nroute = \"/files\"\ncomponent = \"files\"\n\
         [component.files]\nsource = \"app.wasm\"\nenvironment = { COMPONENT = \"files\" }\n\
         files = [{ source = \"assets\", destination = \"/\" }]\n\
         [[trigger.http]]\nroute = \"/hello\"\ncomponent = \"hello\"\n\
         [component.hello]\nsource = \"hello.wasm\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn pushed_artifacts_run_in_pods_after_a_cri_pull() {
    let registry = Registry::start().unwrap();
    let app = fixture_app();
    let per_file = registry.push_app(app.path(), "tests/pod-fixture:v1", false).unwrap();
    let archive = registry.push_app(app.path(), "tests/pod-fixture:archive", true).unwrap();

    let (mut containerd, mut cri) = spin_node(Some(&registry.host())).unwrap();
    if containerd.is_v1_6() {
        // containerd 1.6 pulls, then fails to unpack the wasm layers.
        let err = format!("{:#}", cri.pull_image(&per_file).unwrap_err());
        assert!(err.contains("mismatched image rootfs and manifest layers"), "{err}");
        eprintln!("containerd 1.6 refuses a Spin OCI artifact: {err}");
        return;
    }
    // Each artifact twice: the second Pod of an image finds its artifact ready.
    let runs = [&per_file, &per_file, &archive, &archive];
    for (n, reference) in runs.into_iter().enumerate() {
        cri.pull_image(reference).unwrap_or_else(|e| panic!("PullImage {reference}: {e:#}\n{}", containerd.log()));
        let log_before = containerd.log().len();
        let logs = containerd.dir().join(format!("pods-{n}"));
        let pod = cri.run_pod(&format!("registry-{n}"), "spin", &logs).unwrap();
        let listen = format!("127.0.0.1:{}", free_port());
        let env = [("SPIN_HTTP_LISTEN_ADDR", listen.as_str()), ("RUST_LOG", "spin_engine=info")];
        let container = cri.start_container(&pod, "app", reference, &env).unwrap();
        let base = format!("http://{listen}");
        if let Err(e) = http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(120)) {
            let status = cri.container_status(&container);
            panic!("{reference}: {e:#}\nstatus: {status:?}\nlog:\n{}", pod.log("app"));
        }
        for (path, bytes) in files() {
            let got = http::get_bytes(&format!("{base}/files?path=/{path}")).unwrap();
            assert_eq!(got, bytes, "{reference}: /{path}");
        }
        let hello = http::get(&format!("{base}/hello")).unwrap();
        assert_eq!((hello.status, hello.body.as_str()), (200, "Hello, Fermyon"), "{reference}");
        let log = pod.log("app");
        assert!(log.contains("loaded its artifact precompiled by this shim"), "Pod {n} ({reference}):\n{log}");
        assert!(!log.contains("compiled from wasm"), "Pod {n} ({reference}) compiled:\n{log}");
        if n % 2 == 1 {
            // runwasi found its copy of every layer (config and files included),
            // so it did not take its precompile path again.
            let shim_log = containerd.log()[log_before..].to_string();
            assert!(!shim_log.contains("failed to load precompiled layer"), "Pod {n} ({reference}):\n{shim_log}");
        }
        cri.remove_pod(&pod).unwrap();
    }
    // Selective deployment: only `files` is kept, so `/hello` is not routed.
    let pod = cri.run_pod("registry-retain", "spin", &containerd.dir().join("pods-retain")).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let env = [("SPIN_HTTP_LISTEN_ADDR", listen.as_str()), ("SPIN_COMPONENTS_TO_RETAIN", "files")];
    cri.start_container(&pod, "app", &per_file, &env).unwrap();
    let base = format!("http://{listen}");
    http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("retain: {e:#}\n{}", pod.log("app")));
    assert_eq!(http::get(&format!("{base}/hello")).unwrap().status, 404);
    assert_eq!(http::get_bytes(&format!("{base}/files?path=/small.txt")).unwrap(), files()[0].1);
    cri.remove_pod(&pod).unwrap();

    // The wasm layers both images share name one artifact each
    // (`runwasi.io/precompiled/spin/<key>=<digest>`; the artifact names its
    // original under `<key>/original`).
    // Layers that are not compiled name themselves (see `SpinCompiler::compile`).
    let content = containerd.ctr(&["content", "ls"]).unwrap();
    let artifacts: std::collections::BTreeSet<&str> = content
        .lines()
        .filter_map(|line| line.split_once(['\t', ' ']))
        .flat_map(|(own, labels)| {
            labels
                .split([',', '\t', ' '])
                .filter(|label| label.starts_with("runwasi.io/precompiled/spin/") && !label.contains("/original="))
                .filter_map(|label| label.split_once('=').map(|(_, digest)| digest))
                .filter(move |digest| digest.starts_with("sha256:") && *digest != own)
        })
        .collect();
    assert_eq!(
        artifacts.len(),
        2,
        "one artifact for each of the two wasm layers both images share: {artifacts:?}\n{content}"
    );
    // Each is packed (engine/src/runtime/packed_artifact.rs): runwasi reads it
    // whole at every start.
    for digest in &artifacts {
        let bytes = containerd.ctr_command(&["content", "get", digest]).output().unwrap().stdout;
        assert!(bytes.starts_with(b"spin-shim packed artifact"), "{digest}: {:?}", &bytes[..bytes.len().min(32)]);
    }

    // An artifact whose component dependencies were pushed uncomposed: its
    // wasm is left uncompiled for the Pod, which composes it at start.
    let uncomposed = registry
        .push_app_with(&integration::guests::app("rust-deps"), "tests/deps:uncomposed", false, &["--compose=false"])
        .unwrap();
    cri.pull_image(&uncomposed).unwrap_or_else(|e| panic!("PullImage {uncomposed}: {e:#}\n{}", containerd.log()));
    let pod = cri.run_pod("registry-deps", "spin", &containerd.dir().join("pods-deps")).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    cri.start_container(&pod, "app", &uncomposed, &[("SPIN_HTTP_LISTEN_ADDR", listen.as_str())]).unwrap();
    let base = format!("http://{listen}");
    http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("uncomposed: {e:#}\n{}", pod.log("app")));
    integration::suite::component_dependencies(&base).unwrap();
    cri.remove_pod(&pod).unwrap();
}
