//! One app with an HTTP and a Redis trigger, run by the full shim under a private
//! containerd: one task serves HTTP and handles Redis messages (the Redis address
//! coming from the container env as `REDIS_ADDRESS`), and SIGTERM stops both.

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

#[test]
fn http_and_redis_triggers_run_in_one_task() {
    let app = tempfile::tempdir().unwrap();
    std::fs::copy(guests::app("rust-hello").join("app.wasm"), app.path().join("hello.wasm")).unwrap();
    std::fs::copy(guests::app("rust-redis").join("app.wasm"), app.path().join("redis.wasm")).unwrap();
    std::fs::write(app.path().join("spin.toml"), MANIFEST).unwrap();

    let redis = RedisServer::start().unwrap();
    let containerd = Containerd::start(&paths::bin_dir()).unwrap();
    containerd.import_app(app.path(), "test.local/multi:latest", false).unwrap();

    let listen = format!("127.0.0.1:{}", free_port());
    let address = redis.address();
    let mut task = containerd
        .run_task(
            "test.local/multi:latest",
            "multi",
            &[("SPIN_HTTP_LISTEN_ADDR", &listen), ("REDIS_ADDRESS", &address)],
        )
        .unwrap();
    let base = format!("http://{listen}");
    http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e:#}\n{}", task.output()));
    suite::hello(&base, "Hello, Fermyon").unwrap();
    redis.publish_until_received("messages", "from-containerd", Duration::from_secs(30)).unwrap();
    redis
        .wait_for_value("rust-redis:last", "from-containerd", Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e:#}\n{}", task.output()));
    suite::hello(&base, "Hello, Fermyon").unwrap();

    containerd.kill_task("multi", "SIGTERM").unwrap();
    let (code, out) = task.wait(Duration::from_secs(10)).unwrap();
    assert_eq!(code, 0, "{out}");
}
