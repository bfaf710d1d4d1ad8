//! containerd's Create and Start as two calls, as the kubelet's path makes them:
//! the app loads, compiles and links after Create, in the container's set-up
//! time and the round trip to Start, and binds and serves only after Start.

use std::net::TcpStream;
use std::time::Duration;

use integration::containerd::Containerd;
use integration::process::free_port;
use integration::two_step_task::TwoStepTask;
use integration::{guests, http, paths, suite};

const IMAGE: &str = "test.local/rust-hello:latest";

#[test]
fn an_app_is_compiled_before_start_and_serves_only_after_it() {
    let containerd = Containerd::start(&paths::bin_dir()).unwrap();
    containerd.import_app(&guests::app("rust-hello"), IMAGE, false).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let env = [
        ("SPIN_HTTP_LISTEN_ADDR", listen.as_str()),
        ("RUST_LOG", "spin_engine=info"),
        // One compile, whose end the log names, before anything could serve.
        ("SPIN_WASMTIME_FIRST_START_COMPILER", "cranelift"),
    ];
    let id = format!("two-step-{}", std::process::id());
    let task = TwoStepTask::create(&containerd, IMAGE, &id, &env).unwrap();

    // Created, not started: the app is compiled and linked, and nothing listens.
    task.wait_for_output("compiled from wasm in", Duration::from_secs(120)).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(TcpStream::connect(&listen).is_err(), "{listen} accepts before Start:\n{}", task.output());
    assert!(!task.output().contains("Serving"), "the routes were printed before Start:\n{}", task.output());

    task.start().unwrap();
    let base = format!("http://{listen}");
    http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(60))
        .and_then(|_| suite::hello(&base, "Hello, Fermyon"))
        .unwrap_or_else(|e| panic!("{e:#}\n{}", task.output()));
    assert!(task.output().contains("Serving"), "{}", task.output());
}
