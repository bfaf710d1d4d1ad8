//! Holding a message while its handler runs: the queue's visibility timeout, and a
//! task that renews it with ChangeMessageVisibility every half timeout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use aws_sdk_sqs::Client;

use crate::aws_error::describe;

/// Visibility timeout assumed while the queue's own cannot be read (SQS's default).
pub(crate) const DEFAULT_VISIBILITY_TIMEOUT_SECS: u32 = 30;

/// Reads the queue's `VisibilityTimeout` attribute, in seconds.
pub(crate) async fn fetch_visibility_timeout(client: &Client, queue_url: &str) -> anyhow::Result<u32> {
    let out = client
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::VisibilityTimeout)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
    match out.attributes().and_then(|a| a.get(&QueueAttributeName::VisibilityTimeout)) {
        Some(v) => {
            v.parse().map_err(|_| anyhow::anyhow!("the queue reports VisibilityTimeout {v:?}, not a number of seconds"))
        }
        None => Ok(DEFAULT_VISIBILITY_TIMEOUT_SECS),
    }
}

/// The queue's visibility timeout, read once it can be; until then the default
/// is used and reading is retried at the next batch.
#[derive(Debug, Default)]
pub(crate) struct VisibilityTimeout {
    known: Option<u32>,
}

impl VisibilityTimeout {
    /// The timeout in seconds, fetching it if it is not known yet.
    pub(crate) async fn get(&mut self, client: &Client, queue_url: &str) -> u32 {
        if let Some(secs) = self.known {
            return secs;
        }
        match fetch_visibility_timeout(client, queue_url).await {
            Ok(secs) => {
                tracing::debug!("queue {queue_url}: visibility timeout {secs} s");
                *self.known.insert(secs)
            }
            Err(e) => {
                tracing::warn!(
                    "queue {queue_url}: cannot read VisibilityTimeout, assuming {DEFAULT_VISIBILITY_TIMEOUT_SECS} s: {e}"
                );
                DEFAULT_VISIBILITY_TIMEOUT_SECS
            }
        }
    }
}

/// How often a lease of `timeout_secs` is renewed: every half timeout, or never
/// for a zero timeout (the message is visible again at once anyway).
pub(crate) fn renewal_interval(timeout_secs: u32) -> Option<Duration> {
    (timeout_secs > 0).then(|| Duration::from_millis(u64::from(timeout_secs) * 500))
}

/// The renewals of one lease, counted: a failing queue is reported once per
/// message (when its handler ends), not once per renewal.
#[derive(Debug, Default)]
pub(crate) struct Renewals {
    attempts: u32,
    failures: u32,
    last_error: Option<String>,
}

impl Renewals {
    /// Counts one renewal and its outcome.
    pub(crate) fn record(&mut self, outcome: Result<(), String>) {
        self.attempts += 1;
        if let Err(e) = outcome {
            self.failures += 1;
            self.last_error = Some(e);
        }
    }

    /// The one line to log for `msg_id` when some renewals failed.
    pub(crate) fn summary(&self, msg_id: &str) -> Option<String> {
        let last = self.last_error.as_deref()?;
        Some(format!(
            "message {msg_id}: {} of {} lease renewal(s) failed (last: {last}); it may have been delivered again",
            self.failures, self.attempts
        ))
    }
}

/// A running lease renewal; dropping it stops the renewals.
pub(crate) struct Lease {
    task: tokio::task::JoinHandle<()>,
    renewals: Arc<Mutex<Renewals>>,
    msg_id: String,
}

impl Lease {
    /// Starts renewing the lease on one received message (none without a receipt
    /// handle or with a zero timeout). Failed renewals are counted and retried at
    /// the next interval; [`Lease::finish`] reports them.
    pub(crate) fn hold(
        client: &Client,
        queue_url: &str,
        receipt_handle: Option<&str>,
        msg_id: &str,
        timeout_secs: u32,
    ) -> Option<Self> {
        let interval = renewal_interval(timeout_secs)?;
        let receipt = receipt_handle?.to_string();
        let client = client.clone();
        let queue_url = queue_url.to_string();
        let renewals = Arc::new(Mutex::new(Renewals::default()));
        let (counted, id) = (renewals.clone(), msg_id.to_string());
        let timeout = i32::try_from(timeout_secs).unwrap_or(i32::MAX);
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
            loop {
                ticker.tick().await;
                tracing::debug!("message {id}: renewing its lease for {timeout} s");
                let renewed = client
                    .change_message_visibility()
                    .queue_url(&queue_url)
                    .receipt_handle(&receipt)
                    .visibility_timeout(timeout)
                    .send()
                    .await;
                let outcome = renewed.map(|_| ()).map_err(|e| describe(&e));
                if let Err(e) = &outcome {
                    tracing::debug!("message {id}: failed to renew its lease: {e}");
                }
                counted.lock().unwrap_or_else(|p| p.into_inner()).record(outcome);
            }
        });
        Some(Self { task, renewals, msg_id: msg_id.to_string() })
    }

    /// Stops the renewals and logs, once, how many of them failed (if any did).
    pub(crate) fn finish(self) {
        self.task.abort();
        if let Some(line) = self.renewals.lock().unwrap_or_else(|p| p.into_inner()).summary(&self.msg_id) {
            tracing::warn!("{line}");
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renews_every_half_timeout() {
        assert_eq!(renewal_interval(30), Some(Duration::from_secs(15)));
        assert_eq!(renewal_interval(2), Some(Duration::from_secs(1)));
        assert_eq!(renewal_interval(1), Some(Duration::from_millis(500)));
        assert_eq!(renewal_interval(43_200), Some(Duration::from_secs(21_600)));
    }

    #[test]
    fn zero_timeout_is_never_renewed() {
        assert_eq!(renewal_interval(0), None);
    }

    #[test]
    fn failed_renewals_are_counted_into_one_line() {
        let mut r = Renewals::default();
        r.record(Ok(()));
        assert_eq!(r.summary("m-1"), None);
        r.record(Err("dispatch failure".into()));
        r.record(Err("timeout".into()));
        r.record(Ok(()));
        let line = r.summary("m-1").unwrap();
        assert_eq!(
            line,
            "message m-1: 2 of 4 lease renewal(s) failed (last: timeout); it may have been delivered again"
        );
    }
}
