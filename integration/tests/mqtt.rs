//! The MQTT trigger and outbound MQTT through `spin-shim up`, against a real
//! mosquitto started per test: the SDK-built guest `rust-mqtt` receives what is
//! published on `shim/in` and publishes `echo:<payload>` to `shim/out`; the trigger
//! survives a broker outage and a restart of the app (nothing published meanwhile
//! is lost); bad settings are refused at start; outbound MQTT is denied without
//! `allowed_outbound_hosts`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use integration::event_app::{self, EventApp, START_TIMEOUT};
use integration::fixtures::{refusal, with_manifest};
use integration::services::mosquitto::{publish_at, Mosquitto, Subscriber};

const IN_TOPIC: &str = "shim/in";
const OUT_TOPIC: &str = "shim/out";

/// Starts `app_dir` with `mqtt_address` pointing at `broker`.
fn start(broker: &Mosquitto, app_dir: &std::path::Path) -> EventApp {
    let address = broker.address();
    event_app::start(app_dir, &[("SPIN_VARIABLE_MQTT_ADDRESS", address.as_str())], &[]).unwrap()
}

/// Publishes `<prefix>-<n>` on the input topic every half second until `handled`
/// says one of them was handled (or `timeout` passes). The trigger subscribes some
/// time after start (and after a reconnect), and a message published before that
/// is, correctly, never delivered to it.
fn probe_until(
    broker: &Mosquitto,
    app: &mut EventApp,
    prefix: &str,
    timeout: Duration,
    mut handled: impl FnMut(&mut EventApp) -> bool,
) {
    let end = Instant::now() + timeout;
    let mut sent = 0;
    while Instant::now() < end {
        if app.process.try_status().is_some() {
            panic!("the app exited:\n{}", app.output());
        }
        // The broker may still be coming back; a failed publish is just retried.
        if broker.publish(IN_TOPIC, &format!("{prefix}-{sent}")).is_ok() {
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(500));
        if handled(app) {
            return;
        }
    }
    panic!("none of {sent} `{prefix}-<n>` messages was handled within {timeout:?}; output:\n{}", app.output());
}

/// Probes until the echo of a probe arrives on `out`.
fn wait_ready(broker: &Mosquitto, app: &mut EventApp, out: &Subscriber, prefix: &str, timeout: Duration) {
    let echo = format!("echo:{prefix}-");
    probe_until(broker, app, prefix, timeout, |_| out.drain().iter().any(|m| m.starts_with(&echo)));
}

/// Publishes `payload` once and asserts the guest saw it and its echo arrived.
fn assert_echoed(broker: &Mosquitto, app: &mut EventApp, out: &Subscriber, payload: &str) {
    broker.publish(IN_TOPIC, payload).unwrap();
    let echo = format!("echo:{payload}");
    let got = out.wait_for(Duration::from_secs(30), |m| m == echo);
    assert_eq!(got.as_deref(), Some(echo.as_str()), "no echo; output:\n{}", app.output());
    app.wait_for_line(&format!("mqtt: {IN_TOPIC} {payload}"), Duration::from_secs(5)).unwrap();
}

#[test]
fn message_is_echoed_through_outbound_mqtt_and_sigterm_exits_zero() {
    let broker = Mosquitto::start().unwrap();
    let out = broker.subscribe(OUT_TOPIC).unwrap();
    let mut app = start(&broker, &integration::guests::app("rust-mqtt"));
    wait_ready(&broker, &mut app, &out, "probe", START_TIMEOUT);
    out.drain();
    assert_echoed(&broker, &mut app, &out, "hello-mqtt");
    let (code, output) = app.terminate(Duration::from_secs(30)).unwrap();
    assert_eq!(code, 0, "{output}");
    assert!(!output.contains("panicked"), "{output}");
}

#[test]
fn trigger_reconnects_and_resubscribes_after_a_broker_outage() {
    let mut broker = Mosquitto::start().unwrap();
    let mut app = start(&broker, &integration::guests::app("rust-mqtt"));
    {
        let out = broker.subscribe(OUT_TOPIC).unwrap();
        wait_ready(&broker, &mut app, &out, "before", START_TIMEOUT);
    }
    broker.stop();
    std::thread::sleep(Duration::from_secs(3));
    broker.restart().unwrap();
    // The restarted broker kept no session: the trigger must subscribe again.
    app.wait_for_line("reconnected to", Duration::from_secs(60)).unwrap();
    let out = broker.subscribe(OUT_TOPIC).unwrap();
    wait_ready(&broker, &mut app, &out, "after", Duration::from_secs(60));
    assert_echoed(&broker, &mut app, &out, "after-outage");
    let output = app.output();
    assert!(output.contains("reconnect attempt 1 in"), "each attempt must be logged:\n{output}");
    assert!(app.process.try_status().is_none(), "the outage ended the app:\n{output}");
}

#[test]
fn every_qos1_message_of_a_burst_is_handled_across_a_sigterm_and_restart() {
    let broker = Mosquitto::start().unwrap();
    let out = broker.subscribe(OUT_TOPIC).unwrap();
    let dir = integration::guests::app("rust-mqtt");
    let mut app = start(&broker, &dir);
    wait_ready(&broker, &mut app, &out, "probe", START_TIMEOUT);
    let burst: Vec<String> = (0..150).map(|i| format!("burst-{i:03}")).collect();
    let mut echoed = BTreeSet::new();
    let collect = |echoed: &mut BTreeSet<String>| {
        echoed.extend(out.drain().into_iter().filter_map(|m| m.strip_prefix("echo:burst-").map(str::to_string)));
    };
    std::thread::scope(|s| {
        // QoS 1 publishes, paced so that the burst runs across the restart.
        let (port, burst) = (broker.port, &burst);
        let publisher = s.spawn(move || {
            for body in burst {
                publish_at(port, IN_TOPIC, body).unwrap();
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let end = Instant::now() + Duration::from_secs(60);
        while echoed.len() < 10 && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(50));
            collect(&mut echoed);
        }
        assert!(echoed.len() >= 10, "too few echoes before the restart; output:\n{}", app.output());
        let (code, output) = app.terminate(Duration::from_secs(30)).unwrap();
        assert_eq!(code, 0, "{output}");
        assert!(!publisher.is_finished(), "the burst ended before SIGTERM; make it longer");
        app = start(&broker, &dir);
        publisher.join().unwrap();
    });
    let end = Instant::now() + START_TIMEOUT;
    while echoed.len() < burst.len() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(200));
        collect(&mut echoed);
    }
    let missing: Vec<&String> = burst.iter().filter(|b| !echoed.contains(b.trim_start_matches("burst-"))).collect();
    assert!(missing.is_empty(), "never handled: {missing:?}; output after the restart:\n{}", app.output());
}

/// A manifest for the `rust-mqtt` guest: `app_table` is the body of
/// `[application.trigger.mqtt]` (omitted when `None`), `trigger` extra lines of the
/// `mqtt-in` trigger. The component has no `allowed_outbound_hosts`.
fn manifest(app_table: Option<&str>, trigger: &str) -> String {
    let app_table = app_table.map(|t| format!("[application.trigger.mqtt]\n{t}\n")).unwrap_or_default();
    format!(
        "spin_manifest_version = 2\n[application]\nname = \"mqtt-test\"\n{app_table}\
         [variables]\nmqtt_address = {{ required = true }}\n\
         [[trigger.mqtt]]\nid = \"mqtt-in\"\ncomponent = \"rust-mqtt\"\ntopic = \"{IN_TOPIC}\"\n{trigger}\n\
         [component.rust-mqtt]\nsource = \"app.wasm\"\n\
         [component.rust-mqtt.variables]\nmqtt_address = \"{{{{ mqtt_address }}}}\"\n"
    )
}

const ADDRESS: &str = "address = \"{{ mqtt_address }}\"";

#[test]
fn bad_settings_are_refused_with_one_line_naming_trigger_and_field() {
    let broker = Mosquitto::start().unwrap();
    // (what is wrong, the guest whose app.wasm is used, manifest, words the line must hold)
    let cases = [
        ("missing address", "rust-mqtt", manifest(None, "qos = \"1\""), "`address`"),
        ("empty address", "rust-mqtt", manifest(Some("address = \"\""), "qos = \"1\""), "`address`"),
        ("invalid qos", "rust-mqtt", manifest(Some(ADDRESS), "qos = \"3\""), "`qos`"),
        ("missing qos", "rust-mqtt", manifest(Some(ADDRESS), ""), "`qos`"),
        ("unknown trigger field", "rust-mqtt", manifest(Some(ADDRESS), "qos = \"1\"\nretain = true"), "`retain`"),
        (
            "unknown app field",
            "rust-mqtt",
            manifest(Some(&format!("{ADDRESS}\nadress = \"x\"")), "qos = \"1\""),
            "`adress`",
        ),
        ("no handler export", "rust-hello", manifest(Some(ADDRESS), "qos = \"1\""), "handle-message"),
    ];
    let mut failures = Vec::new();
    for (name, guest, manifest, field) in cases {
        let (_tmp, dir) = with_manifest(guest, &manifest);
        let address = broker.address();
        let (code, output) =
            event_app::run_to_exit(&dir, &[("SPIN_VARIABLE_MQTT_ADDRESS", address.as_str())], &[], START_TIMEOUT)
                .unwrap();
        if let Err(e) = refusal(code, &output, &["`mqtt-in`", field]) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn a_handler_stuck_in_a_host_call_is_cut_off_at_the_event_deadline_and_logged() {
    let broker = Mosquitto::start().unwrap();
    // The handler publishes to a port that accepts and never answers: it waits in
    // a host call (up to outbound MQTT's own 30 s), where no epoch deadline reaches.
    let sink = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"mqtt-stuck\"\n\
         [application.trigger.mqtt]\n{ADDRESS}\n[variables]\nmqtt_address = {{ required = true }}\n\
         sink_address = {{ required = true }}\n\
         [[trigger.mqtt]]\nid = \"mqtt-in\"\ncomponent = \"rust-mqtt\"\ntopic = \"{IN_TOPIC}\"\nqos = \"1\"\n\
         [component.rust-mqtt]\nsource = \"app.wasm\"\nallowed_outbound_hosts = [\"mqtt://127.0.0.1:*\"]\n\
         [component.rust-mqtt.variables]\nmqtt_address = \"{{{{ sink_address }}}}\"\n"
    );
    let (_tmp, dir) = with_manifest("rust-mqtt", &manifest);
    let (address, sink_address) = (broker.address(), format!("mqtt://127.0.0.1:{}", sink.local_addr().unwrap().port()));
    let env = [
        ("SPIN_VARIABLE_MQTT_ADDRESS", address.as_str()),
        ("SPIN_VARIABLE_SINK_ADDRESS", sink_address.as_str()),
        ("SPIN_REQUEST_TIMEOUT", "2s"),
    ];
    let mut app = event_app::start(&dir, &env, &[]).unwrap();
    let seen = format!("mqtt: {IN_TOPIC} stuck-");
    probe_until(&broker, &mut app, "stuck", START_TIMEOUT, |app| !app.lines_containing(&seen).is_empty());
    let line = app.wait_for_line("event deadline", Duration::from_secs(8)).unwrap();
    assert!(line.contains("`mqtt-in`") && line.contains("failed on a message"), "{line}");
    assert!(app.process.try_status().is_none(), "a deadline must not end the app:\n{}", app.output());
}

/// The runtime config's blocked networks refuse a publish the manifest allows
/// (the trigger's own broker connection is not the guest's, so it still runs).
#[test]
fn outbound_mqtt_into_a_blocked_network_is_refused() {
    let broker = Mosquitto::start().unwrap();
    let out = broker.subscribe(OUT_TOPIC).unwrap();
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "[outbound_networking]\nblock_networks = [\"127.0.0.0/8\"]\n").unwrap();
    let address = broker.address();
    let flags = ["--runtime-config-file", config.path().to_str().unwrap()];
    let app_dir = integration::guests::app("rust-mqtt");
    let env = [("SPIN_VARIABLE_MQTT_ADDRESS", address.as_str())];
    let process = integration::cli_app::Up::new(&app_dir).env(&env).flags(&flags).spawn().unwrap();
    let mut app = EventApp { process };
    let seen = format!("mqtt: {IN_TOPIC} blocked-");
    probe_until(&broker, &mut app, "blocked", START_TIMEOUT, |app| !app.lines_containing(&seen).is_empty());
    app.wait_for_line("is in a blocked network", Duration::from_secs(10)).unwrap();
    let echoed = out.wait_for(Duration::from_secs(3), |m| m.starts_with("echo:"));
    assert_eq!(echoed, None, "a message was echoed into a blocked network:\n{}", app.output());
}

#[test]
fn outbound_mqtt_is_denied_without_allowed_outbound_hosts() {
    let broker = Mosquitto::start().unwrap();
    let out = broker.subscribe(OUT_TOPIC).unwrap();
    let (_tmp, dir) = with_manifest("rust-mqtt", &manifest(Some(ADDRESS), "qos = \"1\""));
    let mut app = start(&broker, &dir);
    let seen = format!("mqtt: {IN_TOPIC} denied-");
    probe_until(&broker, &mut app, "denied", START_TIMEOUT, |app| !app.lines_containing(&seen).is_empty());
    app.wait_for_line("is not permitted", Duration::from_secs(10)).unwrap();
    let output = app.output();
    let dest = format!("mqtt://127.0.0.1:{}", broker.port);
    assert!(
        output.contains(&format!("Outbound network destination not allowed: {dest}")),
        "the denial must be logged with its destination:\n{output}"
    );
    assert!(output.contains("failed on a message"), "the handler error must be logged:\n{output}");
    // The guest ran but its publish was refused: nothing may reach shim/out.
    let echoed = out.wait_for(Duration::from_secs(3), |m| m.starts_with("echo:"));
    assert_eq!(echoed, None, "a message was echoed although outbound MQTT is not allowed:\n{output}");
    assert!(app.process.try_status().is_none(), "a denied publish must not end the app:\n{output}");
}
