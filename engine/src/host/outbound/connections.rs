//! The caps on outbound connections (in-flight outgoing HTTP requests, Redis,
//! MQTT, PostgreSQL and MySQL connections, open `wasi:sockets` sockets):
//! - per instance, `max_outbound_connections` (`SPIN_MAX_OUTBOUND_CONNECTIONS`,
//!   default 64) held at once; one more is refused at once;
//! - per app, the runtime config's caps, as Spin's: `max_connections` of
//!   `[outbound_http]`, `[outbound_redis]`, `[outbound_mqtt]`, `[outbound_pg]`
//!   and `[outbound_mysql]` and `[outbound_networking] max_socket_connections`
//!   per kind, and `[outbound_networking] max_total_connections` over all kinds,
//!   across every instance of every component. One more waits, as in Spin, for a
//!   connection of its kind (then any kind) to close, within the guest's
//!   deadline; a cap of 0 refuses every connection at once. A socket never waits
//!   (Spin's rule: a guest holding sockets across a wait could deadlock itself).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What an outbound connection is for, for the per-kind caps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConnectionKind {
    /// An outgoing HTTP request, while in flight.
    Http,
    /// A Redis connection.
    Redis,
    /// An MQTT connection.
    Mqtt,
    /// A PostgreSQL connection.
    Postgres,
    /// A MySQL connection.
    Mysql,
    /// A `wasi:sockets` TCP or UDP socket, while the guest holds it.
    Socket,
}

impl ConnectionKind {
    /// The name used in logs.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Http => "HTTP request",
            Self::Redis => "redis",
            Self::Mqtt => "MQTT",
            Self::Postgres => "PostgreSQL",
            Self::Mysql => "MySQL",
            Self::Socket => "socket",
        }
    }
}

/// One app-wide cap: `max` connections at once.
#[derive(Clone, Debug)]
struct Cap {
    places: Arc<Semaphore>,
    max: usize,
}

impl Cap {
    fn new(max: usize) -> Self {
        let max = max.min(Semaphore::MAX_PERMITS);
        Self { places: Arc::new(Semaphore::new(max)), max }
    }

    /// A place under the cap, waiting for one; `None` when the cap is 0.
    async fn admit(&self) -> Option<OwnedSemaphorePermit> {
        if self.max == 0 {
            return None;
        }
        // The semaphore is never closed, so `acquire_owned` only waits.
        self.places.clone().acquire_owned().await.ok()
    }

    /// A place under the cap if one is free now.
    fn admit_now(&self) -> Option<OwnedSemaphorePermit> {
        self.places.clone().try_acquire_owned().ok()
    }
}

/// The app-wide caps the runtime config sets (none by default). Clones share them.
#[derive(Clone, Debug, Default)]
pub(crate) struct AppConnectionCaps {
    total: Option<Cap>,
    http: Option<Cap>,
    redis: Option<Cap>,
    mqtt: Option<Cap>,
    postgres: Option<Cap>,
    mysql: Option<Cap>,
    socket: Option<Cap>,
}

impl AppConnectionCaps {
    /// Caps of `total` connections of every kind together and of each kind's
    /// own maximum; `None` is no cap.
    pub(crate) fn new(total: Option<usize>, of_kind: impl Fn(ConnectionKind) -> Option<usize>) -> Self {
        Self {
            total: total.map(Cap::new),
            http: of_kind(ConnectionKind::Http).map(Cap::new),
            redis: of_kind(ConnectionKind::Redis).map(Cap::new),
            mqtt: of_kind(ConnectionKind::Mqtt).map(Cap::new),
            postgres: of_kind(ConnectionKind::Postgres).map(Cap::new),
            mysql: of_kind(ConnectionKind::Mysql).map(Cap::new),
            socket: of_kind(ConnectionKind::Socket).map(Cap::new),
        }
    }

    /// The cap of `kind`'s own, if it has one.
    fn of_kind(&self, kind: ConnectionKind) -> Option<&Cap> {
        match kind {
            ConnectionKind::Http => self.http.as_ref(),
            ConnectionKind::Redis => self.redis.as_ref(),
            ConnectionKind::Mqtt => self.mqtt.as_ref(),
            ConnectionKind::Postgres => self.postgres.as_ref(),
            ConnectionKind::Mysql => self.mysql.as_ref(),
            ConnectionKind::Socket => self.socket.as_ref(),
        }
    }

    /// The places of one connection of `kind`: its kind's first, then the
    /// total's, so a connection waiting for its kind never holds a place of
    /// the total that other kinds could use. `None` when a cap is 0.
    async fn admit(&self, kind: ConnectionKind) -> Option<[Option<OwnedSemaphorePermit>; 2]> {
        let kind_place = match self.of_kind(kind) {
            Some(cap) => Some(cap.admit().await?),
            None => None,
        };
        let total_place = match &self.total {
            Some(cap) => Some(cap.admit().await?),
            None => None,
        };
        Some([kind_place, total_place])
    }

    /// [`Self::admit`] without waiting: `None` unless both caps have a place now.
    fn admit_now(&self, kind: ConnectionKind) -> Option<[Option<OwnedSemaphorePermit>; 2]> {
        let kind_place = match self.of_kind(kind) {
            Some(cap) => Some(cap.admit_now()?),
            None => None,
        };
        let total_place = match &self.total {
            Some(cap) => Some(cap.admit_now()?),
            None => None,
        };
        Some([kind_place, total_place])
    }
}

/// An instance's slot for one connection, before the app-wide caps admit it.
#[derive(Debug)]
pub(crate) struct ConnectionSlot {
    instance: OwnedSemaphorePermit,
    kind: ConnectionKind,
    app: AppConnectionCaps,
}

impl ConnectionSlot {
    /// The slot, once the app-wide caps have room for one more connection of
    /// its kind; `None` when one of them is 0.
    pub(crate) async fn admit(self) -> Option<ConnectionPermit> {
        let app = self.app.admit(self.kind).await?;
        Some(ConnectionPermit { _instance: self.instance, _app: app })
    }

    /// The slot, if the app-wide caps have room for it now; `None` otherwise.
    pub(crate) fn admit_now(self) -> Option<ConnectionPermit> {
        let app = self.app.admit_now(self.kind)?;
        Some(ConnectionPermit { _instance: self.instance, _app: app })
    }
}

/// One open connection's places under every cap; released when dropped.
#[derive(Debug)]
pub(crate) struct ConnectionPermit {
    _instance: OwnedSemaphorePermit,
    _app: [Option<OwnedSemaphorePermit>; 2],
}

/// The outbound connections one instance may still open.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionBudget {
    slots: Arc<Semaphore>,
    max: usize,
    app: AppConnectionCaps,
}

impl ConnectionBudget {
    /// A budget of `max` connections at once, within the app-wide `app` caps.
    pub(crate) fn new(max: usize, app: AppConnectionCaps) -> Self {
        let max = max.min(Semaphore::MAX_PERMITS);
        Self { slots: Arc::new(Semaphore::new(max)), max, app }
    }

    /// A slot for one more connection of `kind`; `None` when the instance holds
    /// `max` already.
    pub(crate) fn try_open(&self, kind: ConnectionKind) -> Option<ConnectionSlot> {
        let instance = self.slots.clone().try_acquire_owned().ok()?;
        Some(ConnectionSlot { instance, kind, app: self.app.clone() })
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

    use ConnectionKind::{Http, Mqtt, Redis};

    #[tokio::test]
    async fn slots_come_back_when_connections_close() {
        let budget = ConnectionBudget::new(2, AppConnectionCaps::default());
        let (a, b) = (budget.try_open(Http).unwrap(), budget.try_open(Redis).unwrap());
        assert!(budget.try_open(Http).is_none());
        drop(a);
        let c = budget.try_open(Mqtt).unwrap().admit().await.unwrap();
        assert!(budget.clone().try_open(Http).is_none(), "clones share the budget");
        drop((b, c));
        assert!(budget.try_open(Http).is_some());
        assert!(budget.refusal().contains("2"));
    }

    /// Whether a connection of `kind` from `budget` is still waiting after a while.
    async fn waits(
        budget: &ConnectionBudget,
        kind: ConnectionKind,
    ) -> tokio::task::JoinHandle<Option<ConnectionPermit>> {
        let waiting = tokio::spawn(budget.try_open(kind).unwrap().admit());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "a {kind:?} connection should wait");
        waiting
    }

    #[tokio::test]
    async fn the_total_cap_makes_connections_of_every_instance_and_kind_take_turns() {
        let app = AppConnectionCaps::new(Some(1), |_| None);
        let (one, two) = (ConnectionBudget::new(4, app.clone()), ConnectionBudget::new(4, app));
        let first = one.try_open(Http).unwrap().admit().await.unwrap();
        let waiting = waits(&two, Redis).await;
        drop(first);
        assert!(tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap().is_some());
    }

    #[tokio::test]
    async fn a_kind_cap_holds_back_its_kind_only_and_zero_refuses() {
        let app = AppConnectionCaps::new(None, |kind| match kind {
            Http => Some(1),
            Redis => Some(0),
            Mqtt | ConnectionKind::Postgres | ConnectionKind::Mysql | ConnectionKind::Socket => None,
        });
        let budget = ConnectionBudget::new(8, app);
        let first = budget.try_open(Http).unwrap().admit().await.unwrap();
        let waiting = waits(&budget, Http).await;
        let mqtt = budget.try_open(Mqtt).unwrap().admit().await;
        assert!(mqtt.is_some(), "other kinds pass");
        assert!(budget.try_open(Redis).unwrap().admit().await.is_none(), "a cap of 0 refuses at once");
        drop(first);
        assert!(tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap().is_some());
    }

    #[tokio::test]
    async fn a_socket_takes_a_place_now_or_never() {
        let app = AppConnectionCaps::new(Some(2), |kind| (kind == ConnectionKind::Socket).then_some(1));
        let budget = ConnectionBudget::new(8, app);
        let socket = budget.try_open(ConnectionKind::Socket).unwrap().admit_now().unwrap();
        assert!(budget.try_open(ConnectionKind::Socket).unwrap().admit_now().is_none(), "the socket cap is full");
        drop(socket);
        let open = [budget.try_open(Http).unwrap().admit_now(), budget.try_open(Http).unwrap().admit_now()];
        assert!(open.iter().all(Option::is_some));
        assert!(
            budget.try_open(ConnectionKind::Socket).unwrap().admit_now().is_none(),
            "the total cap is full: sockets count against it"
        );
        drop(open);
        assert!(budget.try_open(ConnectionKind::Socket).unwrap().admit_now().is_some());
    }
}
