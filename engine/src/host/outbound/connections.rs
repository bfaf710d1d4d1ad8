//! The cap on outbound connections one instance holds at once: outbound Redis and
//! MQTT connections and in-flight outgoing HTTP requests share one budget of
//! `max_outbound_connections` (`SPIN_MAX_OUTBOUND_CONNECTIONS`, default 64).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One open connection's slot in the budget; released when dropped.
pub(crate) type ConnectionPermit = OwnedSemaphorePermit;

/// The outbound connections one instance may still open.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionBudget {
    slots: Arc<Semaphore>,
    max: usize,
}

impl ConnectionBudget {
    /// A budget of `max` connections at once.
    pub(crate) fn new(max: usize) -> Self {
        let max = max.min(Semaphore::MAX_PERMITS);
        Self { slots: Arc::new(Semaphore::new(max)), max }
    }

    /// A slot for one more connection; `None` when the instance holds `max` already.
    pub(crate) fn try_open(&self) -> Option<ConnectionPermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// The guest-facing description of a refusal.
    pub(crate) fn refusal(&self) -> String {
        format!("too many outbound connections: this instance already holds {}", self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_come_back_when_connections_close() {
        let budget = ConnectionBudget::new(2);
        let (a, b) = (budget.try_open().unwrap(), budget.try_open().unwrap());
        assert!(budget.try_open().is_none());
        drop(a);
        let c = budget.try_open().unwrap();
        assert!(budget.clone().try_open().is_none(), "clones share the budget");
        drop((b, c));
        assert!(budget.try_open().is_some());
        assert!(budget.refusal().contains("2"));
    }
}
