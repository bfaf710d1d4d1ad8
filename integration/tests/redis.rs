//! The Redis trigger and outbound Redis, through `spin-shim up`, against a real
//! `redis-server`: guests built by the Rust and Python Spin SDKs receive published
//! messages and record them with outbound Redis; the subscription survives a broker
//! outage; bad trigger configs are refused; outbound Redis is denied without
//! `allowed_outbound_hosts`.

use std::path::Path;
use std::time::Duration;

use integration::event_app::{self, EventApp, START_TIMEOUT};
use integration::fixtures::{assert_refused, with_manifest};
use integration::guests;
use integration::services::redis::RedisServer;
use integration::services::tls_server::Pki;

/// How long a published message may take to show its effect.
const HANDLED: Duration = Duration::from_secs(30);

/// Starts `app` with `redis_address` pointing at `redis` and waits until it has
/// subscribed (its `Active Channels` block is printed after SUBSCRIBE succeeded).
fn start_subscribed(app: &Path, redis: &RedisServer) -> EventApp {
    let address = redis.address();
    let mut app = event_app::start(app, &[("SPIN_VARIABLE_REDIS_ADDRESS", &address)], &[]).unwrap();
    app.wait_for_line(&format!("Active Channels on 127.0.0.1:{}:", redis.port()), START_TIMEOUT).unwrap();
    app
}

/// Waits for the banner line of channel `messages` and checks it is exactly Spin's.
fn assert_channel_line(app: &mut EventApp, redis: &RedisServer, components: &str) {
    let expected = format!("\t127.0.0.1:{}/messages: [{components}]", redis.port());
    let line = app.wait_for_line("/messages: [", Duration::from_secs(10)).unwrap();
    assert_eq!(line, expected);
}

/// The recording guest `guest` (keys `<guest>:last` and `<guest>:count`) handles
/// two messages, then exits 0 on SIGTERM.
fn records_messages_and_stops_cleanly(guest: &str) {
    let redis = RedisServer::start().unwrap();
    let mut app = start_subscribed(&guests::app(guest), &redis);
    assert_channel_line(&mut app, &redis, guest);

    redis.publish_until_received("messages", "first", HANDLED).unwrap();
    redis.wait_for_value(&format!("{guest}:last"), "first", HANDLED).unwrap();
    redis.wait_for_value(&format!("{guest}:count"), "1", HANDLED).unwrap();
    assert_eq!(redis.publish("messages", "second").unwrap(), 1);
    redis.wait_for_value(&format!("{guest}:last"), "second", HANDLED).unwrap();
    redis.wait_for_value(&format!("{guest}:count"), "2", HANDLED).unwrap();
    app.wait_for_line(&format!("{guest}: handled 6 bytes"), HANDLED).unwrap();

    let (code, output) = app.terminate(Duration::from_secs(30)).unwrap();
    assert_eq!(code, 0, "exit after SIGTERM; output:\n{output}");
}

#[test]
fn rust_guest_handles_messages_with_outbound_redis_and_stops_cleanly() {
    records_messages_and_stops_cleanly("rust-redis");
}

#[test]
fn a_spin_4_async_handler_handles_messages_with_outbound_redis_3() {
    records_messages_and_stops_cleanly("rust-sdk7-redis");
}

#[test]
fn python_guest_handles_messages_with_outbound_redis() {
    let redis = RedisServer::start().unwrap();
    let mut app = start_subscribed(&guests::app("python-redis"), &redis);
    assert_channel_line(&mut app, &redis, "python-redis");

    redis.publish_until_received("messages", "from python test", HANDLED).unwrap();
    redis.wait_for_value("python-redis:last", "from python test", HANDLED).unwrap();
    app.wait_for_line("python-redis: handled 16 bytes", HANDLED).unwrap();
}

#[test]
fn every_component_on_a_channel_gets_each_message() {
    let manifest = r#"spin_manifest_version = 2
[application]
name = "two-handlers"
[variables]
redis_address = { required = true }
[application.trigger.redis]
address = "{{ redis_address }}"
[[trigger.redis]]
channel = "messages"
component = "first"
[[trigger.redis]]
channel = "messages"
component = "second"
[component.first]
source = "app.wasm"
allowed_outbound_hosts = ["redis://127.0.0.1:*"]
variables = { redis_address = "{{ redis_address }}" }
[component.second]
source = "app.wasm"
allowed_outbound_hosts = ["redis://127.0.0.1:*"]
variables = { redis_address = "{{ redis_address }}" }
"#;
    let (_tmp, dir) = with_manifest("rust-redis", manifest);
    let redis = RedisServer::start().unwrap();
    let mut app = start_subscribed(&dir, &redis);
    assert_channel_line(&mut app, &redis, "first,second");

    redis.publish_until_received("messages", "fan-out", HANDLED).unwrap();
    redis.wait_for_value("rust-redis:count", "2", HANDLED).unwrap();
    redis.wait_for_value("rust-redis:last", "fan-out", HANDLED).unwrap();
}

#[test]
fn subscription_survives_a_broker_outage() {
    let mut redis = RedisServer::start().unwrap();
    let mut app = start_subscribed(&guests::app("rust-redis"), &redis);
    redis.publish_until_received("messages", "before", HANDLED).unwrap();
    redis.wait_for_value("rust-redis:last", "before", HANDLED).unwrap();

    redis.stop();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(app.process.try_status(), None, "the app exited during the outage:\n{}", app.output());
    redis.restart().unwrap();

    // The trigger reconnects on its own schedule (backoff); PUBLISH reports when it is back.
    redis.publish_until_received("messages", "after", HANDLED).unwrap();
    redis.wait_for_value("rust-redis:last", "after", HANDLED).unwrap();
    let server = format!("redis 127.0.0.1:{}", redis.port());
    app.wait_for_line(&format!("{server}: reconnected; subscribed again to messages"), HANDLED).unwrap();
    let output = app.output();
    assert!(output.contains(&format!("{server}: connection lost")), "no warning about the lost connection:\n{output}");
    assert!(
        output.contains(&format!("{server}: connection attempt 1 failed")),
        "no warning for the failed attempts:\n{output}"
    );
    assert_eq!(output.matches("Active Channels on").count(), 1, "{output}");
}

#[test]
fn a_handler_stuck_in_a_host_call_is_cut_off_at_the_event_deadline_and_logged() {
    let redis = RedisServer::start().unwrap();
    // The handler's outbound Redis goes to a port that accepts and never answers:
    // it waits in a host call, where no epoch deadline reaches.
    let sink = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let manifest = std::fs::read_to_string(guests::app("rust-redis").join("spin.toml")).unwrap();
    let stuck =
        manifest.replace("redis_address = \"{{ redis_address }}\"\n", "redis_address = \"{{ sink_address }}\"\n");
    let stuck = stuck.replace("[variables]\n", "[variables]\nsink_address = { required = true }\n");
    assert_ne!(manifest, stuck, "the guest manifest no longer has the expected lines");
    let (_tmp, dir) = with_manifest("rust-redis", &stuck);
    let sink_address = format!("redis://127.0.0.1:{}", sink.local_addr().unwrap().port());
    let address = redis.address();
    let env = [
        ("SPIN_VARIABLE_REDIS_ADDRESS", address.as_str()),
        ("SPIN_VARIABLE_SINK_ADDRESS", sink_address.as_str()),
        ("SPIN_REQUEST_TIMEOUT", "2s"),
    ];
    let mut app = event_app::start(&dir, &env, &[]).unwrap();
    app.wait_for_line(&format!("Active Channels on 127.0.0.1:{}:", redis.port()), START_TIMEOUT).unwrap();
    redis.publish_until_received("messages", "stuck", HANDLED).unwrap();
    let line = app.wait_for_line("event deadline", Duration::from_secs(8)).unwrap();
    assert!(line.contains("failed to handle a message on channel `messages`"), "{line}");
    assert_eq!(app.process.try_status(), None, "a deadline must not stop the trigger:\n{}", app.output());
}

/// Redis over TLS (`rediss://`): the trigger subscribes and the guest records
/// each message with outbound Redis through the server's TLS port, trusting
/// the server's private authority through `SSL_CERT_FILE` (the system's store,
/// as a Pod would mount it).
#[test]
fn the_trigger_and_outbound_redis_speak_tls_to_a_rediss_address() {
    let pki = Pki::new().unwrap();
    let redis = RedisServer::start_with_tls(&pki).unwrap();
    let address = redis.tls_address().unwrap();
    let manifest = std::fs::read_to_string(guests::app("rust-redis").join("spin.toml")).unwrap();
    let tls = manifest.replace("[\"redis://127.0.0.1:*\"]", "[\"rediss://127.0.0.1:*\"]");
    let (_tmp, dir) = with_manifest("rust-redis", &tls);
    let ca = pki.dir().join("ca.pem");
    let env = [("SPIN_VARIABLE_REDIS_ADDRESS", address.as_str()), ("SSL_CERT_FILE", ca.to_str().unwrap())];
    let mut app = event_app::start(&dir, &env, &[]).unwrap();
    app.wait_for_line("/messages: [rust-redis]", START_TIMEOUT).unwrap();

    redis.publish_until_received("messages", "sealed", HANDLED).unwrap();
    redis.wait_for_value("rust-redis:last", "sealed", HANDLED).unwrap();
    let (code, output) = app.terminate(Duration::from_secs(30)).unwrap();
    assert_eq!(code, 0, "exit after SIGTERM; output:\n{output}");
}

#[test]
fn outbound_redis_is_denied_without_allowed_hosts() {
    let manifest = std::fs::read_to_string(guests::app("rust-redis").join("spin.toml")).unwrap();
    let denied = manifest.replace("allowed_outbound_hosts = [\"redis://127.0.0.1:*\"]\n", "");
    assert_ne!(manifest, denied, "the guest manifest no longer has the expected allowed_outbound_hosts line");
    let (_tmp, dir) = with_manifest("rust-redis", &denied);
    let redis = RedisServer::start().unwrap();
    let mut app = start_subscribed(&dir, &redis);

    redis.publish_until_received("messages", "nope", HANDLED).unwrap();
    let dest = format!("disallowed destination 'redis://127.0.0.1:{}'", redis.port());
    app.wait_for_line(&dest, HANDLED).unwrap();
    app.wait_for_line("failed to handle a message on channel `messages`", HANDLED).unwrap();
    assert_eq!(redis.get("rust-redis:last").unwrap(), None);
    assert_eq!(app.process.try_status(), None, "a failing handler must not stop the trigger");

    // The trigger keeps processing after a handler error.
    let before = app.lines_containing(&dest).len();
    assert_eq!(redis.publish("messages", "again").unwrap(), 1);
    app.wait_for_lines(&dest, before + 1, HANDLED).unwrap();
}

#[test]
fn bad_trigger_configs_are_refused_naming_trigger_and_field() {
    let component = "[component.c]\nsource = \"app.wasm\"\n";
    let head = "spin_manifest_version = 2\n[application]\nname = \"bad-redis\"\n";
    let app_address = "[application.trigger.redis]\naddress = \"redis://127.0.0.1:6379\"\n";
    let cases: [(&str, String, &[&str]); 5] = [
        (
            "missing channel",
            format!("{head}{app_address}[[trigger.redis]]\nid = \"no-channel\"\ncomponent = \"c\"\n{component}"),
            &["`no-channel`", "`channel`"],
        ),
        (
            "unknown field",
            format!("{head}{app_address}[[trigger.redis]]\nid = \"typo\"\nchanel = \"m\"\nchannel = \"m\"\ncomponent = \"c\"\n{component}"),
            &["`typo`", "`chanel`"],
        ),
        (
            "no address anywhere",
            format!("{head}[[trigger.redis]]\nid = \"no-address\"\nchannel = \"m\"\ncomponent = \"c\"\n{component}"),
            &["`no-address`", "`address`"],
        ),
        (
            "address that is not redis",
            format!("{head}[[trigger.redis]]\nid = \"http-address\"\nchannel = \"m\"\naddress = \"http://127.0.0.1\"\ncomponent = \"c\"\n{component}"),
            &["`http-address`", "`address`"],
        ),
        (
            "unknown app-level field",
            format!("{head}[application.trigger.redis]\nadress = \"redis://x\"\n[[trigger.redis]]\nchannel = \"m\"\ncomponent = \"c\"\n{component}"),
            &["application.trigger.redis", "adress"],
        ),
    ];
    for (name, manifest, expect) in cases {
        let (_tmp, dir) = with_manifest("rust-redis", &manifest);
        let (code, output) = event_app::run_to_exit(&dir, &[], &[], START_TIMEOUT).unwrap();
        assert_refused(name, code, &output, expect);
    }
}

#[test]
fn a_component_without_the_redis_export_is_refused() {
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"wrong-export\"\n\
        [application.trigger.redis]\naddress = \"redis://127.0.0.1:6379\"\n\
        [[trigger.redis]]\nchannel = \"m\"\ncomponent = \"hello\"\n[component.hello]\nsource = \"app.wasm\"\n";
    let (_tmp, dir) = with_manifest("rust-hello", manifest);
    let (code, output) = event_app::run_to_exit(&dir, &[], &[], START_TIMEOUT).unwrap();
    assert_refused("http component on a redis trigger", code, &output, &["`hello`", "fermyon:spin/inbound-redis"]);
}

/// With `OTEL_EXPORTER_OTLP_ENDPOINT` set, each message handed to a component
/// counts in Spin's `spin.request_count` with `trigger_type` `redis`.
#[test]
fn messages_are_counted_in_spins_request_count() {
    use integration::services::otlp_receiver::OtlpReceiver;
    let receiver = OtlpReceiver::start().unwrap();
    let endpoint = receiver.endpoint();
    let redis = RedisServer::start().unwrap();
    let address = redis.address();
    let env = [("SPIN_VARIABLE_REDIS_ADDRESS", address.as_str()), ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())];
    let mut app = event_app::start(&guests::app("rust-redis"), &env, &[]).unwrap();
    app.wait_for_line(&format!("Active Channels on 127.0.0.1:{}:", redis.port()), START_TIMEOUT).unwrap();
    redis.publish_until_received("messages", "first", HANDLED).unwrap();
    redis.wait_for_value("rust-redis:count", "1", HANDLED).unwrap();
    assert_eq!(redis.publish("messages", "second").unwrap(), 1);
    redis.wait_for_value("rust-redis:count", "2", HANDLED).unwrap();
    let (code, output) = app.terminate(Duration::from_secs(30)).unwrap();
    assert_eq!(code, 0, "{output}");
    let sums = receiver.sums();
    let last = sums
        .iter()
        .rfind(|p| p["name"] == "spin.request_count" && p["attributes"]["component_id"] == "rust-redis")
        .unwrap_or_else(|| panic!("{sums:#?}\n{output}"));
    assert_eq!(last["attributes"]["trigger_type"], "redis");
    assert_eq!(last["attributes"]["app_id"], "rust-redis");
    assert_eq!(last["value"], 2, "{sums:#?}");
}
