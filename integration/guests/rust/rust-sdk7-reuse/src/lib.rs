//! Makes instance reuse visible: a WASI 0.3 handler (Rust `spin-sdk` 7) whose
//! module-level state lives as long as its instance. Every answer reads
//! `instance=<random id> request=<n> peak=<p>`: `n` counts the requests this
//! instance has served, `p` the most it has served at once.
//!
//! - `/count` answers at once;
//! - `/sleep?ms=N` waits N ms first (so requests overlap);
//! - `/trap` panics, which traps the instance;
//! - `/busy` computes forever (a runaway guest);
//! - `/stream?ms=N` answers `first` at once and `second` N ms later, from a
//!   task that outlives the handler (a streamed body).

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::Duration;

use spin_sdk::http::{box_body, BoxBody, FullBody, IntoResponse, Request, Response};
use spin_sdk::http_service;

/// This instance's identity, drawn from the host's random source on first use.
static INSTANCE: OnceLock<u64> = OnceLock::new();

thread_local! {
    static SERVED: Cell<u64> = const { Cell::new(0) };
    static IN_FLIGHT: Cell<u32> = const { Cell::new(0) };
    static PEAK: Cell<u32> = const { Cell::new(0) };
}

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    if req.uri().path() == "/stream" {
        return streamed(delay_ms(&req));
    }
    Response::new(box_body(FullBody::new(bytes::Bytes::from(counted(req).await))))
}

/// `first\n` now, `second\n` after `ms` milliseconds.
fn streamed(ms: u64) -> Response<BoxBody> {
    let (mut tx, body) = spin_sdk::http::body::stream::<&'static str>();
    spin_sdk::wasip3::spawn(async move {
        let _ = tx.try_send("first\n");
        spin_sdk::time::sleep(Duration::from_millis(ms)).await;
        let _ = tx.try_send("second\n");
    });
    Response::new(box_body(body))
}

/// The `ms=N` of the query, 100 when absent.
fn delay_ms(req: &Request) -> u64 {
    req.uri().query().and_then(|q| q.strip_prefix("ms=")).and_then(|ms| ms.parse().ok()).unwrap_or(100)
}

/// Counts the request in this instance and answers with the counts.
async fn counted(req: Request) -> String {
    let id = *INSTANCE.get_or_init(spin_sdk::wasip3::random::random::get_random_u64);
    let served = SERVED.with(|s| {
        s.set(s.get() + 1);
        s.get()
    });
    let in_flight = IN_FLIGHT.with(|f| {
        f.set(f.get() + 1);
        f.get()
    });
    PEAK.with(|p| p.set(p.get().max(in_flight)));
    match req.uri().path() {
        "/trap" => panic!("trap requested by the client"),
        "/busy" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "/sleep" => spin_sdk::time::sleep(Duration::from_millis(delay_ms(&req))).await,
        _ => {}
    }
    IN_FLIGHT.with(|f| f.set(f.get() - 1));
    let peak = PEAK.with(Cell::get);
    format!("instance={id:016x} request={served} peak={peak}")
}
