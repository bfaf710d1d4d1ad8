//! Makes instance reuse visible: a WASI 0.3 handler (Rust `spin-sdk` 7) whose
//! module-level state lives as long as its instance. Every answer reads
//! `instance=<random id> request=<n> peak=<p>`: `n` counts the requests this
//! instance has served, `p` the most it has served at once.
//!
//! - `/count` answers at once;
//! - `/sleep?ms=N` waits N ms first (so requests overlap);
//! - `/trap` panics, which traps the instance;
//! - `/busy` computes forever (a runaway guest).

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::Duration;

use spin_sdk::http::{IntoResponse, Request};
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
        "/sleep" => {
            let ms = req
                .uri()
                .query()
                .and_then(|q| q.strip_prefix("ms="))
                .and_then(|ms| ms.parse().ok())
                .unwrap_or(100);
            spin_sdk::time::sleep(Duration::from_millis(ms)).await;
        }
        _ => {}
    }
    IN_FLIGHT.with(|f| f.set(f.get() - 1));
    let peak = PEAK.with(Cell::get);
    format!("instance={id:016x} request={served} peak={peak}")
}
