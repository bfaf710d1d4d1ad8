//! Instance reuse of WASI 0.3 components through `spin-shim up`: the reuse
//! guest (`rust-sdk7-reuse`) keeps per-instance state, so its answers show
//! which instance served a request and how often it had been reused. Each
//! serving thread keeps its own instances, so these tests serve on one thread
//! (`SPIN_HTTP_THREADS=1`) unless they look at threads: every request comes on
//! a new connection, which could otherwise land on another thread.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use integration::cli_app::{serve, Up};
use integration::fixtures::copy_of;
use integration::reuse::{concurrent, get, request_numbers, sequential, Served};

fn serve_reuse(flags: &[&str]) -> (tempfile::TempDir, integration::cli_app::ServedApp) {
    serve_reuse_on_threads(1, flags)
}

fn serve_reuse_on_threads(threads: usize, flags: &[&str]) -> (tempfile::TempDir, integration::cli_app::ServedApp) {
    let (copy, dir) = copy_of("rust-sdk7-reuse");
    let app = serve(&dir, &[("SPIN_HTTP_THREADS", &threads.to_string())], flags).unwrap();
    (copy, app)
}

fn instances(served: &[Served]) -> BTreeSet<&str> {
    served.iter().map(|s| s.instance.as_str()).collect()
}

#[test]
fn by_default_one_instance_serves_request_after_request() {
    let (_copy, app) = serve_reuse(&[]);
    let served = sequential(&app.base, 10).unwrap();
    assert_eq!(request_numbers(&served), (1..=10).collect::<Vec<_>>(), "{served:?}");
    assert_eq!(instances(&served).len(), 1, "{served:?}");
}

#[test]
fn an_instance_serves_up_to_the_reuse_count_and_never_beyond() {
    let (_copy, app) = serve_reuse(&["--max-instance-reuse-count", "3"]);
    let served = sequential(&app.base, 7).unwrap();
    assert_eq!(request_numbers(&served), [1, 2, 3, 1, 2, 3, 1], "{served:?}");
    assert_eq!(instances(&served).len(), 3, "{served:?}");
}

#[test]
fn a_reuse_count_of_one_gives_every_request_a_fresh_instance() {
    let (_copy, app) = serve_reuse(&["--max-instance-reuse-count", "1"]);
    let served = sequential(&app.base, 5).unwrap();
    assert_eq!(request_numbers(&served), [1; 5], "{served:?}");
    assert_eq!(instances(&served).len(), 5, "{served:?}");
}

#[test]
fn a_reuse_count_range_draws_each_instance_a_count_inside_it() {
    let (_copy, app) = serve_reuse(&["--max-instance-reuse-count", "2..4"]);
    let served = sequential(&app.base, 30).unwrap();
    let mut most: BTreeMap<&str, u64> = BTreeMap::new();
    for s in &served {
        let m = most.entry(s.instance.as_str()).or_default();
        *m = (*m).max(s.request);
    }
    // Every instance but the last (which may still be serving) reached 2 or 3.
    let counts: Vec<u64> = served.windows(2).filter(|w| w[0].instance != w[1].instance).map(|w| w[0].request).collect();
    assert!(!counts.is_empty() && counts.iter().all(|&c| c == 2 || c == 3), "{counts:?}");
    assert!(most.values().all(|&m| m <= 3), "{most:?}");
}

#[test]
fn concurrent_requests_share_an_instance_only_up_to_the_concurrency_limit() {
    for (flags, limit) in [(vec![], 16u64), (vec!["--max-instance-concurrent-reuse-count", "3"], 3)] {
        let (_copy, app) = serve_reuse(&flags);
        // An instance ready first: a burst that meets none starts one per request
        // on the one serving thread before any of them can take a second.
        get(&app.base, "/count").unwrap();
        let served = concurrent(&app.base, "/sleep?ms=800", 24).unwrap();
        let peak = served.iter().map(|s| s.peak).max().unwrap();
        assert!(peak <= limit, "limit {limit}: an instance had {peak} requests at once: {served:?}");
        assert!(peak >= 2, "limit {limit}: no instance served two requests at once: {served:?}");
        assert!(instances(&served).len() < served.len(), "limit {limit}: no instance was shared: {served:?}");
    }
}

#[test]
fn each_serving_thread_keeps_its_own_instances() {
    // Two requests at once come on two connections; with two threads each
    // connection has its own, and an instance never serves another thread's.
    let (_copy, app) = serve_reuse_on_threads(2, &[]);
    get(&app.base, "/count").unwrap();
    let served = concurrent(&app.base, "/sleep?ms=800", 2).unwrap();
    assert_eq!(instances(&served).len(), 2, "{served:?}");
    assert!(served.iter().all(|s| s.peak == 1), "{served:?}");
    // On one thread, the same two requests share its instance.
    let (_copy, app) = serve_reuse_on_threads(1, &[]);
    get(&app.base, "/count").unwrap();
    let served = concurrent(&app.base, "/sleep?ms=800", 2).unwrap();
    assert_eq!(instances(&served).len(), 1, "{served:?}");
    assert!(served.iter().all(|s| s.peak == 2), "{served:?}");
}

#[test]
fn a_trap_retires_the_instance_and_the_next_request_gets_a_fresh_one() {
    let (_copy, mut app) = serve_reuse(&[]);
    let before = sequential(&app.base, 2).unwrap();
    let trap = integration::http::get(&format!("{}/trap", app.base)).unwrap();
    assert_eq!(trap.status, 500, "{trap:?}");
    let after = get(&app.base, "/count").unwrap();
    assert_ne!(after.instance, before[1].instance, "the trapped instance served again: {after:?}");
    assert_eq!(after.request, 1, "{after:?}");
    app.process.wait_for_line("instance retired", Duration::from_secs(5)).unwrap();
}

#[test]
fn an_idle_instance_is_dropped_after_the_idle_timeout() {
    let (_copy, app) = serve_reuse(&["--idle-instance-timeout", "200ms"]);
    let first = get(&app.base, "/count").unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let later = get(&app.base, "/count").unwrap();
    assert_ne!(first.instance, later.instance, "the idle instance was kept past its timeout");
    assert_eq!(later.request, 1);
}

#[test]
fn the_request_timeout_cuts_off_a_slow_request_of_a_reused_instance() {
    let (_copy, app) = serve_reuse(&["--request-timeout", "300ms"]);
    let start = Instant::now();
    let slow = integration::http::get(&format!("{}/sleep?ms=10000", app.base)).unwrap();
    assert_eq!(slow.status, 500, "{slow:?}");
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    // The app still serves.
    get(&app.base, "/count").unwrap();
}

#[test]
fn a_runaway_guest_is_cut_off_at_the_request_timeout_and_its_instance_dropped() {
    let (_copy, app) = serve_reuse(&["--request-timeout", "500ms"]);
    let before = get(&app.base, "/count").unwrap();
    let start = Instant::now();
    let busy = integration::http::get(&format!("{}/busy", app.base)).unwrap();
    assert_eq!(busy.status, 500, "{busy:?}");
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    // The instance that ran away is gone; the app still serves.
    let after = get(&app.base, "/count").unwrap();
    assert_ne!(after.instance, before.instance, "{before:?} {after:?}");
}

#[test]
fn malformed_reuse_flags_stop_the_start_with_the_setting_named() {
    for (flag, value) in [
        ("--max-instance-reuse-count", "8..8"),
        ("--max-instance-concurrent-reuse-count", "many"),
        ("--idle-instance-timeout", "0"),
        ("--request-timeout", "5s..1s"),
    ] {
        let (_copy, dir) = copy_of("rust-sdk7-reuse");
        let (code, output) = Up::new(&dir).flags(&[flag, value]).run(Duration::from_secs(60)).unwrap();
        assert_ne!(code, 0, "{flag} {value}: {output}");
        let var = format!("SPIN_{}", flag.trim_start_matches("--").replace('-', "_").to_uppercase());
        let var = if flag == "--request-timeout" { "SPIN_HTTP_REQUEST_TIMEOUT".to_string() } else { var };
        assert!(output.contains(&var) && output.contains(value), "{flag} {value}: {output}");
    }
}

/// A short body the guest writes after returning its response leaves whole,
/// with a `content-length`, in one write (read ahead on the serving thread;
/// before, a chunked body whose end chunk went out in a write of its own).
#[test]
fn a_short_body_leaves_whole_with_its_length() {
    let (_copy, app) = serve_reuse(&[]);
    let r = integration::http::get(&format!("{}/count", app.base)).unwrap();
    assert!(r.status == 200 && r.body.starts_with("instance="), "{r:?}");
    assert_eq!(r.headers.get("content-length").map(String::as_str), Some(r.body.len().to_string().as_str()), "{r:?}");
    assert_eq!(r.headers.get("transfer-encoding"), None, "{r:?}");
}

/// A body the guest goes on writing streams: its first bytes reach the client
/// at once, not when the guest has finished (reading ahead gives up).
#[test]
fn a_streamed_body_reaches_the_client_as_the_guest_writes_it() {
    use std::io::{Read as _, Write as _};
    let (_copy, app) = serve_reuse(&[]);
    let mut conn = std::net::TcpStream::connect(app.base.trim_start_matches("http://")).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let sent = Instant::now();
    conn.write_all(b"GET /stream?ms=1500 HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n").unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    let mut first_at = None;
    loop {
        let n = conn.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buf[..n]);
        if first_at.is_none() && String::from_utf8_lossy(&received).contains("first") {
            first_at = Some(sent.elapsed());
        }
    }
    let text = String::from_utf8_lossy(&received);
    let first_at = first_at.unwrap_or_else(|| panic!("{text}"));
    assert!(first_at < Duration::from_millis(1000), "the first bytes waited {first_at:?} for the rest");
    assert!(sent.elapsed() >= Duration::from_millis(1500), "the second part comes 1.5 s later: {text}");
    assert!(text.contains("transfer-encoding: chunked") && text.contains("second"), "{text}");
}
