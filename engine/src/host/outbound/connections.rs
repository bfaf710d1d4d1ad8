//! The caps on outbound connections (outbound Redis and MQTT connections and
//! in-flight outgoing HTTP requests):
//! - per instance, `max_outbound_connections` (`SPIN_MAX_OUTBOUND_CONNECTIONS`,
//!   default 64) held at once; one more is refused at once;
//! - per app, the runtime config's `[outbound_networking] max_total_connections`
//!   (Spin's, unlimited by default) over every instance of every component; one
//!   more waits for a connection to close, as in Spin, within the guest's deadline.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The app-wide cap; none unless the runtime config sets one. Clones share it.
#[derive(Clone, Debug, Default)]
pub(crate) struct AppConnectionCap(Option<Arc<Semaphore>>);

impl AppConnectionCap {
    /// A cap of `max` connections across the app, or none.
    pub(crate) fn new(max: Option<usize>) -> Self {
        Self(max.map(|max| Arc::new(Semaphore::new(max.min(Semaphore::MAX_PERMITS)))))
    }

    /// Waits for a place under the cap (at once when there is no cap).
    async fn admit(&self) -> Option<OwnedSemaphorePermit> {
        // The semaphore is never closed, so `acquire_owned` only waits.
        self.0.as_ref()?.clone().acquire_owned().await.ok()
    }
}

/// An instance's slot for one connection, before the app-wide cap admits it.
#[derive(Debug)]
pub(crate) struct ConnectionSlot {
    instance: OwnedSemaphorePermit,
    app: AppConnectionCap,
}

impl ConnectionSlot {
    /// The slot, once the app-wide cap has room for one more connection.
    pub(crate) async fn admit(self) -> ConnectionPermit {
        let app = self.app.admit().await;
        ConnectionPermit { _instance: self.instance, _app: app }
    }
}

/// One open connection's place under both caps; released when dropped.
#[derive(Debug)]
pub(crate) struct ConnectionPermit {
    _instance: OwnedSemaphorePermit,
    _app: Option<OwnedSemaphorePermit>,
}

/// The outbound connections one instance may still open.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionBudget {
    slots: Arc<Semaphore>,
    max: usize,
    app: AppConnectionCap,
}

impl ConnectionBudget {
    /// A budget of `max` connections at once, within the app-wide `app` cap.
    pub(crate) fn new(max: usize, app: AppConnectionCap) -> Self {
        let max = max.min(Semaphore::MAX_PERMITS);
        Self { slots: Arc::new(Semaphore::new(max)), max, app }
    }

    /// A slot for one more connection; `None` when the instance holds `max` already.
    pub(crate) fn try_open(&self) -> Option<ConnectionSlot> {
        let instance = self.slots.clone().try_acquire_owned().ok()?;
        Some(ConnectionSlot { instance, app: self.app.clone() })
    }

    /// The guest-facing description of a refusal.
    pub(crate) fn refusal(&self) -> String {
        format!("too many outbound connections: this instance already holds {}", self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn slots_come_back_when_connections_close() {
        let budget = ConnectionBudget::new(2, AppConnectionCap::default());
        let (a, b) = (budget.try_open().unwrap(), budget.try_open().unwrap());
        assert!(budget.try_open().is_none());
        drop(a);
        let c = budget.try_open().unwrap().admit().await;
        assert!(budget.clone().try_open().is_none(), "clones share the budget");
        drop((b, c));
        assert!(budget.try_open().is_some());
        assert!(budget.refusal().contains("2"));
    }

    #[tokio::test]
    async fn the_app_cap_makes_connections_of_every_instance_wait_their_turn() {
        let app = AppConnectionCap::new(Some(1));
        let (one, two) = (ConnectionBudget::new(4, app.clone()), ConnectionBudget::new(4, app));
        let first = one.try_open().unwrap().admit().await;
        let waiting = tokio::spawn(two.try_open().unwrap().admit());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "the second instance's connection waits for the first's");
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap();
    }
}
