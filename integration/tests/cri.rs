//! The kubelet's path: a private containerd with its CRI plugin, driven over CRI
//! (`k8s-cri`) as the kubelet drives it for a Pod whose RuntimeClass names a
//! handler. Host networking (no CNI) and a locally built pause image.

use std::path::Path;
use std::time::{Duration, Instant};

use integration::containerd::{cri_config, state_dir, Containerd};
use integration::cri::Cri;
use integration::fixtures::{redis_only_app, MISSING_REDIS_TRIGGER};
use integration::process::{free_port, mentioning};
use integration::{guests, http, images, paths, suite};

const PAUSE: &str = "test.local/pause:1";
const HELLO: &str = "test.local/rust-hello:latest";
const REDIS_APP: &str = "test.local/redis-only:latest";

/// Handlers as a node maps them: the full shim and the HTTP-only variant.
const HANDLERS: [(&str, &str); 2] = [("spin", "io.containerd.spin.v2"), ("spin-http", "io.containerd.spin-http.v2")];

/// Imports the pause image and `apps` (`(guest dir, reference)`) and waits until CRI lists them.
fn import_images(containerd: &Containerd, cri: &mut Cri, apps: &[(&Path, &str)]) {
    let pause = images::pause_image(PAUSE, containerd.dir()).unwrap();
    containerd.import(&pause, PAUSE).unwrap();
    for (app, reference) in apps {
        containerd.import_app(app, reference, false).unwrap();
    }
    for reference in std::iter::once(PAUSE).chain(apps.iter().map(|(_, r)| *r)) {
        cri.wait_for_image(reference).unwrap();
    }
}

/// The shim processes serving this containerd (their command line names its socket).
fn shims(containerd: &Containerd) -> Vec<(i32, String)> {
    mentioning(&containerd.socket().to_string_lossy())
        .into_iter()
        .filter(|(_, cmd)| cmd.contains("containerd-shim-spin"))
        .collect()
}

/// Waits up to 10 s for every shim of this containerd to exit.
fn assert_no_shim_left(containerd: &Containerd, after: &str) {
    let end = Instant::now() + Duration::from_secs(10);
    while !shims(containerd).is_empty() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
    }
    let left = shims(containerd);
    assert!(left.is_empty(), "shim processes left after {after}: {left:?}");
}

/// Runs rust-hello in a Pod on `handler`, checks it answers, that the shim
/// serving it is `shim_binary`, and that deleting the Pod leaves no shim.
fn hello_pod(containerd: &mut Containerd, cri: &mut Cri, handler: &str, shim_binary: &Path) {
    let pod = cri
        .run_pod(&format!("hello-{handler}"), handler, &containerd.dir().join("pods"))
        .unwrap_or_else(|e| panic!("{handler}: RunPodSandbox: {e:#}\ncontainerd log:\n{}", containerd.log()));
    let listen = format!("127.0.0.1:{}", free_port());
    let container = cri.start_container(&pod, "app", HELLO, &[("SPIN_HTTP_LISTEN_ADDR", &listen)]).unwrap();
    let base = format!("http://{listen}");
    let served = http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(120))
        .and_then(|_| suite::hello(&base, "Hello, Fermyon"));
    if let Err(e) = served {
        let status = cri.container_status(&container);
        panic!("{handler}: {e:#}\nstatus: {status:?}\nlog:\n{}", pod.log("app"));
    }
    let serving = shims(containerd);
    let expected = shim_binary.to_string_lossy();
    assert!(
        !serving.is_empty() && serving.iter().all(|(_, cmd)| cmd.starts_with(&*expected)),
        "{handler}: pod should be served by {expected}, shims: {serving:?}"
    );
    cri.remove_pod(&pod).unwrap();
    assert_no_shim_left(containerd, &format!("removing the pod on {handler}"));
}

/// The full shim and the HTTP-only variant side by side, each picked by the
/// handler a RuntimeClass names; the slim one refuses a Redis app in the
/// container's status and log.
#[test]
fn pods_run_on_the_handler_their_runtime_class_names() {
    let full = paths::bin_dir();
    let http_only = paths::variant_dir("http");
    let mut containerd = Containerd::start_cri(&[&full, &http_only], PAUSE, &HANDLERS).unwrap();
    let mut cri = Cri::connect(&containerd.socket()).unwrap();
    let (_redis_tmp, redis_app) = redis_only_app();
    import_images(&containerd, &mut cri, &[(&guests::app("rust-hello"), HELLO), (&redis_app, REDIS_APP)]);

    hello_pod(&mut containerd, &mut cri, "spin", &full.join("containerd-shim-spin-v2"));
    hello_pod(&mut containerd, &mut cri, "spin-http", &http_only.join("containerd-shim-spin-http-v2"));

    // The kubelet binds a file of its own at `/dev/termination-log` and shows
    // what the container wrote there in `kubectl describe pod`.
    let termination_log = containerd.dir().join("termination-log");
    std::fs::write(&termination_log, "").unwrap();
    let pod = cri.run_pod("redis-on-http", "spin-http", &containerd.dir().join("pods")).unwrap();
    let mounts = [(termination_log.as_path(), "/dev/termination-log")];
    let container = cri.start_container_with_command(&pod, "app", REDIS_APP, &[], &["/"], &[], &mounts).unwrap();
    let status = cri.wait_exited(&container, Duration::from_secs(60)).unwrap();
    let log = pod.log("app");
    assert_ne!(status.exit_code, 0, "redis app on spin-http should fail: {status:?}\nlog:\n{log}");
    assert!(
        log.contains(MISSING_REDIS_TRIGGER) && log.contains("compiled in: http"),
        "the container log should name the missing trigger: {status:?}\nlog:\n{log}"
    );
    let message = std::fs::read_to_string(&termination_log).unwrap();
    assert!(
        message.starts_with("Error: ") && message.contains(MISSING_REDIS_TRIGGER),
        "the termination message should be the error: {message:?}"
    );
    cri.remove_pod(&pod).unwrap();
    assert_no_shim_left(&containerd, "removing the failed pod");
}

/// `spin-shim install` into a live node's containerd config: before, the
/// handler is unknown; after the install and a containerd restart, a Pod runs
/// through it on the binary the installer copied.
#[test]
fn installed_handler_serves_pods_after_a_containerd_restart() {
    let node = state_dir().unwrap();
    let root = node.path().to_path_buf();
    let config = root.join("etc/containerd/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, cri_config(&root, PAUSE, &[])).unwrap();
    let bin_dir = root.join("usr/local/bin");
    let mut containerd = Containerd::start_with_config(node, config.clone(), &[&bin_dir], "k8s.io").unwrap();
    let mut cri = Cri::connect(&containerd.socket()).unwrap();
    import_images(&containerd, &mut cri, &[(&guests::app("rust-hello"), HELLO)]);
    let before = cri.run_pod("before-install", "spin-http", &root.join("pods"));
    assert!(before.is_err(), "handler spin-http should be unknown before the install");

    let install = |variant: &str, from: &Path| {
        let out = std::process::Command::new(paths::cli())
            .args(["install", "--flavor", "containerd", "--bin-dir", "/usr/local/bin", "--variants", variant])
            .arg("--root")
            .arg(&root)
            .arg("--from")
            .arg(from)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "install {variant}: {stderr}");
        stderr
    };
    install("full", &paths::bin_dir());
    install("http", &paths::variant_dir("http"));
    let again = install("http", &paths::variant_dir("http"));
    assert!(again.contains("nothing to change"), "a second install should change nothing: {again}");
    let installed: toml::Table = std::fs::read_to_string(&config).unwrap().parse().unwrap();
    let runtimes = &installed["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"];
    for (handler, runtime_type) in HANDLERS {
        assert_eq!(runtimes[handler]["runtime_type"].as_str(), Some(runtime_type), "{handler} in {installed}");
    }

    containerd.restart().unwrap();
    let mut cri = Cri::connect(&containerd.socket()).unwrap();
    cri.wait_for_image(PAUSE).unwrap();
    hello_pod(&mut containerd, &mut cri, "spin-http", &bin_dir.join("containerd-shim-spin-http-v2"));
}

/// A Pod's shim daemon and its zygote let go of their start-up code a few
/// seconds after the first container; a container started in the same Pod
/// after that (a second one, or a restart) is still set up and served by the
/// same shim.
#[test]
fn a_pod_starts_another_container_after_its_shim_let_go_of_its_start_up_code() {
    let full = paths::bin_dir();
    let containerd = Containerd::start_cri(&[&full], PAUSE, &HANDLERS).unwrap();
    let mut cri = Cri::connect(&containerd.socket()).unwrap();
    import_images(&containerd, &mut cri, &[(&guests::app("rust-hello"), HELLO)]);
    let pod = cri.run_pod("two-containers", "spin", &containerd.dir().join("pods")).unwrap();
    let serve = |cri: &mut Cri, name: &str| {
        let listen = format!("127.0.0.1:{}", free_port());
        cri.start_container(&pod, name, HELLO, &[("SPIN_HTTP_LISTEN_ADDR", &listen)]).unwrap();
        let base = format!("http://{listen}");
        let served = http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(120))
            .and_then(|_| suite::hello(&base, "Hello, Fermyon"));
        if let Err(e) = served {
            panic!("{name}: {e:#}\nlog:\n{}", pod.log(name));
        }
    };
    serve(&mut cri, "first");
    let before = shims(&containerd);
    // The shim's processes let go 3 s after the first container's set-up.
    std::thread::sleep(Duration::from_secs(5));
    serve(&mut cri, "second");
    // Every shim process (daemon, zygote, each container's parent and app)
    // names the Pod's sandbox; those of the first container are still there.
    let after = shims(&containerd);
    let sandboxes: std::collections::BTreeSet<&str> =
        after.iter().filter_map(|(_, cmd)| cmd.split(" -id ").nth(1)?.split_whitespace().next()).collect();
    assert_eq!(sandboxes.len(), 1, "one shim serves the Pod: {after:?}");
    assert!(before.iter().all(|p| after.contains(p)), "before: {before:?}\nafter: {after:?}");
    cri.remove_pod(&pod).unwrap();
    assert_no_shim_left(&containerd, "removing the pod");
}
