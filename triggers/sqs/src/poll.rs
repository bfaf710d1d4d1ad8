//! The receive loop of one queue: long-polled ReceiveMessage (cancelled at once on
//! shutdown), one task per message, a pause when the queue is empty, backoff while
//! it fails, and a bounded drain of in-flight handlers on shutdown; handlers cut
//! off by the drain limit hand their messages back to the queue.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use spin_engine::trigger::{Backoff, Drain, Shutdown};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::aws_error::describe;
use crate::lease::VisibilityTimeout;
use crate::queue::Queue;

/// The most messages SQS returns from one ReceiveMessage call.
pub(crate) const SQS_MAX_BATCH: u16 = 10;
/// The longest pause between retries while the queue cannot be reached.
pub(crate) const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(30);
/// How long one ReceiveMessage waits for a message (`WaitTimeSeconds`, SQS's maximum).
pub(crate) const LONG_POLL_WAIT_SECS: i32 = 20;
/// How long handlers cut off by the drain limit may take to hand their messages back.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(5);

/// The pauses between failed receives in a row: the idle wait (at least one
/// second) doubled per failure, capped at [`MAX_ERROR_BACKOFF`] (or the idle wait
/// when that is longer).
pub(crate) fn error_backoff(idle_wait: Duration) -> Backoff {
    let base = idle_wait.max(Duration::from_secs(1));
    Backoff::new(base, MAX_ERROR_BACKOFF.max(base))
}

/// Polls `queue` until `shutdown`, then waits within `drain` for the handlers
/// still running; those cut off hand their messages back to the queue.
pub(crate) async fn poll(queue: Arc<Queue>, shutdown: Shutdown, drain: Drain) {
    let (id, trigger) = (&queue.trigger.id, &queue.trigger.config);
    let mut timeout = VisibilityTimeout::default();
    let mut in_flight = JoinSet::new();
    // Cancelled when the drain limit is reached: the handlers still running stop.
    let abort = Shutdown::new();
    let mut backoff = error_backoff(trigger.idle_wait());
    tracing::info!("trigger `{}`: polling {} for component `{}`", id, trigger.queue_url, trigger.component);
    while !shutdown.is_cancelled() {
        reap(&mut in_flight);
        // No receive while every handler slot is taken: what is not received stays
        // on the queue for this or another replica.
        let batch = usize::from(trigger.max_messages.min(SQS_MAX_BATCH));
        let mut slots = tokio::select! {
            _ = shutdown.cancelled() => break,
            slots = free_slots(&queue.limiter, batch) => slots,
        };
        let request = queue
            .client
            .receive_message()
            .queue_url(&trigger.queue_url)
            .max_number_of_messages(i32::try_from(slots.len()).unwrap_or(1))
            .wait_time_seconds(LONG_POLL_WAIT_SECS)
            .set_message_system_attribute_names(non_empty(
                trigger.system_attributes.iter().map(|s| MessageSystemAttributeName::from(s.as_str())).collect(),
            ))
            .set_message_attribute_names(non_empty(trigger.message_attributes.clone()));
        let received = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = request.send() => r,
        };
        let pause = match received {
            Ok(out) if !out.messages().is_empty() => {
                backoff.reset();
                let secs = timeout.get(&queue.client, &trigger.queue_url).await;
                for msg in out.messages.unwrap_or_default() {
                    let queue = queue.clone();
                    // SQS returns at most the number asked for; a surplus would be
                    // handled without a slot rather than lost.
                    let slot = slots.pop();
                    let abort = abort.clone();
                    in_flight.spawn(async move {
                        let _slot = slot;
                        queue.process(msg, secs, &abort).await
                    });
                }
                continue;
            }
            Ok(_) => {
                backoff.reset();
                trigger.idle_wait()
            }
            Err(e) => {
                let (pause, failures) = backoff.next_delay();
                tracing::error!(
                    "trigger `{}`: receiving from {} failed (attempt {failures}, retrying in {pause:?}): {}",
                    id,
                    trigger.queue_url,
                    describe(&e)
                );
                pause
            }
        };
        drop(slots);
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(pause) => {}
        }
    }
    finish(id, in_flight, drain, &abort).await;
}

/// Waits for one free handler slot, then takes up to `batch` in all.
async fn free_slots(limiter: &Arc<Semaphore>, batch: usize) -> Vec<OwnedSemaphorePermit> {
    let Ok(first) = limiter.clone().acquire_owned().await else { return Vec::new() };
    let mut slots = vec![first];
    while slots.len() < batch {
        match limiter.clone().try_acquire_owned() {
            Ok(slot) => slots.push(slot),
            Err(_) => break,
        }
    }
    slots
}

/// Collects handler tasks that have ended, logging any that panicked.
fn reap(in_flight: &mut JoinSet<()>) {
    while let Some(done) = in_flight.try_join_next() {
        if let Err(e) = done {
            tracing::error!("a message handler task failed: {e}");
        }
    }
}

/// Lets running handlers finish within `drain`; then stops the rest through
/// `abort`, giving them a moment to hand their messages back.
async fn finish(trigger_id: &str, mut in_flight: JoinSet<()>, drain: Drain, abort: &Shutdown) {
    if in_flight.is_empty() {
        return;
    }
    let (running, limit) = (in_flight.len(), drain.limit());
    tracing::info!("trigger `{trigger_id}`: waiting up to {limit:?} for {running} message handler(s)");
    if !drain.join_all(&mut in_flight).await {
        tracing::warn!(
            "trigger `{trigger_id}`: {} handler(s) still running after {limit:?} are stopped; their messages go back to the queue",
            in_flight.len()
        );
        abort.cancel();
        if !Drain::new(RELEASE_TIMEOUT).join_all(&mut in_flight).await {
            in_flight.shutdown().await;
        }
    }
}

fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pauses(idle_wait: Duration, n: usize) -> Vec<Duration> {
        let mut backoff = error_backoff(idle_wait);
        (0..n).map(|_| backoff.next_delay().0).collect()
    }

    #[test]
    fn backoff_doubles_from_idle_wait_and_caps() {
        let secs = |s: &[u64]| s.iter().map(|&s| Duration::from_secs(s)).collect::<Vec<_>>();
        assert_eq!(pauses(Duration::from_secs(2), 6), secs(&[2, 4, 8, 16, 30, 30]));
        assert_eq!(*pauses(Duration::from_secs(2), 500).last().unwrap(), MAX_ERROR_BACKOFF);
    }

    #[test]
    fn backoff_never_spins_and_respects_a_long_idle_wait() {
        assert_eq!(pauses(Duration::ZERO, 1), [Duration::from_secs(1)]);
        let long = Duration::from_secs(120);
        assert_eq!(pauses(long, 3), [long; 3]);
    }
}
