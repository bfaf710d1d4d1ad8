//! A background ticker that advances the engine's epoch, so long-running guests
//! yield to other tasks and request deadlines can interrupt them.

use std::sync::{Arc, Weak};
use std::time::Duration;

use wasmtime::Engine;

/// How often the epoch advances; a guest yields to the scheduler at least this often.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Starts a ticker thread for `engine` that stops when `owner` is dropped.
pub(crate) fn start_ticker<T: Send + Sync + 'static>(engine: Engine, owner: &Arc<T>) {
    let weak: Weak<T> = Arc::downgrade(owner);
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            while weak.strong_count() > 0 {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .expect("spawning the epoch thread");
}
