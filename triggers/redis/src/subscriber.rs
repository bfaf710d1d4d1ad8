//! One Redis server: subscribe to its channels, hand every message to the
//! components on that channel, and when the connection drops, reconnect with
//! exponential backoff and subscribe again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use redis::aio::PubSub;
use spin_engine::trigger::{one_line, Backoff, Shutdown};
use tokio::sync::Semaphore;

use crate::banner;
use crate::executor::RedisExecutor;
use crate::plan::ServerPlan;

/// First delay before reconnecting.
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// Longest delay between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long connecting and subscribing may take before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an idle subscription checks that the server still answers.
const PING_INTERVAL: Duration = Duration::from_secs(15);
/// How long the server may take to answer that check.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// The subscriptions on one server and where their messages go.
pub(crate) struct Subscriber {
    plan: ServerPlan,
    client: redis::Client,
    routes: HashMap<String, Vec<Arc<RedisExecutor>>>,
    limiter: Arc<Semaphore>,
}

/// Why a subscription session ended.
enum Ended {
    Shutdown,
    Lost(String),
}

impl Subscriber {
    /// A subscriber for `plan`, dispatching to `executors` (by component id) with at
    /// most as many handlers in flight as `limiter` has permits.
    pub(crate) fn new(
        plan: ServerPlan,
        executors: &HashMap<String, Arc<RedisExecutor>>,
        limiter: Arc<Semaphore>,
    ) -> anyhow::Result<Self> {
        let client = redis::Client::open(plan.address.as_str())
            .map_err(|e| anyhow::anyhow!("redis server {}: {e}", plan.display))?;
        let routes = plan
            .channels
            .iter()
            .map(|c| {
                let execs = c
                    .components
                    .iter()
                    .map(|id| {
                        executors.get(id).cloned().ok_or_else(|| anyhow::anyhow!("no executor for component `{id}`"))
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                Ok((c.channel.clone(), execs))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { plan, client, routes, limiter })
    }

    /// Subscribes and dispatches until `shutdown`; never gives up on the server.
    pub(crate) async fn run(self, shutdown: Shutdown) {
        let server = &self.plan.display;
        let mut backoff = Backoff::new(INITIAL_BACKOFF, MAX_BACKOFF);
        let mut announced = false;
        loop {
            let attempt = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = tokio::time::timeout(CONNECT_TIMEOUT, self.subscribe()) => {
                    r.unwrap_or_else(|_| Err(format!("no answer within {CONNECT_TIMEOUT:?}")))
                }
            };
            match attempt {
                Ok(pubsub) => {
                    if announced {
                        tracing::warn!("redis {server}: reconnected; subscribed again to {}", self.channel_list());
                    } else {
                        use std::io::Write as _;
                        let mut out = std::io::stdout().lock();
                        let _ = out.write_all(banner::render(&self.plan).as_bytes());
                        let _ = out.flush();
                        announced = true;
                    }
                    backoff.reset();
                    match self.pump(pubsub, &shutdown).await {
                        Ended::Shutdown => return,
                        Ended::Lost(why) => tracing::warn!("redis {server}: connection lost ({why}); reconnecting"),
                    }
                }
                Err(why) => {
                    let (delay, n) = backoff.next_delay();
                    tracing::warn!("redis {server}: connection attempt {n} failed ({why}); retrying in {delay:?}");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    fn channel_list(&self) -> String {
        self.plan.channels.iter().map(|c| c.channel.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// Connects and subscribes to every channel, one SUBSCRIBE each (each confirmed).
    async fn subscribe(&self) -> Result<PubSub, String> {
        let mut pubsub = self.client.get_async_pubsub().await.map_err(|e| e.to_string())?;
        for c in &self.plan.channels {
            pubsub.subscribe(&c.channel).await.map_err(|e| format!("SUBSCRIBE {}: {e}", c.channel))?;
        }
        Ok(pubsub)
    }

    /// Reads messages until the connection is lost or `shutdown`; checks an idle
    /// connection with PING.
    async fn pump(&self, pubsub: PubSub, shutdown: &Shutdown) -> Ended {
        let (mut sink, mut stream) = pubsub.split();
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_INTERVAL, PING_INTERVAL);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ended::Shutdown,
                msg = stream.next() => match msg {
                    Some(msg) => {
                        ping.reset();
                        if !self.dispatch(&msg, shutdown).await {
                            return Ended::Shutdown;
                        }
                    }
                    None => return Ended::Lost("the server closed the connection".into()),
                },
                _ = ping.tick() => match tokio::time::timeout(PING_TIMEOUT, sink.ping::<redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return Ended::Lost(format!("PING failed: {e}")),
                    Err(_) => return Ended::Lost(format!("no answer to PING within {PING_TIMEOUT:?}")),
                },
            }
        }
    }

    /// Starts one handler per component on the message's channel, each in its own
    /// task; waits for a free slot when too many are running. Returns `false` when
    /// `shutdown` came while waiting.
    async fn dispatch(&self, msg: &redis::Msg, shutdown: &Shutdown) -> bool {
        let channel = msg.get_channel_name();
        let Some(executors) = self.routes.get(channel) else {
            tracing::debug!("redis {}: message on unexpected channel `{channel}`", self.plan.display);
            return true;
        };
        let payload = Arc::new(msg.get_payload_bytes().to_vec());
        for exec in executors {
            let permit = tokio::select! {
                _ = shutdown.cancelled() => return false,
                p = self.limiter.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => return false,
                },
            };
            let exec = exec.clone();
            let payload = payload.clone();
            let channel = channel.to_string();
            tokio::spawn(async move {
                let _permit = permit;
                if let Err(e) = exec.handle(&payload).await {
                    tracing::error!(
                        "component `{}` failed to handle a message on channel `{channel}`: {}",
                        exec.id(),
                        one_line(&e)
                    );
                }
            });
        }
        true
    }
}
