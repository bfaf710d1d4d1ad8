//! The cron trigger through `spin-shim up`: ticks on a seconds-first schedule,
//! handler errors logged while the schedule goes on, calls in flight drained on
//! SIGTERM, the event deadline, bad expressions and schedules that never fire.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use integration::event_app::{run_to_exit, start, EventApp, START_TIMEOUT};
use integration::fixtures::{assert_refused, with_manifest};
use integration::guests;

const GUEST: &str = "rust-cron";

fn manifest(expression: &str, extra_component: &str, extra_trigger: &str) -> String {
    format!(
        "spin_manifest_version = 2\n[application]\nname = \"cron-test\"\n\
         [[trigger.cron]]\nid = \"tick\"\ncomponent = \"rust-cron\"\ncron_expression = \"{expression}\"\n{extra_trigger}\
         [component.rust-cron]\nsource = \"app.wasm\"\n{extra_component}"
    )
}

/// The timestamps of the first `n` ticks, waiting for the first as long as a start
/// may take and for the rest a few seconds each.
fn ticks(app: &mut EventApp, n: usize, per_tick: Duration) -> Vec<u64> {
    app.wait_for_line("cron tick ", START_TIMEOUT).unwrap();
    let lines = app.wait_for_lines("cron tick ", n, per_tick * n as u32).unwrap();
    lines
        .iter()
        .take(n)
        .map(|l| l.trim().trim_start_matches("cron tick ").parse().unwrap_or_else(|_| panic!("bad tick line {l:?}")))
        .collect()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn every_second_ticks_with_increasing_unix_timestamps_and_stops_on_sigterm() {
    let mut app = start(&guests::app(GUEST), &[], &[]).unwrap();
    let ts = ticks(&mut app, 3, Duration::from_secs(5));
    assert!(ts.windows(2).all(|w| w[1] > w[0]), "timestamps not increasing: {ts:?}");
    let n = now();
    assert!(ts.iter().all(|t| t.abs_diff(n) < 120), "timestamps {ts:?} are not Unix seconds near {n}");
    let (code, out) = app.terminate(Duration::from_secs(10)).unwrap();
    assert_eq!(code, 0, "{out}");
}

#[test]
fn seconds_first_expression_is_honoured() {
    // Every two seconds starting at second 1: only odd seconds, two apart.
    let (_tmp, dir) = with_manifest(GUEST, &manifest("1/2 * * * * *", "", ""));
    let mut app = start(&dir, &[], &[]).unwrap();
    let ts = ticks(&mut app, 2, Duration::from_secs(5));
    assert!(ts.iter().all(|t| t % 2 == 1), "ticks not on odd seconds: {ts:?}");
    assert_eq!(ts[1] - ts[0], 2, "{ts:?}");
}

#[test]
fn handler_errors_are_logged_and_the_schedule_goes_on() {
    let env = "environment = { CRON_FAIL = \"1\" }\n";
    let (_tmp, dir) = with_manifest(GUEST, &manifest("*/1 * * * * *", env, ""));
    let mut app = start(&dir, &[], &[]).unwrap();
    let ts = ticks(&mut app, 2, Duration::from_secs(5));
    assert!(ts[1] > ts[0], "{ts:?}");
    let failure = app.wait_for_line("asked to fail at", Duration::from_secs(5)).unwrap();
    assert!(failure.contains("rust-cron"), "{failure}");
    assert_eq!(app.process.try_status(), None, "the app stopped after a handler error:\n{}", app.output());
}

#[test]
fn sigterm_lets_calls_in_flight_finish_before_exiting() {
    let env = "environment = { CRON_SLEEP_MS = \"3000\" }\n";
    let (_tmp, dir) = with_manifest(GUEST, &manifest("*/2 * * * * *", env, ""));
    let mut app = start(&dir, &[], &[]).unwrap();
    app.wait_for_line("cron tick ", START_TIMEOUT).unwrap();
    let (code, out) = app.terminate(Duration::from_secs(30)).unwrap();
    assert_eq!(code, 0, "{out}");
    let started: Vec<&str> = out.lines().filter_map(|l| l.trim().strip_prefix("cron tick ")).collect();
    assert!(!started.is_empty(), "{out}");
    for ts in started {
        assert!(out.contains(&format!("cron done {ts}")), "the call of tick {ts} was cut off:\n{out}");
    }
}

#[test]
fn a_handler_past_the_event_deadline_is_cut_off_and_logged() {
    // The guest sleeps in a host call (no wasm runs), 6 s against a 1 s deadline.
    let env = "environment = { CRON_SLEEP_MS = \"6000\" }\n";
    let (_tmp, dir) = with_manifest(GUEST, &manifest("*/3 * * * * *", env, ""));
    let mut app = start(&dir, &[("SPIN_REQUEST_TIMEOUT", "1s")], &[]).unwrap();
    app.wait_for_line("cron tick ", START_TIMEOUT).unwrap();
    let line = app.wait_for_line("event deadline", Duration::from_secs(5)).unwrap();
    assert!(line.contains("`tick`") && line.contains("rust-cron"), "{line}");
    std::thread::sleep(Duration::from_secs(6));
    let out = app.output();
    assert!(!out.contains("cron done"), "a handler ran past its deadline:\n{out}");
    assert_eq!(app.process.try_status(), None, "a deadline must not stop the schedule:\n{out}");
}

fn refused(manifest: &str, expect: &[&str]) {
    let (_tmp, dir) = with_manifest(GUEST, manifest);
    let (code, out) = run_to_exit(&dir, &[], &[], START_TIMEOUT).unwrap();
    assert_refused("cron", code, &out, expect);
    assert!(!out.contains("cron tick"), "{out}");
}

#[test]
fn invalid_cron_expression_is_refused_naming_trigger_and_field() {
    refused(&manifest("every second", "", ""), &["`tick`", "cron_expression"]);
    refused(&manifest("* * * * *", "", ""), &["`tick`", "cron_expression"]);
}

#[test]
fn a_schedule_that_never_fires_is_refused_naming_the_trigger() {
    refused(&manifest("0 0 0 30 2 *", "", ""), &["`tick`", "cron_expression", "never fires"]);
}

#[test]
fn unknown_or_missing_fields_are_refused() {
    refused(&manifest("* * * * * *", "", "timezone = \"UTC\"\n"), &["`tick`", "timezone"]);
    let missing = "spin_manifest_version = 2\n[application]\nname = \"cron-test\"\n\
                   [[trigger.cron]]\nid = \"tock\"\ncomponent = \"rust-cron\"\n[component.rust-cron]\nsource = \"app.wasm\"\n";
    refused(missing, &["`tock`", "cron_expression"]);
}

/// With `OTEL_EXPORTER_OTLP_ENDPOINT` set, every tick handed to the component
/// counts in Spin's `spin.request_count` with `trigger_type` `cron`, as every
/// event trigger's events do (their shared `EventBounds`).
#[test]
fn ticks_are_counted_in_spins_request_count() {
    use integration::services::otlp_receiver::OtlpReceiver;
    let receiver = OtlpReceiver::start().unwrap();
    let endpoint = receiver.endpoint();
    let mut app = start(&guests::app(GUEST), &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())], &[]).unwrap();
    ticks(&mut app, 2, Duration::from_secs(5));
    let (code, out) = app.terminate(Duration::from_secs(30)).unwrap();
    assert_eq!(code, 0, "{out}");
    let handled = out.matches("cron tick ").count() as i64;
    let sums = receiver.sums();
    let last = sums
        .iter()
        .rfind(|p| p["name"] == "spin.request_count" && p["attributes"]["trigger_type"] == "cron")
        .unwrap_or_else(|| panic!("{sums:#?}\n{out}"));
    assert_eq!(
        (&last["attributes"]["app_id"], &last["attributes"]["component_id"]),
        (&"rust-cron".into(), &"rust-cron".into())
    );
    assert_eq!(last["value"].as_i64(), Some(handled), "{sums:#?}\n{out}");
}
