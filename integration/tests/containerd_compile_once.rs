//! Compile once per node for rootfs images, with no Pod-spec change: the first
//! container of an image compiles its wasm and seals the result into the node's
//! cache (a root-only directory outside every container, which the shim opened
//! before any container existed); the next container of the image loads it.
//! The containers' logs (`RUST_LOG=info`) say which happened. A spin.toml's
//! `{ url, digest }` sources are likewise downloaded once per node.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::time::Duration;

use integration::compile_cache::entry_files;
use integration::containerd::{Containerd, CtrTask};
use integration::process::free_port;
use integration::{guests, http, paths, suite};

const IMAGE: &str = "test.local/rust-hello:latest";

/// Starts `image` as task `id` (logging the compile cache's doings) and waits
/// until it answers hello.
fn start_hello(containerd: &Containerd, image: &str, id: &str) -> CtrTask {
    let listen = format!("127.0.0.1:{}", free_port());
    let env = [("SPIN_HTTP_LISTEN_ADDR", listen.as_str()), ("RUST_LOG", "spin_engine=info")];
    let mut task = containerd.run_task(image, id, &env).unwrap();
    let base = format!("http://{listen}");
    http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(120))
        .and_then(|_| suite::hello(&base, "Hello, Fermyon"))
        .unwrap_or_else(|e| panic!("{id}: {e:#}\n{}", task.output()));
    task
}

/// Runs `image` once, until it answers and (when `until` is given) has logged
/// that line; returns its output.
fn run_once(containerd: &Containerd, image: &str, id: &str, until: Option<&str>) -> String {
    let mut task = start_hello(containerd, image, id);
    if let Some(line) = until {
        task.wait_for_line(line, Duration::from_secs(120)).unwrap();
    }
    containerd.kill_task(id, "SIGTERM").unwrap();
    task.wait(Duration::from_secs(10)).unwrap().1
}

#[test]
fn the_second_container_of_a_rootfs_image_loads_what_the_first_compiled() {
    let containerd = Containerd::start(&paths::bin_dir()).unwrap();
    containerd.import_app(&guests::app("rust-hello"), IMAGE, false).unwrap();

    // The first serves Winch's code while Cranelift compiles in the background
    // and fills the cache (see tiered_compilation.rs).
    let first = run_once(&containerd, IMAGE, "first", Some("now serving Cranelift's code"));
    assert!(first.contains("compiled from wasm by Winch"), "the first container should compile:\n{first}");
    assert!(first.contains("compiled from wasm in"), "{first}");
    let second = run_once(&containerd, IMAGE, "second", None);
    assert!(second.contains("loaded from the compile cache"), "{second}");
    assert!(!second.contains("compiled from wasm"), "the second container compiled again:\n{second}");

    // The cache is the shim's: root-owned, no one else may write it.
    let meta = std::fs::metadata(containerd.node_cache_dir()).unwrap();
    assert_eq!(meta.uid(), 0);
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
}

/// A rootfs image whose spin.toml names its wasm by `{ url, digest }`: the
/// first container downloads it into the node's cache, and the next one starts
/// from there with the server gone.
#[test]
fn a_rootfs_images_url_source_is_downloaded_once_per_node() {
    use integration::fixtures::copy_of;
    use integration::services::file_server::FileServer;
    const REMOTE: &str = "test.local/remote-hello:latest";

    let containerd = Containerd::start(&paths::bin_dir()).unwrap();
    let (_copy, dir) = copy_of("rust-hello");
    let served = tempfile::tempdir().unwrap();
    let wasm = std::fs::read(dir.join("app.wasm")).unwrap();
    std::fs::write(served.path().join("app.wasm"), &wasm).unwrap();
    std::fs::remove_file(dir.join("app.wasm")).unwrap();
    let digest = format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&wasm)));
    let server = FileServer::start(served.path()).unwrap();
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"remote-hello\"\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n\
         [component.hello]\nsource = {{ url = \"{}\", digest = \"{digest}\" }}\n",
        server.url("app.wasm")
    );
    std::fs::write(dir.join("spin.toml"), manifest).unwrap();
    containerd.import_app(&dir, REMOTE, false).unwrap();

    run_once(&containerd, REMOTE, "downloads", None);
    let kept = containerd.node_cache_dir().join("downloads").join(&digest);
    assert_eq!(std::fs::read(&kept).unwrap(), wasm, "the download is kept in the node's cache");
    drop(server);
    run_once(&containerd, REMOTE, "offline", None);
}

/// The node's cache keeps within `SPIN_SHIM_NODE_CACHE_MAX`: bounded to one
/// entry, a second image's artifact pushes out the first's, whose next
/// container compiles again and serves.
#[test]
fn the_node_cache_keeps_within_its_bound() {
    use integration::bench_apps::tagged;
    use integration::fixtures::copy_of;
    const OTHER: &str = "test.local/rust-hello-other:latest";

    let containerd = Containerd::start_with_env(&paths::bin_dir(), &[("SPIN_SHIM_NODE_CACHE_MAX", "1")]).unwrap();
    containerd.import_app(&guests::app("rust-hello"), IMAGE, false).unwrap();
    let (_copy, dir) = copy_of("rust-hello");
    let wasm = std::fs::read(dir.join("app.wasm")).unwrap();
    std::fs::write(dir.join("app.wasm"), tagged(&wasm, "other")).unwrap();
    containerd.import_app(&dir, OTHER, false).unwrap();
    let artifacts = || entry_files(&containerd.node_cache_dir(), "cwasm");

    run_once(&containerd, IMAGE, "bounded-1", Some("now serving Cranelift's code"));
    let first = artifacts();
    assert_eq!(first.len(), 1, "{first:?}");
    let other = run_once(&containerd, OTHER, "bounded-2", Some("now serving Cranelift's code"));
    let second = artifacts();
    assert_eq!(second.len(), 1, "the bound leaves room for one entry: {second:?}");
    assert_ne!(second, first, "the newer entry stays");
    assert!(other.contains("removed the 1 entry used least recently"), "{other}");
    let again = run_once(&containerd, IMAGE, "bounded-3", Some("now serving Cranelift's code"));
    assert!(again.contains("compiled from wasm by Winch"), "its entry was removed, so it compiles again:\n{again}");
}

/// Replicas of a new rootfs image starting together on a node compile its wasm
/// once: while one process compiles it into the node's cache (here the test
/// itself holds that entry's lock, as a compiling replica would), two
/// containers serve Winch's code (the second the first's, from the cache) and
/// wait; when the lock is let go, one of them compiles with Cranelift and the
/// other loads what it sealed.
#[test]
fn replicas_starting_together_compile_once() {
    use integration::bench_apps::tagged;
    use integration::fixtures::copy_of;
    const FRESH: &str = "test.local/rust-hello-replicas:latest";

    let containerd = Containerd::start(&paths::bin_dir()).unwrap();
    let (_copy, dir) = copy_of("rust-hello");
    let wasm = tagged(&std::fs::read(dir.join("app.wasm")).unwrap(), "replicas");
    std::fs::write(dir.join("app.wasm"), &wasm).unwrap();
    containerd.import_app(&dir, FRESH, false).unwrap();

    // The entry's lock, where the shim's compile cache keeps it.
    let info = std::process::Command::new(paths::cli()).args(["info", "--json"]).output().unwrap();
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    let key = info["precompile_key"].as_str().unwrap();
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&wasm));
    let lock_path = containerd.node_cache_dir().join(key).join(format!("{digest}.lock"));
    std::fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let lock = std::fs::File::create(&lock_path).unwrap();
    lock.lock().unwrap();

    let mut replicas = Vec::new();
    for id in ["replica-1", "replica-2"] {
        let mut task = start_hello(&containerd, FRESH, id);
        task.wait_for_line("waiting for its artifact", Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("{id} should wait for the compile under way: {e:#}\n{}", task.output()));
        replicas.push((id, task));
    }
    drop(lock);

    let (mut compiled, mut compiled_by_winch) = (0, 0);
    for (id, task) in &mut replicas {
        task.wait_for_line("now serving Cranelift's code", Duration::from_secs(120)).unwrap();
        let output = task.output();
        compiled_by_winch += usize::from(output.contains("compiled from wasm by Winch"));
        if output.contains("compiled from wasm in") {
            compiled += 1;
        } else {
            assert!(output.contains("loaded from the compile cache"), "{id}:\n{output}");
        }
        containerd.kill_task(id, "SIGTERM").unwrap();
    }
    assert_eq!(compiled, 1, "one replica compiles, the other loads its artifact");
    // The second served the first's Winch code too, from the cache.
    assert_eq!(compiled_by_winch, 1, "one replica compiles with Winch");
    assert!(!lock_path.exists(), "the compiling replica removed its lock file");
}
