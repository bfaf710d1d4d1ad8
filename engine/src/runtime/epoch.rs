//! A background ticker that advances the engines' epochs, so long-running guests
//! yield to other tasks and request deadlines can interrupt them.
//!
//! It ticks only while an instance exists: each store holds an [`EpochUse`].
//! With none, the thread sleeps until the next store is made, so an idle app
//! wakes no thread a hundred times a second (on a node of fifty idle Pods,
//! that was 5000 wake-ups a second and 0.4% of a core per Pod).
//!
//! Counting must cost a request next to nothing: each thread counts its stores
//! in a slot of its own (one cache line each, so two serving threads never
//! contend for one), and the ticker sums the slots. A thread that makes a store
//! while the ticker sleeps wakes it; the two check each other's writes in
//! opposite orders, so either the ticker sees the new store or the thread sees
//! the ticker asleep.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, OnceLock, Weak};
use std::thread::Thread;
use std::time::Duration;

/// How often the epoch advances; a guest yields to the scheduler at least this often.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Slots the live stores are counted in; threads share them round-robin.
const SLOTS: usize = 16;

/// Something whose engines advance one epoch per tick.
pub(crate) trait Ticked: Send + Sync + 'static {
    /// Advances every engine this owns by one epoch.
    fn tick(&self);
}

/// One thread's count of live stores, alone on its cache line.
#[derive(Default)]
#[repr(align(128))]
struct Slot(AtomicIsize);

/// The ticker's state: the live stores and whether the thread sleeps.
pub(crate) struct EpochTicker {
    slots: [Slot; SLOTS],
    asleep: AtomicBool,
    thread: OnceLock<Thread>,
}

/// A live store: the ticker ticks while one exists.
pub(crate) struct EpochUse {
    ticker: Arc<EpochTicker>,
    slot: usize,
}

impl EpochTicker {
    /// A ticker that is not started yet.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self { slots: Default::default(), asleep: AtomicBool::new(false), thread: OnceLock::new() })
    }

    /// Starts the thread that ticks `owner`; it ends once `owner` is dropped
    /// (see [`Self::stop`]).
    pub(crate) fn start<T: Ticked>(self: &Arc<Self>, owner: &Arc<T>) {
        let weak: Weak<T> = Arc::downgrade(owner);
        let ticker = self.clone();
        let thread = std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || ticker.run(weak))
            .expect("spawning the epoch thread");
        let _ = self.thread.set(thread.thread().clone());
    }

    /// Notes a new store until the returned use is dropped; wakes the ticker
    /// when it sleeps.
    pub(crate) fn use_epoch(self: &Arc<Self>) -> EpochUse {
        let slot = this_threads_slot();
        self.slots[slot].0.fetch_add(1, SeqCst);
        if self.asleep.load(SeqCst) {
            self.wake();
        }
        EpochUse { ticker: self.clone(), slot }
    }

    /// Wakes the ticker's thread so that, its owner gone, it ends (call it when
    /// the owner is dropped: a sleeping ticker would not notice).
    pub(crate) fn stop(&self) {
        self.wake();
    }

    fn wake(&self) {
        if let Some(thread) = self.thread.get() {
            thread.unpark();
        }
    }

    fn live_stores(&self) -> isize {
        self.slots.iter().map(|slot| slot.0.load(SeqCst)).sum()
    }

    /// Ticks every [`EPOCH_TICK`] while a store lives; sleeps while none does;
    /// ends when the owner is gone.
    fn run<T: Ticked>(&self, owner: Weak<T>) {
        loop {
            while self.live_stores() <= 0 {
                if owner.strong_count() == 0 {
                    return;
                }
                self.asleep.store(true, SeqCst);
                // Looked at again after saying so: a store made in between
                // either is counted here or saw the ticker asleep and woke it.
                if self.live_stores() <= 0 {
                    std::thread::park();
                }
                self.asleep.store(false, SeqCst);
            }
            std::thread::sleep(EPOCH_TICK);
            match owner.upgrade() {
                Some(owner) => owner.tick(),
                None => return,
            }
        }
    }
}

impl Drop for EpochUse {
    fn drop(&mut self) {
        self.ticker.slots[self.slot].0.fetch_sub(1, SeqCst);
    }
}

/// The slot of the calling thread, given out round-robin on first use.
fn this_threads_slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: Cell<Option<usize>> = const { Cell::new(None) };
    }
    SLOT.with(|slot| match slot.get() {
        Some(n) => n,
        None => {
            let n = NEXT.fetch_add(1, SeqCst) % SLOTS;
            slot.set(Some(n));
            n
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[derive(Default)]
    struct Counted(AtomicUsize);

    impl Ticked for Counted {
        fn tick(&self) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn ticks(owner: &Counted) -> usize {
        owner.0.load(SeqCst)
    }

    /// Waits until `f` holds, for up to 5 s.
    fn eventually(f: impl Fn() -> bool) -> bool {
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if f() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn it_ticks_while_a_store_lives_and_sleeps_when_none_does() {
        let owner = Arc::new(Counted::default());
        let ticker = EpochTicker::new();
        ticker.start(&owner);
        std::thread::sleep(EPOCH_TICK * 5);
        assert_eq!(ticks(&owner), 0, "no store yet: no tick");

        let used = ticker.use_epoch();
        assert!(eventually(|| ticks(&owner) >= 3), "a live store: ticks");
        // A store made and dropped on another thread counts the same.
        let elsewhere = std::thread::spawn({
            let ticker = ticker.clone();
            move || ticker.use_epoch()
        })
        .join()
        .unwrap();
        drop(used);
        let before = ticks(&owner);
        assert!(eventually(|| ticks(&owner) > before), "one store still lives");
        drop(elsewhere);

        // Once the last store is gone, at most the tick under way comes.
        std::thread::sleep(EPOCH_TICK * 2);
        let settled = ticks(&owner);
        std::thread::sleep(EPOCH_TICK * 10);
        assert_eq!(ticks(&owner), settled, "no store: the ticker sleeps");

        // And a new store wakes it.
        let _again = ticker.use_epoch();
        assert!(eventually(|| ticks(&owner) > settled), "woken by a new store");
    }

    #[test]
    fn the_thread_ends_with_its_owner() {
        let owner = Arc::new(Counted::default());
        let ticker = EpochTicker::new();
        ticker.start(&owner);
        let thread = ticker.thread.get().unwrap().clone();
        drop(owner);
        ticker.stop();
        // The thread holds the ticker: once it ended, this is the only holder.
        assert!(eventually(|| Arc::strong_count(&ticker) == 1), "the thread {:?} still runs", thread.name());
    }
}
