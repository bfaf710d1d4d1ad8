//! One trigger's connection: connect, subscribe, hand every message to the
//! component in order, and survive broker outages. A lost connection is retried
//! with capped exponential backoff (each attempt logged) and the subscription is
//! renewed whenever the broker did not keep the session. On shutdown the
//! subscription is dropped, the client disconnects, and messages already received
//! are still handled (within a drain limit).

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, Incoming, Outgoing, Publish, SubscribeReasonCode};
use spin_engine::trigger::{Backoff, Shutdown};
use tokio::sync::{mpsc, Semaphore};

use crate::config::{BrokerConfig, Subscription};
use crate::executor::MqttExecutor;
use crate::session;

/// First delay before reconnecting.
const BACKOFF_INITIAL: Duration = Duration::from_millis(500);
/// Longest delay between reconnection attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How long the UNSUBSCRIBE/DISCONNECT exchange may take at shutdown.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long messages received before shutdown may still be handled.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(25);

/// A trigger's subscription, its broker, and the component it feeds.
pub struct Listener {
    /// The broker to connect to.
    pub broker: Arc<BrokerConfig>,
    /// What to subscribe to, for which trigger.
    pub subscription: Subscription,
    /// The MQTT client id of this connection.
    pub client_id: String,
    /// The component's handler.
    pub executor: Arc<MqttExecutor>,
    /// Slots for handlers running at once (shared by every MQTT trigger of the app).
    pub limiter: Arc<Semaphore>,
}

/// How the connection loop ended.
enum Ended {
    /// Shutdown was requested.
    Shutdown,
    /// The broker refused the subscription: retrying cannot help.
    Refused(String),
}

impl Listener {
    /// Runs until `shutdown` (Ok) or until the broker refuses the subscription (Err).
    pub async fn run(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let (client, mut events) =
            AsyncClient::new(session::options(&self.broker, self.client_id.clone()), session::REQUEST_CAPACITY);
        let (tx, rx) = mpsc::unbounded_channel();
        let handler = tokio::spawn(handle_in_order(
            self.executor.clone(),
            self.limiter.clone(),
            self.subscription.trigger_id.clone(),
            rx,
        ));
        let ended = self.connection_loop(&client, &mut events, &tx, &shutdown).await;
        self.goodbye(&client, &mut events).await;
        drop(tx);
        self.drain(handler).await;
        match ended {
            Ended::Shutdown => Ok(()),
            Ended::Refused(reason) => Err(anyhow::anyhow!("{reason}")),
        }
    }

    /// Polls the event loop: subscribes after every connect without a kept session,
    /// forwards messages, and backs off between reconnection attempts.
    async fn connection_loop(
        &self,
        client: &AsyncClient,
        events: &mut EventLoop,
        tx: &mpsc::UnboundedSender<Publish>,
        shutdown: &Shutdown,
    ) -> Ended {
        let sub = &self.subscription;
        let addr = &self.broker.address;
        let mut backoff = Backoff::new(BACKOFF_INITIAL, BACKOFF_MAX);
        loop {
            let event = tokio::select! {
                _ = shutdown.cancelled() => return Ended::Shutdown,
                event = events.poll() => event,
            };
            match event {
                Ok(Event::Incoming(Incoming::ConnAck(ack))) => {
                    if backoff.attempt() > 0 {
                        tracing::warn!(
                            "mqtt trigger `{}`: reconnected to {addr} after {} failed attempt(s)",
                            sub.trigger_id,
                            backoff.attempt()
                        );
                    }
                    backoff.reset();
                    if ack.session_present {
                        tracing::info!(
                            "mqtt trigger `{}`: session kept by the broker; still subscribed",
                            sub.trigger_id
                        );
                    } else if let Err(e) = client.try_subscribe(sub.topic.clone(), session::qos(sub.qos)) {
                        // The request queue is empty right after a connect; this only
                        // fails if the event loop is gone.
                        return Ended::Refused(format!("mqtt trigger `{}`: cannot subscribe: {e}", sub.trigger_id));
                    }
                }
                Ok(Event::Incoming(Incoming::SubAck(ack))) => {
                    if ack.return_codes.contains(&SubscribeReasonCode::Failure) {
                        return Ended::Refused(format!(
                            "mqtt trigger `{}`: the broker at {addr} refused the subscription to `{}`",
                            sub.trigger_id, sub.topic
                        ));
                    }
                    tracing::info!(
                        "mqtt trigger `{}`: subscribed to `{}` on {addr} for component `{}`",
                        sub.trigger_id,
                        sub.topic,
                        sub.component
                    );
                }
                Ok(Event::Incoming(Incoming::Publish(p))) => {
                    // The receiver lives until this loop ends.
                    let _ = tx.send(p);
                }
                Ok(_) => {}
                Err(e) => {
                    let (delay, attempt) = backoff.next_delay();
                    tracing::warn!(
                        "mqtt trigger `{}`: connection to {addr} failed: {e}; reconnect attempt {attempt} in {delay:?}",
                        sub.trigger_id
                    );
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ended::Shutdown,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    /// Drops the subscription (so the broker keeps nothing for a session that will
    /// not come back) and disconnects, if connected; bounded by a short timeout.
    async fn goodbye(&self, client: &AsyncClient, events: &mut EventLoop) {
        if events.network.is_none() {
            return;
        }
        let _ = client.try_unsubscribe(self.subscription.topic.clone());
        let _ = client.try_disconnect();
        let done = tokio::time::timeout(GOODBYE_TIMEOUT, async {
            while let Ok(event) = events.poll().await {
                if event == Event::Outgoing(Outgoing::Disconnect) {
                    break;
                }
            }
        })
        .await;
        if done.is_err() {
            tracing::warn!(
                "mqtt trigger `{}`: no clean disconnect within {GOODBYE_TIMEOUT:?}",
                self.subscription.trigger_id
            );
        }
    }

    /// Waits for the messages already received to be handled, up to [`DRAIN_TIMEOUT`].
    async fn drain(&self, handler: tokio::task::JoinHandle<()>) {
        let abort = handler.abort_handle();
        if tokio::time::timeout(DRAIN_TIMEOUT, handler).await.is_err() {
            abort.abort();
            tracing::warn!(
                "mqtt trigger `{}`: stopped before every received message was handled ({DRAIN_TIMEOUT:?} drain limit)",
                self.subscription.trigger_id
            );
        }
    }
}

/// Calls the component for each message, one at a time in arrival order and each
/// in a free slot of `limiter`; failures (a deadline too) are logged and the next
/// message is handled.
async fn handle_in_order(
    executor: Arc<MqttExecutor>,
    limiter: Arc<Semaphore>,
    trigger_id: String,
    mut rx: mpsc::UnboundedReceiver<Publish>,
) {
    while let Some(msg) = rx.recv().await {
        let Ok(_slot) = limiter.acquire().await else { return };
        if let Err(e) = executor.execute(&msg.topic, &msg.payload).await {
            tracing::error!(
                "mqtt trigger `{trigger_id}`: component `{}` failed on a message from `{}`: {e:#}",
                executor.component_id(),
                msg.topic
            );
        }
    }
}
