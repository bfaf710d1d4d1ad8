//! Node-grade isolation through `spin-shim up`: each test attacks one bound the
//! shim promises (README, "Security model") with a hostile image, guest or client.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use integration::cli_app::{run_to_failure, serve, ServedApp, Up};
use integration::fixtures::{assert_refused, copy_of};
use integration::{guests, http};

const NATIVE_REFUSAL: &str = "is a precompiled native artifact, not WebAssembly; ship the .wasm";

fn echo(env: &[(&str, &str)]) -> ServedApp {
    serve(&guests::app("rust-echo"), env, &[]).unwrap()
}

/// rust-hello compiled by an engine configured as the shim's: a valid artifact
/// that the shim would have run as native code.
fn precompiled_hello() -> Vec<u8> {
    use spin_engine::runtime::{build_engine, servable_component, EngineOptions};
    let wasm = std::fs::read(guests::app("rust-hello").join("app.wasm")).unwrap();
    let engine = build_engine(&EngineOptions { pooling: false, ..EngineOptions::default() }).unwrap();
    engine.precompile_component(&servable_component(&wasm).unwrap()).unwrap()
}

#[test]
fn a_precompiled_artifact_in_place_of_wasm_is_refused_and_never_run() {
    let artifact = precompiled_hello();
    // In an app directory, named as the manifest says.
    let (_tmp, dir) = copy_of("rust-hello");
    std::fs::write(dir.join("app.wasm"), &artifact).unwrap();
    let (code, out) = run_to_failure(&dir).unwrap();
    assert_refused("manifest app", code, &out, &[&format!("{} {NATIVE_REFUSAL}", dir.join("app.wasm").display())]);
    assert!(!out.contains("Serving"), "{out}");
    // Given directly with -f, under any name.
    for name in ["app.wasm", "app.cwasm"] {
        let file = dir.join(name);
        std::fs::write(&file, &artifact).unwrap();
        let (code, out) = run_to_failure(&file).unwrap();
        assert_refused(name, code, &out, &[NATIVE_REFUSAL]);
    }
}

#[test]
fn busy_loop_host_wait_and_memory_bomb_each_get_500_within_the_deadline() {
    let app = echo(&[("SPIN_HTTP_REQUEST_TIMEOUT", "1s"), ("SPIN_MAX_INSTANCE_MEMORY", "64Mi")]);
    for path in ["/exact?hostile=busy", "/slow?ms=600000", "/exact?hostile=grow"] {
        let started = Instant::now();
        let r = http::get(&format!("{}{path}", app.base)).unwrap();
        let took = started.elapsed();
        assert_eq!(r.status, 500, "{path}: {r:?}");
        assert!(took < Duration::from_secs(3), "{path}: answered after {took:?}");
        let ok = http::get(&format!("{}/exact", app.base)).unwrap();
        assert_eq!(ok.status, 200, "after {path}: {ok:?}");
    }
}

#[test]
fn runaway_guests_are_interrupted_every_time_and_stop_using_the_cpu() {
    // The epoch ticker that interrupts guests must outlive start-up: before it
    // did, only a guest's first deadline was enforced by an epoch tick, later
    // ones got their 500 but kept computing on a worker thread forever.
    let app = echo(&[("SPIN_HTTP_REQUEST_TIMEOUT", "500ms")]);
    for round in 0..3 {
        let started = Instant::now();
        let r = http::get(&format!("{}/exact?hostile=busy", app.base)).unwrap();
        assert_eq!(r.status, 500, "round {round}: {r:?}");
        assert!(started.elapsed() < Duration::from_secs(3), "round {round}: answered after {:?}", started.elapsed());
    }
    std::thread::sleep(Duration::from_millis(300));
    let before = app.process.cpu_time().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let used = app.process.cpu_time().unwrap() - before;
    assert!(used < Duration::from_millis(300), "an idle app used {used:?} of CPU in 1 s: a guest is still running");
}

#[test]
fn the_memory_cap_counts_the_whole_instance_and_the_process_survives() {
    // Default cap (256 MiB): a bomb ends in a 500, the next request is served.
    let mut app = echo(&[]);
    let r = http::get(&format!("{}/exact?hostile=grow", app.base)).unwrap();
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(http::get(&format!("{}/exact", app.base)).unwrap().status, 200);
    assert!(app.process.try_status().is_none(), "the server died:\n{}", app.process.output());
}

/// `n` concurrent `GET url`s on their own threads; each yields its status.
fn gets_in_background(n: usize, url: &str) -> Vec<std::thread::JoinHandle<anyhow::Result<u16>>> {
    (0..n)
        .map(|_| {
            let url = url.to_string();
            std::thread::spawn(move || http::get(&url).map(|r| r.status))
        })
        .collect()
}

#[test]
fn forty_stuck_requests_do_not_block_a_quick_one() {
    let app = echo(&[("SPIN_HTTP_REQUEST_TIMEOUT", "20s")]);
    let stuck = gets_in_background(40, &format!("{}/slow?ms=8000", app.base));
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let ok = http::get(&format!("{}/exact", app.base)).unwrap();
    assert_eq!(ok.status, 200);
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    for s in stuck {
        assert_eq!(s.join().unwrap().unwrap(), 200);
    }
}

#[test]
fn past_the_concurrency_cap_requests_get_503_with_retry_after_and_then_are_served() {
    let app = echo(&[("SPIN_MAX_CONCURRENT_REQUESTS", "4")]);
    let busy = gets_in_background(4, &format!("{}/slow?ms=4000", app.base));
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let refused = http::get(&format!("{}/exact", app.base)).unwrap();
    assert_eq!(refused.status, 503, "{refused:?}");
    assert_eq!(refused.headers.get("retry-after").map(String::as_str), Some("1"));
    assert!(started.elapsed() < Duration::from_secs(3), "queued for {:?}", started.elapsed());
    for b in busy {
        assert_eq!(b.join().unwrap().unwrap(), 200);
    }
    assert_eq!(http::get(&format!("{}/exact", app.base)).unwrap().status, 200);
}

#[test]
fn a_guest_whose_client_hung_up_is_cancelled_and_frees_its_slot() {
    // One slot: while the abandoned guest held it, the next request would wait 2 s and get 503.
    let app = echo(&[("SPIN_MAX_CONCURRENT_REQUESTS", "1")]);
    let mut s = TcpStream::connect(app.base.trim_start_matches("http://")).unwrap();
    s.write_all(b"GET /slow?ms=10000 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    drop(s);
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let r = http::get(&format!("{}/exact", app.base)).unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(1), "waited {:?} for the slot", started.elapsed());
}

/// Sends `request` as raw bytes and returns the status line and body.
fn raw(base: &str, request: &str) -> (String, String) {
    let mut s = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.lines().next().unwrap_or_default().to_string();
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

#[test]
fn a_host_header_cannot_change_the_guests_path_and_spoofed_spin_headers_are_replaced() {
    let app = echo(&[]);
    for host in ["x/admin", "user@x", "x y", ""] {
        let (status, _) = raw(&app.base, &format!("GET /exact HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"));
        assert!(status.contains(" 400 "), "Host: {host:?} -> {status}");
    }
    let (status, body) = raw(
        &app.base,
        "GET /users/42?q=1 HTTP/1.1\r\nHost: example.com:8080\r\nspin-full-url: http://evil/admin\r\n\
         spin-path-info: /admin\r\nspin-path-match-id: 0\r\nspin-client-addr: 10.0.0.1:1\r\nConnection: close\r\n\r\n",
    );
    assert!(status.contains(" 200 "), "{status}");
    // Chunked framing may wrap the JSON; take the object itself.
    let json = &body[body.find('{').unwrap()..=body.rfind('}').unwrap()];
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(v["path"], "/users/42");
    assert_eq!(v["headers"]["spin-full-url"], "http://example.com:8080/users/42?q=1");
    assert_eq!(v["headers"]["spin-path-info"], "");
    assert_eq!(v["headers"]["spin-path-match-id"], "42");
    assert!(v["headers"]["spin-client-addr"].as_str().unwrap().starts_with("127.0.0.1:"), "{v}");
}

#[test]
fn slowloris_connections_neither_block_a_request_nor_stay_open() {
    let app = echo(&[("SPIN_HTTP_HEADER_READ_TIMEOUT", "1s")]);
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut idle: Vec<TcpStream> = (0..300)
        .map(|i| {
            let mut s = TcpStream::connect(&addr).unwrap();
            // Half a request, half the h2c preface, or nothing at all; never finished.
            match i % 3 {
                0 => s.write_all(b"GET /exact HTTP/1.1\r\nHost: x\r\n").unwrap(),
                1 => s.write_all(b"PRI * HTTP/2").unwrap(),
                _ => {}
            }
            s
        })
        .collect();
    let started = Instant::now();
    let ok = http::get(&format!("{}/exact", app.base)).unwrap();
    assert_eq!(ok.status, 200);
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    // Every half-open connection is closed by the server soon after the timeout.
    std::thread::sleep(Duration::from_millis(1500));
    for s in &mut idle {
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = [0u8; 512];
        match s.read(&mut buf) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("a slowloris connection was still open: {e}"),
        }
    }
}

#[test]
fn sigterm_while_compiling_exits_within_two_seconds() {
    // A 40 MB Python component compiles for several seconds with Cranelift
    // without a cache (Winch would serve sooner: see tiered_compilation.rs).
    let mut process = Up::new(&guests::app("python-hello"))
        .flags(&["--no-cache"])
        .env(&[("SPIN_WASMTIME_FIRST_START_COMPILER", "cranelift")])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(process.try_status().is_none(), "exited early:\n{}", process.output());
    let signalled = Instant::now();
    process.signal(libc::SIGTERM);
    let (code, out) = process.wait(Duration::from_secs(2)).unwrap();
    assert_eq!(code, 143, "{out}");
    assert!(!out.contains("Serving"), "it finished compiling before the signal; the test proves nothing:\n{out}");
    eprintln!("exited {:?} after SIGTERM", signalled.elapsed());
}

#[test]
fn absurd_limits_are_start_up_errors() {
    for (name, value) in [
        ("SPIN_REQUEST_TIMEOUT", "99999999999999999999s"),
        ("SPIN_MAX_INSTANCE_MEMORY", "18446744073709551615G"),
        ("SPIN_HTTP_HEADER_READ_TIMEOUT", "1000000000000000m"),
        ("SPIN_MAX_CONCURRENT_REQUESTS", "0"),
    ] {
        let (code, out) =
            Up::new(&guests::app("rust-hello")).env(&[(name, value)]).run(Duration::from_secs(60)).unwrap();
        assert_refused(name, code, &out, &[name]);
    }
}
