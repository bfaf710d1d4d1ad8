//! Node-grade isolation under a private containerd: an image that ships native
//! code instead of wasm is refused, and a Pod deleted while its app compiles
//! goes at once instead of after its grace period.

use std::time::{Duration, Instant};

use integration::containerd::Containerd;
use integration::fixtures::{assert_refused, copy_of};
use integration::{guests, paths};

#[test]
fn native_code_and_sigterm_while_compiling_under_containerd() {
    let containerd = Containerd::start(&paths::bin_dir()).unwrap();

    // A rootfs image whose app.wasm is a valid precompiled artifact.
    let wasm = std::fs::read(guests::app("rust-hello").join("app.wasm")).unwrap();
    let engine = spin_engine::runtime::build_engine(&Default::default()).unwrap();
    let artifact = engine.precompile_component(&spin_engine::runtime::componentize_if_needed(&wasm).unwrap()).unwrap();
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

    // A 40 MB Python component compiles for seconds; SIGTERM then ends the task within 2 s.
    containerd.import_app(&guests::app("python-hello"), "test.local/python-hello:latest", false).unwrap();
    let listen = format!("127.0.0.1:{}", integration::process::free_port());
    let mut task = containerd
        .run_task("test.local/python-hello:latest", "compiling", &[("SPIN_HTTP_LISTEN_ADDR", &listen)])
        .unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    assert!(task.try_status().is_none(), "exited early:\n{}", task.output());
    let signalled = Instant::now();
    containerd.kill_task("compiling", "SIGTERM").unwrap();
    let (code, out) = task.wait(Duration::from_secs(2)).unwrap();
    assert!(!out.contains("Serving"), "it finished compiling before the signal; the test proves nothing:\n{out}");
    assert_eq!(code, 143, "{out}");
    eprintln!("task exited {:?} after SIGTERM", signalled.elapsed());
}
