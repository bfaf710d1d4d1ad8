//! One trigger's connection: connect, subscribe after every connect (whether or
//! not the broker kept the session), queue every message for the component, and
//! acknowledge a QoS 1/2 message only once its handler succeeded. The queue is
//! bounded: while it is full the connection is not read, so the broker holds the
//! rest back (with manual acknowledgements it sends no more than its in-flight
//! window anyway). A message whose handler failed, was cut off at its deadline or
//! never ran stays unacknowledged and the broker delivers it again on the next
//! connection of the persistent session. A lost connection is retried with capped
//! exponential backoff (each attempt logged). On shutdown the message being handled
//! is finished (within a drain limit) and acknowledged, and the client disconnects
//! without unsubscribing, so a restart under the same client id gets what arrived
//! meanwhile.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, Incoming, Outgoing, Publish, QoS, SubscribeReasonCode};
use spin_engine::trigger::{one_line, Backoff, Drain, Shutdown};
use tokio::sync::{mpsc, Semaphore};

use crate::config::{BrokerConfig, Subscription};
use crate::executor::MqttExecutor;
use crate::session;

/// First delay before reconnecting.
const BACKOFF_INITIAL: Duration = Duration::from_millis(500);
/// Longest delay between reconnection attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How long the DISCONNECT exchange may take at shutdown.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);

/// A trigger's subscription, its broker, and the component it feeds.
pub(crate) struct Listener {
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
    /// How long the message being handled at shutdown may take to finish.
    pub drain: Drain,
}

/// How the connection loop ended.
enum Ended {
    /// Shutdown was requested.
    Shutdown,
    /// The broker refused the subscription, or the handler task is gone: retrying
    /// cannot help.
    Refused(String),
}

impl Listener {
    /// Runs until `shutdown` (Ok) or until the broker refuses the subscription (Err).
    pub(crate) async fn run(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let options = session::options(&self.broker, self.client_id.clone());
        let (client, mut events) = AsyncClient::new(options, session::REQUEST_CAPACITY);
        let (tx, rx) = mpsc::channel(session::QUEUE_CAPACITY);
        let stop = Shutdown::new();
        let handler = tokio::spawn(handle_in_order(Handling {
            executor: self.executor.clone(),
            limiter: self.limiter.clone(),
            client: client.clone(),
            trigger_id: self.subscription.trigger_id.clone(),
            queue: rx,
            stop: stop.clone(),
        }));
        let ended = self.connection_loop(&client, &mut events, &tx, &shutdown).await;
        stop.cancel();
        drop(tx);
        self.drain(handler, &mut events).await;
        self.goodbye(&client, &mut events).await;
        match ended {
            Ended::Shutdown => Ok(()),
            Ended::Refused(reason) => Err(anyhow::anyhow!("{reason}")),
        }
    }

    /// Polls the event loop: subscribes after every connect, queues messages
    /// (waiting while the queue is full), and backs off between reconnection attempts.
    async fn connection_loop(
        &self,
        client: &AsyncClient,
        events: &mut EventLoop,
        tx: &mpsc::Sender<Publish>,
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
                        tracing::debug!("mqtt trigger `{}`: the broker kept the session", sub.trigger_id);
                    }
                    // Subscribing again is harmless when the session was kept, and
                    // needed when the broker lost it (a restart without persistence).
                    if let Err(e) = client.try_subscribe(sub.topic.clone(), session::qos(sub.qos)) {
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
                    // A full queue stops reading here: backpressure to the broker.
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ended::Shutdown,
                        sent = tx.send(p) => if sent.is_err() {
                            return Ended::Refused(format!(
                                "mqtt trigger `{}`: the message handler task ended",
                                sub.trigger_id
                            ));
                        },
                    }
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

    /// Waits within the drain limit for the message being handled, polling the
    /// connection meanwhile so that its acknowledgement goes out. Messages that
    /// arrive now are not acknowledged: the broker delivers them again.
    async fn drain(&self, handler: tokio::task::JoinHandle<()>, events: &mut EventLoop) {
        let abort = handler.abort_handle();
        let pump = async {
            while events.network.is_some() {
                if events.poll().await.is_err() {
                    break;
                }
            }
            std::future::pending::<()>().await
        };
        let finished = self
            .drain
            .wait(async {
                tokio::select! {
                    _ = handler => {}
                    _ = pump => {}
                }
            })
            .await;
        if finished.is_none() {
            abort.abort();
            tracing::warn!(
                "mqtt trigger `{}`: the message being handled was stopped after {:?}; it was not acknowledged",
                self.subscription.trigger_id,
                self.drain.limit()
            );
        }
    }

    /// Sends the acknowledgements still queued and disconnects, if connected,
    /// keeping the session (and its subscription) for the next start; bounded by a
    /// short timeout.
    async fn goodbye(&self, client: &AsyncClient, events: &mut EventLoop) {
        if events.network.is_none() {
            return;
        }
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
}

/// What the handler task of one trigger works with.
struct Handling {
    executor: Arc<MqttExecutor>,
    limiter: Arc<Semaphore>,
    client: AsyncClient,
    trigger_id: String,
    queue: mpsc::Receiver<Publish>,
    stop: Shutdown,
}

/// Calls the component for each queued message, one at a time in arrival order and
/// each in a free slot of the limiter; acknowledges a message once its handler
/// succeeded. Failures (a deadline too) are logged and the next message is handled.
/// After `stop` no new message is taken.
async fn handle_in_order(mut h: Handling) {
    loop {
        let msg = tokio::select! {
            biased;
            _ = h.stop.cancelled() => return,
            msg = h.queue.recv() => match msg {
                Some(msg) => msg,
                None => return,
            },
        };
        let slot = tokio::select! {
            biased;
            _ = h.stop.cancelled() => return,
            slot = h.limiter.acquire() => match slot {
                Ok(slot) => slot,
                Err(_) => return,
            },
        };
        let outcome = h.executor.execute(&msg.topic, &msg.payload).await;
        drop(slot);
        match outcome {
            Ok(()) => {
                if let Err(e) = h.client.ack(&msg).await {
                    tracing::warn!(
                        "mqtt trigger `{}`: cannot acknowledge a message from `{}` ({e}); it will be delivered again",
                        h.trigger_id,
                        msg.topic
                    );
                }
            }
            Err(e) => {
                let redelivery = if msg.qos == QoS::AtMostOnce {
                    ""
                } else {
                    " (not acknowledged: the broker delivers it again on the next connection)"
                };
                tracing::error!(
                    "mqtt trigger `{}`: component `{}` failed on a message from `{}`{redelivery}: {}",
                    h.trigger_id,
                    h.executor.component_id(),
                    msg.topic,
                    one_line(&e)
                );
            }
        }
    }
}
