//! `fermyon:spin/mqtt@2.0.0` on the capability's view, and the steps
//! `spin:mqtt/mqtt@3.0.0` (`v3.rs`) shares with it: `connection.open` checks the address against the
//! component's allowed hosts (scheme `mqtt`, default port 1883) and answers
//! `connection-failed("address ... is not permitted")` when it is not allowed.
//! As in Spin, `open` only prepares the client; the broker is reached on the first
//! `publish`, which returns once the broker has taken the message at its QoS. Each
//! open connection counts against the instance's outbound connection budget
//! (`too-many-connections` beyond it).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, Incoming, MqttOptions, Outgoing, QoS};
use wasmtime::component::{Linker, Resource};

use super::OutboundMqtt;
use crate::host::capability::{CapabilityView, HasCapability, ViewOf};
use crate::host::outbound::{
    BlockedNetworks, ConnectionKind, ConnectionPermit, ConnectionSlot, Destination, OutboundGate,
};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v2",
        world: "fermyon:spin/host-mqtt@2.0.0",
        imports: { default: async | trappable },
        with: { "fermyon:spin/mqtt.connection": super::MqttConnection },
    });
}

pub(super) use bindings::fermyon::spin::mqtt::{Error, Qos};

/// How long one `publish` may wait for the broker (connect plus acknowledgement).
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(30);
/// How long closing a connection may wait for the DISCONNECT to be written.
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Requests queued between the client handle and its event loop.
const CHANNEL_CAPACITY: usize = 10;
/// Largest message accepted in either direction (the MQTT maximum).
const MAX_PACKET_SIZE: usize = 256 * 1024 * 1024;
/// Schemes this build can connect with (plain TCP; TLS is not compiled in).
const SCHEMES: &[&str] = &["mqtt", "tcp"];

/// Numbers client ids generated for addresses without `client_id`.
static NEXT_CLIENT: AtomicU64 = AtomicU64::new(1);

/// One guest connection (the `connection` resource of 2.0 and 3.0).
#[allow(unreachable_pub)] // bindgen's `with` re-exports it
pub struct MqttConnection {
    session: Arc<Session>,
    _slot: ConnectionPermit,
}

/// The client settings and, once a publish has run, the live client and its
/// event loop; publishes on one connection take turns.
pub(super) struct Session {
    options: MqttOptions,
    live: tokio::sync::Mutex<Option<(AsyncClient, EventLoop)>>,
    blocked: Arc<BlockedNetworks>,
}

/// Adds the outbound MQTT interface to `linker`.
pub(super) fn add_to_linker<T: HasCapability<OutboundMqtt>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::fermyon::spin::mqtt::add_to_linker::<T, ViewOf<OutboundMqtt>>(linker, T::capability)?;
    Ok(())
}

/// Client settings for `address` (`mqtt://host[:port][?client_id=...]`); the client id
/// is generated from `component_id` when the address has none.
fn client_options(
    address: &str,
    dest: &Destination,
    component_id: &str,
    username: String,
    password: String,
    keep_alive_secs: u64,
) -> Result<MqttOptions, Error> {
    let url = url::Url::parse(address).map_err(|_| Error::InvalidAddress)?;
    let client_id = url
        .query_pairs()
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            let n = NEXT_CLIENT.fetch_add(1, Ordering::Relaxed);
            format!("spin-{component_id}-{}-{n}", std::process::id())
        });
    let mut options = MqttOptions::new(client_id, dest.host.clone(), dest.port);
    options.set_keep_alive(Duration::from_secs(keep_alive_secs));
    options.set_max_packet_size(MAX_PACKET_SIZE, MAX_PACKET_SIZE);
    if !username.is_empty() || !password.is_empty() {
        options.set_credentials(username, password);
    }
    Ok(options)
}

/// A connection `open` has checked, waiting for a place under the app-wide caps.
pub(super) struct Pending {
    session: Arc<Session>,
    slot: ConnectionSlot,
}

impl Pending {
    /// The connection, once the app-wide caps have room for it.
    pub(super) async fn admit(self) -> Result<MqttConnection, Error> {
        let slot = self.slot.admit().await.ok_or(Error::TooManyConnections)?;
        Ok(MqttConnection { session: self.session, _slot: slot })
    }
}

impl MqttConnection {
    /// The connection's session, to publish on without holding the instance's table.
    pub(super) fn session(&self) -> Arc<Session> {
        self.session.clone()
    }
}

/// The checks and settings of `open`: an address allowed by the component's
/// outbound hosts, a scheme this build speaks, a free connection slot.
pub(super) fn prepare(
    gate: &OutboundGate,
    address: &str,
    username: String,
    password: String,
    keep_alive_interval_in_secs: u64,
) -> Result<Pending, Error> {
    let dest = Destination::parse(address).ok_or(Error::InvalidAddress)?;
    if !gate.permits(&dest) {
        return Err(Error::ConnectionFailed(format!("address {address} is not permitted")));
    }
    if !SCHEMES.contains(&dest.scheme.as_str()) {
        return Err(Error::ConnectionFailed(format!(
            "scheme `{}` is not supported; use mqtt://host:port",
            dest.scheme
        )));
    }
    let options =
        client_options(address, &dest, gate.component_id(), username, password, keep_alive_interval_in_secs)?;
    let slot = gate.open_slot(ConnectionKind::Mqtt).ok_or(Error::TooManyConnections)?;
    let blocked = gate.blocked_networks().clone();
    let session = Arc::new(Session { options, live: tokio::sync::Mutex::new(None), blocked });
    Ok(Pending { session, slot })
}

impl Session {
    /// The settings of a new connection: as given, or, with blocked networks,
    /// pointed at the broker address that was checked against them.
    async fn vetted_options(&self) -> Result<MqttOptions, Error> {
        if self.blocked.is_empty() {
            return Ok(self.options.clone());
        }
        let (host, port) = self.options.broker_address();
        let addr = self.blocked.vet(&host, port).await.map_err(|r| Error::ConnectionFailed(r.to_string()))?[0];
        let mut options = MqttOptions::new(self.options.client_id(), addr.ip().to_string(), addr.port());
        options.set_keep_alive(self.options.keep_alive());
        options.set_max_packet_size(MAX_PACKET_SIZE, MAX_PACKET_SIZE);
        if let Some(login) = self.options.credentials() {
            options.set_credentials(login.username, login.password);
        }
        Ok(options)
    }

    /// Publishes one message and waits for the broker's acknowledgement at `qos`. A
    /// failed session is dropped so the next publish starts on a new connection.
    pub(super) async fn publish(&self, topic: String, payload: Vec<u8>, q: Qos) -> Result<(), Error> {
        let qos = qos(q);
        let mut live = self.live.lock().await;
        if live.is_none() {
            *live = Some(AsyncClient::new(self.vetted_options().await?, CHANNEL_CAPACITY));
        }
        let (client, events) = live.as_mut().expect("a client was just made");
        let sent = async {
            client.publish(topic, qos, false, payload).await.map_err(|e| Error::Other(e.to_string()))?;
            wait_delivered(events, qos).await
        };
        let outcome = match tokio::time::timeout(PUBLISH_TIMEOUT, sent).await {
            Ok(r) => r,
            Err(_) => {
                Err(Error::Other(format!("the broker did not acknowledge the message within {PUBLISH_TIMEOUT:?}")))
            }
        };
        if outcome.is_err() {
            *live = None;
        }
        outcome
    }

    /// Sends DISCONNECT if a session is open (best effort, briefly).
    pub(super) async fn close(&self) {
        let Some((client, mut events)) = self.live.lock().await.take() else { return };
        if client.try_disconnect().is_err() {
            return;
        }
        let _ = tokio::time::timeout(DISCONNECT_TIMEOUT, async {
            while let Ok(event) = events.poll().await {
                if event == Event::Outgoing(Outgoing::Disconnect) {
                    break;
                }
            }
        })
        .await;
    }
}

/// Drives the event loop until the broker has taken the message: written out for
/// QoS 0, PUBACK for QoS 1, PUBCOMP for QoS 2.
async fn wait_delivered(events: &mut EventLoop, qos: QoS) -> Result<(), Error> {
    loop {
        let event = events.poll().await.map_err(|e| Error::ConnectionFailed(e.to_string()))?;
        match (qos, event) {
            (QoS::AtMostOnce, Event::Outgoing(Outgoing::Publish(_)))
            | (QoS::AtLeastOnce, Event::Incoming(Incoming::PubAck(_)))
            | (QoS::ExactlyOnce, Event::Incoming(Incoming::PubComp(_))) => return Ok(()),
            _ => {}
        }
    }
}

fn qos(q: Qos) -> QoS {
    match q {
        Qos::AtMostOnce => QoS::AtMostOnce,
        Qos::AtLeastOnce => QoS::AtLeastOnce,
        Qos::ExactlyOnce => QoS::ExactlyOnce,
    }
}

/// The instance's view of the capability.
pub(super) type View<'a> = CapabilityView<'a, OutboundMqtt>;

impl bindings::fermyon::spin::mqtt::Host for View<'_> {}

impl bindings::fermyon::spin::mqtt::HostConnection for View<'_> {
    async fn open(
        &mut self,
        address: String,
        username: String,
        password: String,
        keep_alive_interval_in_secs: u64,
    ) -> wasmtime::Result<Result<Resource<MqttConnection>, Error>> {
        match prepare(self.state, &address, username, password, keep_alive_interval_in_secs) {
            Ok(pending) => match pending.admit().await {
                Ok(conn) => Ok(Ok(self.table.push(conn)?)),
                Err(e) => Ok(Err(e)),
            },
            Err(e) => Ok(Err(e)),
        }
    }

    async fn publish(
        &mut self,
        res: Resource<MqttConnection>,
        topic: String,
        payload: Vec<u8>,
        q: Qos,
    ) -> wasmtime::Result<Result<(), Error>> {
        let session = self.table.get(&res)?.session();
        Ok(session.publish(topic, payload, q).await)
    }

    async fn drop(&mut self, res: Resource<MqttConnection>) -> wasmtime::Result<()> {
        self.table.delete(res)?.session.close().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(address: &str) -> MqttOptions {
        let dest = Destination::parse(address).unwrap();
        client_options(address, &dest, "comp", "u".into(), "p".into(), 30).unwrap()
    }

    #[test]
    fn client_id_from_the_address_or_generated() {
        let o = options("mqtt://127.0.0.1:1999?client_id=abc");
        assert_eq!(o.client_id(), "abc");
        assert_eq!(o.broker_address(), ("127.0.0.1".to_string(), 1999));
        assert_eq!(o.keep_alive(), Duration::from_secs(30));
        let generated = options("mqtt://broker").client_id();
        assert!(generated.starts_with("spin-comp-"), "{generated}");
        assert_ne!(generated, options("mqtt://broker").client_id());
        assert_eq!(options("mqtt://broker").broker_address().1, 1883);
    }

    #[tokio::test]
    async fn open_connections_are_capped_per_instance() {
        use bindings::fermyon::spin::mqtt::HostConnection as _;
        let template = crate::host::InstanceTemplate::for_tests(&["mqtt://127.0.0.1:1883"], 2);
        let mut host = template.instantiate_state(&[], None, None).unwrap();
        let mut state = HasCapability::<OutboundMqtt>::capability(&mut host);
        let address = || "mqtt://127.0.0.1:1883".to_string();
        let a = state.open(address(), String::new(), String::new(), 30).await.unwrap().ok().unwrap();
        let _b = state.open(address(), String::new(), String::new(), 30).await.unwrap().ok().unwrap();
        let third = state.open(address(), String::new(), String::new(), 30).await.unwrap();
        assert!(matches!(third, Err(Error::TooManyConnections)));
        bindings::fermyon::spin::mqtt::HostConnection::drop(&mut state, a).await.unwrap();
        assert!(state.open(address(), String::new(), String::new(), 30).await.unwrap().is_ok());
    }
}
