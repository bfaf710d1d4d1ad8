//! The copy-on-write images of a component's initial memories, made when the
//! component is linked rather than by its first instance.
//!
//! Code compiled in this process (not mapped from a cache file) keeps each
//! image in a sealed memfd. Sealing can fail for a moment (`EBUSY` while the
//! kernel still holds a reference to a page just written), and made lazily that
//! failure is the first request's 500. Made here, a failed attempt is simply
//! made again; if every attempt fails, wasmtime makes the image at the first
//! instance as before.

use std::time::Duration;

use wasmtime::component::Component;

/// How many times the images are attempted, and the pause between attempts.
const ATTEMPTS: u32 = 4;
const PAUSE: Duration = Duration::from_millis(25);

/// Makes `component`'s memory images now, retrying a failure; `name` names it
/// in the warning left when every attempt fails.
pub(crate) fn make_memory_images(component: &Component, name: &str) {
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(PAUSE);
        }
        match component.initialize_copy_on_write_image() {
            Ok(()) => return,
            Err(e) => last = Some(e),
        }
    }
    if let Some(e) = last {
        tracing::warn!("{name}: memory images not made at start, left to the first instance: {e:#}");
    }
}
