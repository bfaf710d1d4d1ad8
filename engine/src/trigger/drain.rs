//! How long a trigger lets the work in flight finish after shutdown: one policy,
//! one default, for every trigger type.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;

/// The default drain limit: what Kubernetes' 30 s grace period leaves after a
/// margin for the process to exit.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(25);

/// The time work in flight may take after shutdown before it is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Drain(Duration);

impl Default for Drain {
    fn default() -> Self {
        Self(DEFAULT_DRAIN)
    }
}

impl Drain {
    /// A drain of `limit`.
    pub fn new(limit: Duration) -> Self {
        Self(limit)
    }

    /// The limit.
    pub fn limit(self) -> Duration {
        self.0
    }

    /// Waits for `work` within the limit; `None` when the limit cut it off.
    pub async fn wait<T>(self, work: impl Future<Output = T>) -> Option<T> {
        tokio::time::timeout(self.0, work).await.ok()
    }

    /// Waits within the limit for every task of `tasks` to end; `false` when some
    /// are still running (they stay in `tasks`, for the caller to stop).
    pub async fn join_all<T: 'static>(self, tasks: &mut JoinSet<T>) -> bool {
        self.wait(async { while tasks.join_next().await.is_some() {} }).await.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_within_the_limit_finishes_and_work_past_it_is_cut_off() {
        assert_eq!(Drain::default().limit(), DEFAULT_DRAIN);
        let drain = Drain::new(Duration::from_millis(20));
        assert_eq!(drain.wait(async { 7 }).await, Some(7));
        assert_eq!(drain.wait(tokio::time::sleep(Duration::from_secs(30))).await, None);
        let mut tasks = JoinSet::new();
        tasks.spawn(async {});
        assert!(drain.join_all(&mut tasks).await && tasks.is_empty());
        tasks.spawn(tokio::time::sleep(Duration::from_secs(30)));
        assert!(!drain.join_all(&mut tasks).await);
        assert_eq!(tasks.len(), 1);
    }
}
