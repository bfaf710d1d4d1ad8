//! Capped exponential backoff between reconnection attempts, for triggers that
//! hold a connection to a broker.

use std::time::Duration;

/// Delays that double from `initial` up to `max`; [`Backoff::reset`] after a success.
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// A backoff starting at `initial` and never exceeding `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self { initial, max, attempt: 0 }
    }

    /// The number of delays handed out since the last reset.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The delay before the next attempt, and that attempt's number (from 1).
    pub fn next_delay(&mut self) -> (Duration, u32) {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.attempt = self.attempt.saturating_add(1);
        (self.initial.saturating_mul(factor).min(self.max), self.attempt)
    }

    /// Starts over from `initial` (call after a successful connection).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(3));
        let delays: Vec<_> = (0..5).map(|_| b.next_delay().0.as_millis()).collect();
        assert_eq!(delays, [500, 1000, 2000, 3000, 3000]);
        assert_eq!(b.attempt(), 5);
        for n in 6..200 {
            assert_eq!(b.next_delay(), (Duration::from_secs(3), n));
        }
        b.reset();
        assert_eq!((b.attempt(), b.next_delay()), (0, (Duration::from_millis(500), 1)));
    }
}
