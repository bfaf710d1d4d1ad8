//! The threads that serve HTTP connections: one single-threaded tokio runtime
//! per CPU the process may use. One accept loop hands each new connection to
//! the thread with the fewest live connections, and everything that connection
//! starts (its requests, the guest instances that answer them, a reused WASI
//! 0.3 instance's worker) runs on that thread: no wake-up crosses cores and no
//! instance's memory is touched by two of them.

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::oneshot;

thread_local! {
    /// The index of the worker this thread is (0 on any other thread).
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

/// The index of the worker running the caller: a request made by a guest
/// (service chaining, self requests) is served by its own thread's handlers.
pub(crate) fn current() -> usize {
    CURRENT.with(Cell::get)
}

/// The running worker threads; dropping them stops the threads, cancelling
/// whatever still runs on them.
pub(crate) struct Workers(Vec<Worker>);

struct Worker {
    runtime: tokio::runtime::Handle,
    /// Connections this worker serves now.
    live: Arc<AtomicUsize>,
    /// Dropped to stop the thread.
    _stop: oneshot::Sender<()>,
}

impl Workers {
    /// Starts `count` worker threads; `count` is at least one.
    pub(crate) fn start(count: usize) -> anyhow::Result<Self> {
        anyhow::ensure!(count > 0, "an HTTP server needs at least one worker thread");
        (0..count).map(Worker::start).collect::<anyhow::Result<Vec<_>>>().map(Self)
    }

    /// Runs the connection `serve(worker)` makes on the worker with the fewest
    /// live connections, counting it there until it ends.
    pub(crate) fn spawn<F>(&self, serve: impl FnOnce(usize) -> F + Send + 'static)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (index, worker) = self
            .0
            .iter()
            .enumerate()
            .min_by_key(|(_, w)| w.live.load(Ordering::Relaxed))
            .expect("there is at least one worker");
        let live = LiveConnection::new(worker.live.clone());
        worker.runtime.spawn(async move {
            let _live = live;
            serve(index).await
        });
    }
}

impl Worker {
    fn start(index: usize) -> anyhow::Result<Self> {
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, runtime) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name(format!("http-worker-{index}"))
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                CURRENT.with(|c| c.set(index));
                let _ = ready.send(Ok(rt.handle().clone()));
                // Spawned connections run while the thread waits here.
                let _ = rt.block_on(stopped);
            })
            .context("cannot start an HTTP worker thread")?;
        let runtime = runtime
            .recv()
            .context("an HTTP worker thread ended before it started")?
            .context("cannot start an HTTP worker's runtime")?;
        Ok(Self { runtime, live: Arc::new(AtomicUsize::new(0)), _stop: stop })
    }
}

/// One connection in a worker's count, from the moment it is handed over.
struct LiveConnection(Arc<AtomicUsize>);

impl LiveConnection {
    fn new(live: Arc<AtomicUsize>) -> Self {
        live.fetch_add(1, Ordering::Relaxed);
        Self(live)
    }
}

impl Drop for LiveConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_spread_over_workers_and_know_their_thread() {
        let workers = Workers::start(2).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (release, hold) = tokio::sync::watch::channel(false);
        for _ in 0..4 {
            let tx = tx.clone();
            let mut hold = hold.clone();
            workers.spawn(move |index| async move {
                tx.send((index, current(), std::thread::current().name().map(str::to_string))).unwrap();
                let _ = hold.wait_for(|released| *released).await;
            });
        }
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(rx.recv().await.unwrap());
        }
        seen.sort();
        let names: Vec<_> = seen.iter().map(|(i, c, name)| (*i, *c, name.clone().unwrap())).collect();
        assert_eq!(
            names,
            [
                (0, 0, "http-worker-0".to_string()),
                (0, 0, "http-worker-0".to_string()),
                (1, 1, "http-worker-1".to_string()),
                (1, 1, "http-worker-1".to_string()),
            ]
        );
        release.send(true).unwrap();
    }
}
