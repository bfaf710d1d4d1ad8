//! When the next tick of a schedule is due, in UTC.

use std::time::Duration;

use chrono::{DateTime, Utc};
use cron::Schedule;

/// The first tick strictly after both `last` (the previous tick, if any) and `now`,
/// so a tick is never fired twice; `None` when the schedule has no more ticks.
pub(crate) fn next_tick(schedule: &Schedule, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let from = match last {
        Some(last) if last > now => last,
        _ => now,
    };
    schedule.after(&from).next()
}

/// How long to wait from `now` until `tick` (zero when it is already due).
pub(crate) fn wait_until(tick: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (tick - now).to_std().unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use std::str::FromStr as _;

    fn at(s: i64, ms: u32) -> DateTime<Utc> {
        Utc.timestamp_opt(s, ms * 1_000_000).unwrap()
    }

    #[test]
    fn every_two_seconds_from_one() {
        let s = Schedule::from_str("1/2 * * * * *").unwrap();
        // 1_700_000_000 is at second 20 of its minute.
        let now = at(1_700_000_000, 500);
        let t1 = next_tick(&s, None, now).unwrap();
        assert_eq!(t1.timestamp(), 1_700_000_001);
        let t2 = next_tick(&s, Some(t1), t1).unwrap();
        assert_eq!(t2.timestamp(), 1_700_000_003);
    }

    #[test]
    fn a_tick_is_not_repeated_when_woken_early() {
        let s = Schedule::from_str("*/1 * * * * *").unwrap();
        let t1 = at(1_700_000_001, 0);
        // Woken just before the tick: the next one is still after it.
        let t2 = next_tick(&s, Some(t1), at(1_700_000_000, 999)).unwrap();
        assert_eq!(t2.timestamp(), 1_700_000_002);
    }

    #[test]
    fn exhausted_schedule_has_no_tick() {
        let s = Schedule::from_str("0 0 0 1 1 * 2001").unwrap();
        assert!(next_tick(&s, None, at(1_700_000_000, 0)).is_none());
    }

    #[test]
    fn wait_is_never_negative() {
        assert_eq!(wait_until(at(10, 0), at(11, 0)), Duration::ZERO);
        assert_eq!(wait_until(at(11, 250), at(10, 0)), Duration::from_millis(1250));
    }
}
