//! The SQS trigger through `spin-shim up`, against a real moto started per test
//! and driven by the real AWS SDK: messages are handled by the SDK-built guest
//! `rust-sqs`, deleted when it says so, kept when it traps or leaves them, handed
//! back at once when their handler is cut off, and none is lost under a burst or
//! while the queue service hangs.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use integration::event_app::{self, EventApp, START_TIMEOUT};
use integration::fixtures::{assert_refused, with_manifest};
use integration::services::moto::Moto;

/// A manifest for the `rust-sqs` guest with one trigger `jobs` on `queue_url`,
/// plus `extra` lines in the trigger table.
fn manifest(queue_url: &str, extra: &str) -> String {
    format!(
        "spin_manifest_version = 2\n[application]\nname = \"sqs-test\"\n\
         [[trigger.sqs]]\nid = \"jobs\"\ncomponent = \"rust-sqs\"\nqueue_url = \"{queue_url}\"\nidle_wait_seconds = 1\n{extra}\
         [component.rust-sqs]\nsource = \"app.wasm\"\n"
    )
}

/// Serves `manifest` with the environment that points it at `moto`.
fn start(moto: &Moto, manifest: &str) -> (tempfile::TempDir, EventApp) {
    start_with(moto, manifest, &[])
}

/// Like [`start`], with `extra` variables (limits) in the app's environment.
fn start_with(moto: &Moto, manifest: &str, extra: &[(&str, &str)]) -> (tempfile::TempDir, EventApp) {
    let (tmp, dir) = with_manifest("rust-sqs", manifest);
    let env = moto.app_env();
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend_from_slice(extra);
    let app = event_app::start(&dir, &env, &[]).unwrap();
    (tmp, app)
}

fn bodies(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:03}")).collect()
}

#[test]
fn message_is_handled_deleted_and_sigterm_exits_zero() {
    let moto = Moto::start().unwrap();
    let url = moto.create_queue("hello", 30).unwrap();
    moto.send(&url, &["hello".to_string()]).unwrap();
    let (_tmp, mut app) = start(&moto, &manifest(&url, ""));
    app.wait_for_line("sqs: hello", START_TIMEOUT).unwrap();
    let counts = moto.wait_for_total(&url, 0, Duration::from_secs(30)).unwrap();
    assert_eq!(counts, (0, 0), "the handled message was not deleted; output:\n{}", app.output());
    let (code, out) = app.terminate(Duration::from_secs(30)).unwrap();
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("sqs: hello").count(), 1, "{out}");
}

#[test]
fn trapped_and_left_messages_stay_and_reappear() {
    let moto = Moto::start().unwrap();
    let url = moto.create_queue("kept", 2).unwrap();
    moto.send(&url, &["trap".to_string(), "leave".to_string()]).unwrap();
    let (_tmp, mut app) = start(&moto, &manifest(&url, ""));
    // Each is received, not deleted, visible again after 2 s and received again.
    app.wait_for_lines("sqs: trap", 2, START_TIMEOUT).unwrap();
    app.wait_for_lines("sqs: leave", 2, Duration::from_secs(60)).unwrap();
    let (visible, in_flight) = moto.counts(&url).unwrap();
    assert_eq!(visible + in_flight, 2, "both messages must stay on the queue; output:\n{}", app.output());
    assert!(app.process.try_status().is_none(), "a trap must not end the trigger:\n{}", app.output());
    let out = app.output();
    assert!(out.contains("stays on the queue"), "the trap must be logged:\n{out}");
}

#[test]
fn lease_is_renewed_while_a_slow_handler_runs() {
    let moto = Moto::start().unwrap();
    // Renewed every 3 s; the handler takes 15 s, five visibility timeouts.
    let url = moto.create_queue("slow", 6).unwrap();
    moto.send(&url, &["sleep 15000".to_string()]).unwrap();
    let (_tmp, mut app) = start(&moto, &manifest(&url, ""));
    app.wait_for_line("sqs: done sleep 15000", START_TIMEOUT).unwrap();
    let counts = moto.wait_for_total(&url, 0, Duration::from_secs(30)).unwrap();
    assert_eq!(counts, (0, 0), "output:\n{}", app.output());
    let out = app.output();
    assert_eq!(out.matches("sqs: sleep 15000").count(), 1, "delivered again while held:\n{out}");
}

#[test]
fn two_hundred_messages_none_lost_none_left() {
    let moto = Moto::start().unwrap();
    let url = moto.create_queue("burst", 30).unwrap();
    let sent = bodies("burst-", 200);
    moto.send(&url, &sent).unwrap();
    let (_tmp, mut app) = start(&moto, &manifest(&url, "max_messages = 10\n"));
    app.wait_for_lines("sqs: burst-", 200, START_TIMEOUT + Duration::from_secs(120)).unwrap();
    let counts = moto.wait_for_total(&url, 0, Duration::from_secs(60)).unwrap();
    assert_eq!(counts, (0, 0), "messages left on the queue; output:\n{}", app.output());
    let seen: BTreeSet<String> = app
        .lines_containing("sqs: burst-")
        .iter()
        .filter_map(|l| l.split("sqs: ").nth(1).map(str::to_string))
        .collect();
    let missing: Vec<&String> = sent.iter().filter(|b| !seen.contains(*b)).collect();
    assert!(missing.is_empty(), "never handled: {missing:?}");
}

#[test]
fn a_handler_past_the_event_deadline_is_cut_off_and_its_message_stays() {
    let moto = Moto::start().unwrap();
    let url = moto.create_queue("deadline", 30).unwrap();
    // The guest sleeps in a host call (no wasm runs), 20 s against a 2 s deadline.
    moto.send(&url, &["sleep 20000".to_string()]).unwrap();
    let (_tmp, mut app) = start_with(&moto, &manifest(&url, ""), &[("SPIN_REQUEST_TIMEOUT", "2s")]);
    app.wait_for_line("sqs: sleep 20000", START_TIMEOUT).unwrap();
    let cut = app.wait_for_line("event deadline", Duration::from_secs(8)).unwrap();
    assert!(cut.contains("`jobs`") && cut.contains("stays on the queue"), "{cut}");
    let (visible, in_flight) = moto.counts(&url).unwrap();
    assert_eq!(visible + in_flight, 1, "the cut-off message must stay; output:\n{}", app.output());
    let out = app.output();
    assert!(!out.contains("sqs: done sleep 20000"), "the handler ran past its deadline:\n{out}");
    assert!(app.process.try_status().is_none(), "a deadline must not end the trigger:\n{out}");
}

#[test]
fn no_more_handlers_run_at_once_than_the_concurrency_limit() {
    let moto = Moto::start().unwrap();
    let url = moto.create_queue("capped", 30).unwrap();
    moto.send(&url, &vec!["sleep 2000".to_string(); 6]).unwrap();
    let limit = [("SPIN_MAX_CONCURRENT_REQUESTS", "2")];
    let (_tmp, mut app) = start_with(&moto, &manifest(&url, "max_messages = 10\n"), &limit);
    app.wait_for_lines("sqs: done sleep 2000", 6, START_TIMEOUT + Duration::from_secs(60)).unwrap();
    // Before the first handler finished, no more than two had started.
    let out = app.output();
    let before_first_done = out.split("sqs: done sleep 2000").next().unwrap();
    let started = before_first_done.matches("sqs: sleep 2000").count();
    assert_eq!(started, 2, "handlers started before the first ended:\n{out}");
    let counts = moto.wait_for_total(&url, 0, Duration::from_secs(30)).unwrap();
    assert_eq!(counts, (0, 0), "output:\n{out}");
}

#[test]
fn a_message_cut_off_at_its_deadline_is_handed_back_at_once() {
    let moto = Moto::start().unwrap();
    // Without the hand-back it would be invisible for the full 60 s.
    let url = moto.create_queue("handback", 60).unwrap();
    moto.send(&url, &["sleep 20000".to_string()]).unwrap();
    let (_tmp, mut app) = start_with(&moto, &manifest(&url, ""), &[("SPIN_REQUEST_TIMEOUT", "2s")]);
    app.wait_for_line("sqs: sleep 20000", START_TIMEOUT).unwrap();
    app.wait_for_lines("sqs: sleep 20000", 2, Duration::from_secs(15)).unwrap();
}

#[test]
fn a_handler_stopped_by_the_shutdown_drain_limit_hands_its_message_back() {
    let moto = Moto::start().unwrap();
    let url = moto.create_queue("shutdown", 300).unwrap();
    moto.send(&url, &["sleep 120000".to_string()]).unwrap();
    let (_tmp, mut app) = start_with(&moto, &manifest(&url, ""), &[("SPIN_REQUEST_TIMEOUT", "none")]);
    app.wait_for_line("sqs: sleep 120000", START_TIMEOUT).unwrap();
    // The drain limit is 25 s; the message must then be visible again, not held for 300 s.
    let (code, out) = app.terminate(Duration::from_secs(60)).unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("stopped at shutdown"), "{out}");
    assert_eq!(moto.counts(&url).unwrap(), (1, 0), "the message was not handed back:\n{out}");
}

#[test]
fn an_empty_queue_is_long_polled_and_sigterm_still_stops_at_once() {
    let moto = Moto::start().unwrap();
    let url = moto.create_queue("long-poll", 30).unwrap();
    // Between short polls the trigger would pause 10 s; a long poll sees the message at once.
    let (_tmp, mut app) = start(&moto, &manifest(&url, "").replace("idle_wait_seconds = 1", "idle_wait_seconds = 10"));
    moto.send(&url, &["first".to_string()]).unwrap();
    app.wait_for_line("sqs: first", START_TIMEOUT).unwrap();
    // The queue is empty now: the next receive waits for a message.
    std::thread::sleep(Duration::from_secs(2));
    moto.send(&url, &["prompt".to_string()]).unwrap();
    app.wait_for_line("sqs: prompt", Duration::from_secs(5)).unwrap();
    // Now in the next 20 s long poll: SIGTERM must not wait for it to end.
    std::thread::sleep(Duration::from_secs(2));
    let asked = Instant::now();
    let (code, out) = app.terminate(Duration::from_secs(30)).unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(asked.elapsed() < Duration::from_secs(5), "SIGTERM took {:?}:\n{out}", asked.elapsed());
}

#[test]
fn failed_lease_renewals_are_logged_once_per_message() {
    let moto = Moto::start().unwrap();
    // Renewed every second while the handler sleeps 6 s; purged after 1.5 s, so
    // the renewals after that fail.
    let url = moto.create_queue("renewals", 2).unwrap();
    moto.send(&url, &["sleep 6000".to_string()]).unwrap();
    let (_tmp, mut app) = start(&moto, &manifest(&url, ""));
    app.wait_for_line("sqs: sleep 6000", START_TIMEOUT).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    moto.purge(&url).unwrap();
    app.wait_for_line("sqs: done sleep 6000", Duration::from_secs(15)).unwrap();
    let line = app.wait_for_line("lease renewal(s) failed", Duration::from_secs(5)).unwrap();
    assert!(!line.contains(" 1 of "), "expected several failed renewals: {line}");
    std::thread::sleep(Duration::from_secs(1));
    let out = app.output();
    assert_eq!(out.matches("renew").count(), 1, "one line per message expected:\n{out}");
}

#[test]
fn a_queue_service_that_hangs_for_a_while_loses_no_message() {
    let moto = Moto::start().unwrap();
    let url = moto.create_queue("outage", 30).unwrap();
    let sent = bodies("outage-", 100);
    moto.send(&url, &sent).unwrap();
    let (_tmp, mut app) = start(&moto, &manifest(&url, "max_messages = 5\n"));
    app.wait_for_lines("sqs: outage-", 5, START_TIMEOUT).unwrap();
    moto.pause();
    std::thread::sleep(Duration::from_secs(5));
    moto.resume();
    app.wait_for_lines("sqs: outage-", 100, Duration::from_secs(180)).unwrap();
    let counts = moto.wait_for_total(&url, 0, Duration::from_secs(60)).unwrap();
    assert_eq!(counts, (0, 0), "messages left on the queue; output:\n{}", app.output());
    let seen: BTreeSet<String> = app
        .lines_containing("sqs: outage-")
        .iter()
        .filter_map(|l| l.split("sqs: ").nth(1).map(str::to_string))
        .collect();
    let missing: Vec<&String> = sent.iter().filter(|b| !seen.contains(*b)).collect();
    assert!(missing.is_empty(), "never handled: {missing:?}");
    assert!(app.process.try_status().is_none(), "the outage ended the app:\n{}", app.output());
}

#[test]
fn bad_configs_are_refused_with_one_line() {
    let cases = [
        (
            "missing queue_url",
            "spin_manifest_version = 2\n[application]\nname = \"bad\"\n[[trigger.sqs]]\nid = \"jobs\"\ncomponent = \"rust-sqs\"\n[component.rust-sqs]\nsource = \"app.wasm\"\n".to_string(),
            "queue_url",
        ),
        ("unparsable queue_url", manifest("not a url", ""), "queue_url"),
        ("unknown field", manifest("http://127.0.0.1:9/123456789012/q", "queue_name = \"q\"\n"), "queue_name"),
        ("wrong type", manifest("http://127.0.0.1:9/123456789012/q", "max_messages = \"ten\"\n"), "max_messages"),
    ];
    for (name, manifest, field) in cases {
        let (_tmp, dir) = with_manifest("rust-sqs", &manifest);
        let (code, out) = event_app::run_to_exit(&dir, &[], &[], START_TIMEOUT).unwrap();
        assert_refused(name, code, &out, &["jobs", field]);
    }
}
