//! A background ticker that advances the engines' epochs, so long-running guests
//! yield to other tasks and request deadlines can interrupt them.

use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often the epoch advances; a guest yields to the scheduler at least this often.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Something whose engines advance one epoch per tick.
pub(crate) trait Ticked: Send + Sync + 'static {
    /// Advances every engine this owns by one epoch.
    fn tick(&self);
}

/// Starts a ticker thread for `owner` that stops when it is dropped.
pub(crate) fn start_ticker<T: Ticked>(owner: &Arc<T>) {
    let weak: Weak<T> = Arc::downgrade(owner);
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            match weak.upgrade() {
                Some(owner) => owner.tick(),
                None => break,
            }
        })
        .expect("spawning the epoch thread");
}
