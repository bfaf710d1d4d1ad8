//! Node-grade isolation under a private containerd: an image that ships native
//! code instead of wasm is refused, and a Pod deleted while its app compiles
//! goes at once instead of after its grace period; `readOnlyRootFilesystem`
//! works with the documented emptyDir and fails with one line without it.

use std::time::{Duration, Instant};

use integration::containerd::{Containerd, TaskSpec, RUNTIME};
use integration::fixtures::{assert_refused, copy_of};
use integration::{guests, paths};

#[test]
fn native_code_and_sigterm_while_compiling_under_containerd() {
    let containerd = Containerd::start(&paths::bin_dir()).unwrap();

    // A rootfs image whose app.wasm is a valid precompiled artifact.
    let wasm = std::fs::read(guests::app("rust-hello").join("app.wasm")).unwrap();
    let engine = spin_engine::runtime::build_engine(&Default::default()).unwrap();
    let artifact = engine.precompile_component(&spin_engine::runtime::servable_component(&wasm).unwrap()).unwrap();
    let (_tmp, dir) = copy_of("rust-hello");
    std::fs::write(dir.join("app.wasm"), artifact).unwrap();
    containerd.import_app(&dir, "test.local/native:latest", true).unwrap();
    let mut task = containerd.run_task("test.local/native:latest", "native", &[]).unwrap();
    let (code, out) = task.wait(Duration::from_secs(60)).unwrap();
    assert_refused(
        "native",
        code,
        &out,
        &["/app.wasm is a precompiled native artifact, not WebAssembly; ship the .wasm"],
    );

    // A 40 MB Python component compiles for seconds with Cranelift; SIGTERM then
    // ends the task within 2 s.
    containerd.import_app(&guests::app("python-hello"), "test.local/python-hello:latest", false).unwrap();
    let listen = format!("127.0.0.1:{}", integration::process::free_port());
    let env = [("SPIN_HTTP_LISTEN_ADDR", listen.as_str()), ("SPIN_WASMTIME_FIRST_START_COMPILER", "cranelift")];
    let mut task = containerd.run_task("test.local/python-hello:latest", "compiling", &env).unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    assert!(task.try_status().is_none(), "exited early:\n{}", task.output());
    let signalled = Instant::now();
    containerd.kill_task("compiling", "SIGTERM").unwrap();
    let (code, out) = task.wait(Duration::from_secs(2)).unwrap();
    assert!(!out.contains("Serving"), "it finished compiling before the signal; the test proves nothing:\n{out}");
    assert_eq!(code, 143, "{out}");
    eprintln!("task exited {:?} after SIGTERM", signalled.elapsed());

    // readOnlyRootFilesystem: rust-echo stages files, so it needs the emptyDir at /tmp.
    containerd.import_app(&guests::app("rust-echo"), "test.local/rust-echo:latest", false).unwrap();
    let listen = format!("127.0.0.1:{}", integration::process::free_port());
    let env = [("SPIN_HTTP_LISTEN_ADDR", listen.as_str())];
    let spec = |id, mounts| TaskSpec {
        runtime: RUNTIME,
        image: "test.local/rust-echo:latest",
        id,
        env: &env,
        mounts,
        command: &["/"],
        read_only: true,
    };
    let (code, out) = containerd.run_task_on(&spec("read-only", &[])).unwrap().wait(Duration::from_secs(60)).unwrap();
    assert_refused("read-only without emptyDir", code, &out, &["read-only", "mount an emptyDir at /tmp"]);
    let empty_dir = tempfile::tempdir().unwrap();
    let mounts = [(empty_dir.path(), "/tmp")];
    let mut task = containerd.run_task_on(&spec("read-only-tmp", &mounts)).unwrap();
    let base = format!("http://{listen}");
    integration::http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e:#}\n{}", task.output()));
    let r = integration::http::get(&format!("{base}/files?path=/hello.txt")).unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    containerd.kill_task("read-only-tmp", "SIGTERM").unwrap();
    task.wait(Duration::from_secs(10)).unwrap();
}
