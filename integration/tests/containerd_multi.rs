//! One app with an HTTP and a Redis trigger, run by the full shim under a private
//! containerd: one task serves HTTP and handles Redis messages (the Redis address
//! coming from the container env as `REDIS_ADDRESS`), and SIGTERM stops both.
//! Once with Spin 2/3 guests (`wasi:http@0.2`, `fermyon:spin/inbound-redis`),
//! once with Spin 4 guests (`wasi:http/handler@0.3.0`, async
//! `spin:redis/inbound-redis@3.0.0` writing through `spin:redis/redis@3.0.0`).

use std::time::Duration;

use integration::containerd::Containerd;
use integration::process::free_port;
use integration::services::redis::RedisServer;
use integration::{guests, http, paths, suite};

const MANIFEST: &str = r#"spin_manifest_version = 2
[application]
name = "multi"
[variables]
redis_address = { required = true }
[application.trigger.redis]
address = "{{ redis_address }}"
[[trigger.http]]
route = "/..."
component = "hello"
[[trigger.redis]]
channel = "messages"
component = "worker"
[component.hello]
source = "hello.wasm"
[component.worker]
source = "redis.wasm"
allowed_outbound_hosts = ["redis://127.0.0.1:*"]
[component.worker.variables]
redis_address = "{{ redis_address }}"
"#;

/// Guests of one SDK generation for [`MANIFEST`]'s two components.
struct Guests {
    http: &'static str,
    hello: &'static str,
    redis: &'static str,
}

#[test]
fn http_and_redis_triggers_run_in_one_task() {
    run(Guests { http: "rust-hello", hello: "Hello, Fermyon", redis: "rust-redis" });
}

#[test]
fn spin_4_http_and_redis_guests_run_in_one_task() {
    run(Guests { http: "rust-sdk7-hello", hello: "Hello from spin-sdk 7 at /", redis: "rust-sdk7-redis" });
}

fn run(guests: Guests) {
    let app = tempfile::tempdir().unwrap();
    std::fs::copy(guests::app(guests.http).join("app.wasm"), app.path().join("hello.wasm")).unwrap();
    std::fs::copy(guests::app(guests.redis).join("app.wasm"), app.path().join("redis.wasm")).unwrap();
    std::fs::write(app.path().join("spin.toml"), MANIFEST).unwrap();

    let redis = RedisServer::start().unwrap();
    let containerd = Containerd::start(&paths::bin_dir()).unwrap();
    // Ids differ between the tests: runwasi keeps task state by id outside the
    // private containerd's folders.
    let id = format!("multi-{}", guests.redis);
    let reference = format!("test.local/{id}:latest");
    containerd.import_app(app.path(), &reference, false).unwrap();

    let listen = format!("127.0.0.1:{}", free_port());
    let address = redis.address();
    let mut task = containerd
        .run_task(&reference, &id, &[("SPIN_HTTP_LISTEN_ADDR", &listen), ("REDIS_ADDRESS", &address)])
        .unwrap();
    let base = format!("http://{listen}");
    http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e:#}\n{}", task.output()));
    suite::hello(&base, guests.hello).unwrap();
    redis.publish_until_received("messages", "from-containerd", Duration::from_secs(30)).unwrap();
    redis
        .wait_for_value(&format!("{}:last", guests.redis), "from-containerd", Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e:#}\n{}", task.output()));
    task.wait_for_line(&format!("{}: handled 15 bytes", guests.redis), Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("the guest's output did not reach the task log: {e:#}"));
    suite::hello(&base, guests.hello).unwrap();

    containerd.kill_task(&id, "SIGTERM").unwrap();
    let (code, out) = task.wait(Duration::from_secs(10)).unwrap();
    assert_eq!(code, 0, "{out}");
}
