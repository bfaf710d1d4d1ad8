//! The bounds of one event of a non-HTTP trigger: a wall-clock deadline over the
//! whole guest call (instantiation, wasm, and host calls such as sleeps and
//! outbound I/O), enforced by dropping the call, which cancels it; and Spin's
//! request count, which counts each event when metrics are exported.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::telemetry::ComponentRequests;

/// The error of an event cut off at its deadline; find it with `downcast_ref`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadlineExceeded(pub Duration);

impl std::fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the handler did not finish within its {:?} event deadline (SPIN_REQUEST_TIMEOUT)", self.0)
    }
}

impl std::error::Error for DeadlineExceeded {}

/// Whether `e` is an event cut off at its deadline.
pub fn is_deadline(e: &anyhow::Error) -> bool {
    e.downcast_ref::<DeadlineExceeded>().is_some()
}

/// What every event one trigger hands to one component runs under: the event
/// deadline and the component's request count (see [`crate::runtime::PreparedApp::event_bounds`]).
#[derive(Clone, Debug)]
pub struct EventBounds {
    timeout: Option<Duration>,
    count: Option<ComponentRequests>,
}

impl EventBounds {
    /// Events bounded by `timeout` (`None`: unbounded) and counted in `count`.
    pub fn new(timeout: Option<Duration>, count: Option<ComponentRequests>) -> Self {
        Self { timeout, count }
    }

    /// Counts one event, then runs its guest call within the deadline (see [`run_event`]).
    pub async fn run<T, F, Fut>(&self, call: F) -> anyhow::Result<T>
    where
        F: FnOnce(Option<Instant>) -> Fut,
        Fut: Future<Output = anyhow::Result<T>>,
    {
        if let Some(count) = &self.count {
            count.count();
        }
        run_event(self.timeout, call).await
    }
}

/// Runs one guest call within `timeout` (`None`: unbounded). `call` gets the
/// instant its store's epoch deadline should trap at; past `timeout` the call is
/// dropped and [`DeadlineExceeded`] returned.
pub async fn run_event<T, F, Fut>(timeout: Option<Duration>, call: F) -> anyhow::Result<T>
where
    F: FnOnce(Option<Instant>) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let Some(limit) = timeout else { return call(None).await };
    let deadline = Instant::now().checked_add(limit);
    match tokio::time::timeout(limit, call(deadline)).await {
        Ok(result) => result,
        Err(_) => Err(DeadlineExceeded(limit).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_past_its_deadline_is_dropped_and_reported() {
        let limit = Duration::from_millis(50);
        let e = run_event(Some(limit), |d| async move {
            assert!(d.is_some());
            tokio::time::sleep(Duration::from_secs(30)).await;
            anyhow::Ok(())
        })
        .await
        .unwrap_err();
        assert!(is_deadline(&e), "{e}");
        assert!(e.to_string().contains("50ms") && !e.to_string().contains('\n'), "{e}");
    }

    #[tokio::test]
    async fn a_call_within_its_deadline_or_unbounded_returns_its_result() {
        assert_eq!(run_event(Some(Duration::from_secs(5)), |_| async { anyhow::Ok(7) }).await.unwrap(), 7);
        let e = run_event::<(), _, _>(None, |d| async move {
            anyhow::ensure!(d.is_none(), "deadline");
            anyhow::bail!("own")
        })
        .await
        .unwrap_err();
        assert!(!is_deadline(&e) && e.to_string() == "own", "{e}");
    }
}
