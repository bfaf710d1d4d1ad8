//! An app that has served and then gone quiet lets go of what serving faulted in.
//!
//! A request runs megabytes of the binary's code (7 MiB of a hello app's, with
//! the kernel mapping 64 KiB around each fault), which the start-up release had
//! let go. A process that faulted pages back in since its last release and then
//! stays quiet for a while releases again; the next request faults back in what
//! it runs, about half a millisecond once. Quiet and faults are read from the
//! process's own counters, so serving pays nothing.

use std::time::Duration;

use super::release_start_up_memory;

/// How often the process looks at its counters. The first tick after start-up
/// is never quiet (the serving threads start, the first request faults its code
/// in), so an app that served once lets go about two ticks later.
const TICK: Duration = Duration::from_secs(1);
/// CPU time over one tick below which the process is quiet (an idle hello app
/// uses about 1.5 ms a second, mostly the epoch timer's thread; a health probe
/// well under 1 ms).
const QUIET: Duration = Duration::from_millis(5);
/// Page faults since the last release from which there is something to let go
/// (32 faults bring back up to 2 MiB of code).
const REFAULTS: u64 = 32;

/// Runs for the life of the app: releases memory each time the process goes
/// quiet after faulting pages back in. Spawn it once the app serves.
pub async fn release_memory_when_quiet() {
    let mut watch = QuietWatch::new(Sample::now());
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // The first tick is immediate.
    loop {
        ticks.tick().await;
        if watch.should_release(Sample::now()) {
            release_start_up_memory();
            watch.released(Sample::now());
        }
    }
}

/// The process's CPU time and minor page faults so far.
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    cpu: Duration,
    faults: u64,
}

impl Sample {
    fn now() -> Self {
        // SAFETY: rusage is plain integers, for which all zeroes is a valid value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: getrusage writes only the struct it is given, which lives here.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
            return Self::default();
        }
        let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        Self { cpu: time(usage.ru_utime) + time(usage.ru_stime), faults: usage.ru_minflt as u64 }
    }
}

/// Decides, from samples, when to release.
#[derive(Debug)]
struct QuietWatch {
    at_release: Sample,
    at_last_tick: Sample,
}

impl QuietWatch {
    fn new(now: Sample) -> Self {
        Self { at_release: now, at_last_tick: now }
    }

    /// True when pages came back since the last release and the process was
    /// quiet over the last tick.
    fn should_release(&mut self, now: Sample) -> bool {
        let quiet = now.cpu.saturating_sub(self.at_last_tick.cpu) < QUIET;
        let refaulted = now.faults.saturating_sub(self.at_release.faults) >= REFAULTS;
        self.at_last_tick = now;
        quiet && refaulted
    }

    /// Counting starts again after a release.
    fn released(&mut self, now: Sample) {
        *self = Self::new(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(cpu_ms: u64, faults: u64) -> Sample {
        Sample { cpu: Duration::from_millis(cpu_ms), faults }
    }

    #[test]
    fn releases_when_quiet_after_pages_came_back_and_not_again_until_they_do() {
        let mut watch = QuietWatch::new(at(100, 1000));
        // Serving: busy ticks are not quiet.
        assert!(!watch.should_release(at(600, 1400)));
        assert!(!watch.should_release(at(1200, 1500)));
        // Quiet after the pages came back: release.
        assert!(watch.should_release(at(1201, 1500)));
        watch.released(at(1202, 1500));
        // Quiet with nothing back since: nothing to let go.
        assert!(!watch.should_release(at(1203, 1502)));
        // A probe now and then brings back a little.
        assert!(!watch.should_release(at(1205, 1520)));
        // A burst, then quiet again: release again.
        assert!(!watch.should_release(at(1400, 1700)));
        assert!(watch.should_release(at(1401, 1700)));
    }

    #[test]
    fn samples_count_this_process_cpu_time_and_faults() {
        let before = Sample::now();
        // Touch fresh pages: each is a minor fault. They are mapped here, not
        // allocated: the allocator may hand back pages other tests touched.
        let len = 64 * 4096;
        // SAFETY: a new private anonymous mapping, written only inside its
        // length and unmapped below.
        let faulted = unsafe {
            let map = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(map, libc::MAP_FAILED);
            for page in (0..len).step_by(4096) {
                std::ptr::write_volatile(map.cast::<u8>().add(page), 1);
            }
            libc::munmap(map, len);
            len
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut x = 0u64;
        while Sample::now().cpu < before.cpu + Duration::from_millis(10) && std::time::Instant::now() < deadline {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let after = Sample::now();
        assert!(after.cpu >= before.cpu + Duration::from_millis(10), "the clock did not move ({x} steps)");
        assert!(
            after.faults >= before.faults + 32,
            "{} -> {} faults over {} bytes",
            before.faults,
            after.faults,
            faulted
        );
    }
}
