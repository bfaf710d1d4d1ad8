//! The MQTT client settings of one trigger's connection: a stable client id,
//! credentials, keep-alive, manual acknowledgements and a persistent session, so the
//! broker keeps QoS 1/2 messages for the trigger while its connection is down or
//! its process restarts.

use rumqttc::MqttOptions;

use crate::config::{BrokerConfig, Qos};

/// Largest message accepted in either direction (the MQTT maximum).
const MAX_PACKET_SIZE: usize = 256 * 1024 * 1024;
/// Messages received and not yet handled, per trigger.
pub(crate) const QUEUE_CAPACITY: usize = 32;
/// Requests (mostly acknowledgements) queued between the client handle and its
/// event loop: room for one per queued message and then some.
pub(crate) const REQUEST_CAPACITY: usize = QUEUE_CAPACITY + 16;

/// The client id of `trigger_id`'s connection. An explicit `client_id` in the address
/// is used as given when `shared` is false (the app has one MQTT trigger) and with
/// `-<trigger id>` appended otherwise; without one, it is made of the host name (the
/// Pod name), the app name and the trigger id: stable across restarts of the app,
/// so the broker's session (and what it queued meanwhile) is found again, and
/// distinct between replicas, so they never take over each other's sessions.
pub(crate) fn client_id(broker: &BrokerConfig, app_name: &str, trigger_id: &str, shared: bool) -> String {
    match &broker.client_id {
        Some(id) if !shared => id.clone(),
        Some(id) => format!("{id}-{trigger_id}"),
        None => format!("spin-{}-{app_name}-{trigger_id}", host_name()),
    }
}

/// This machine's host name (the Pod name in Kubernetes), or `host`.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_string())
}

/// Client settings for one connection to `broker` under `client_id`.
pub(crate) fn options(broker: &BrokerConfig, client_id: String) -> MqttOptions {
    let mut o = MqttOptions::new(client_id, broker.host.clone(), broker.port);
    o.set_keep_alive(broker.keep_alive);
    o.set_clean_session(false);
    o.set_manual_acks(true);
    o.set_max_packet_size(MAX_PACKET_SIZE, MAX_PACKET_SIZE);
    o.set_request_channel_capacity(REQUEST_CAPACITY);
    if !broker.username.is_empty() || !broker.password.is_empty() {
        o.set_credentials(broker.username.clone(), broker.password.clone());
    }
    o
}

/// The rumqttc QoS of a configured level.
pub(crate) fn qos(q: Qos) -> rumqttc::QoS {
    match q {
        Qos::AtMostOnce => rumqttc::QoS::AtMostOnce,
        Qos::AtLeastOnce => rumqttc::QoS::AtLeastOnce,
        Qos::ExactlyOnce => rumqttc::QoS::ExactlyOnce,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn broker(client_id: Option<&str>) -> BrokerConfig {
        BrokerConfig {
            address: "mqtt://127.0.0.1:1999".into(),
            host: "127.0.0.1".into(),
            port: 1999,
            client_id: client_id.map(str::to_string),
            username: String::new(),
            password: String::new(),
            keep_alive: Duration::from_secs(7),
        }
    }

    #[test]
    fn client_ids_are_explicit_or_stable_per_host_app_and_trigger() {
        assert_eq!(client_id(&broker(Some("me")), "app", "t", false), "me");
        assert_eq!(client_id(&broker(Some("me")), "app", "t", true), "me-t");
        let generated = client_id(&broker(None), "app", "t", false);
        assert!(generated.starts_with("spin-") && generated.ends_with("-app-t"), "{generated}");
        assert_eq!(client_id(&broker(None), "app", "t", false), generated, "the id must survive a restart");
        assert!(!generated.contains(&std::process::id().to_string()), "{generated}");
    }

    #[test]
    fn options_keep_the_session_and_settings() {
        let o = options(&broker(None), "id".into());
        assert_eq!((o.client_id(), o.broker_address()), ("id".to_string(), ("127.0.0.1".to_string(), 1999)));
        assert!(!o.clean_session() && o.manual_acks());
        assert_eq!(o.keep_alive(), Duration::from_secs(7));
        assert!(o.credentials().is_none());
    }
}
