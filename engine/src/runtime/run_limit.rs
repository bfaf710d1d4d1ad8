//! The bound on a reused instance's guest code: an instance that serves many
//! requests has no single deadline, so its store traps instead when the guest
//! computes without a pause (no host call it waits in) for longer than a
//! request may take. The epoch ticker calls the check every tick while wasm
//! runs; a gap between ticks means the guest waited, and starts a new run.

use std::time::{Duration, Instant};

use wasmtime::UpdateDeadline;

/// A gap between ticks at least this long means the guest was not running.
const PAUSE: Duration = Duration::from_millis(250);

/// Tracks how long the guest has been running without a pause.
pub(crate) struct RunLimit {
    limit: Duration,
    since: Instant,
    last_tick: Instant,
}

impl RunLimit {
    /// A bound of `limit` of continuous computation.
    pub(crate) fn new(limit: Duration) -> Self {
        let now = Instant::now();
        Self { limit, since: now, last_tick: now }
    }

    /// One epoch tick at `now`: yield and go on, or trap past the limit.
    pub(crate) fn tick(&mut self, now: Instant) -> wasmtime::Result<UpdateDeadline> {
        if now.duration_since(self.last_tick) >= PAUSE {
            self.since = now;
        }
        self.last_tick = now;
        if now.duration_since(self.since) > self.limit {
            return Err(wasmtime::Error::msg(format!(
                "the guest computed without pause for longer than its request timeout ({:?})",
                self.limit
            )));
        }
        Ok(UpdateDeadline::Yield(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuous_running_traps_and_pauses_start_over() {
        let start = Instant::now();
        let mut run = RunLimit::new(Duration::from_millis(100));
        let at = |ms| start + Duration::from_millis(ms);
        // Ticks every 10 ms: running; past 100 ms without a pause it traps.
        for ms in (10..=100).step_by(10) {
            assert!(run.tick(at(ms)).is_ok(), "{ms}");
        }
        assert!(run.tick(at(110)).is_err());
        // After a pause (the guest waited), the count starts again.
        let mut run = RunLimit::new(Duration::from_millis(100));
        for ms in (10..=90).step_by(10) {
            assert!(run.tick(at(ms)).is_ok());
        }
        assert!(run.tick(at(500)).is_ok());
        assert!(run.tick(at(580)).is_ok());
        assert!(run.tick(at(610)).is_err());
    }
}
