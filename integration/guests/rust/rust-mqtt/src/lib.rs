//! An MQTT component (`spin:mqtt-trigger`, world `spin-mqtt`): for every message it
//! prints `mqtt: <topic> <payload>` and publishes `echo:<payload>` to `shim/out`
//! through outbound MQTT at the broker named by the variable `mqtt_address`.

wit_bindgen::generate!({
    world: "spin-mqtt",
    path: "wit",
    exports: {
        world: Echo,
    },
});

use spin_sdk::mqtt::{Connection, Qos};

/// Where the echoes go.
const OUT_TOPIC: &str = "shim/out";

struct Echo;

impl Guest for Echo {
    fn handle_message(message: Payload, metadata: Metadata) -> Result<(), Error> {
        let text = String::from_utf8_lossy(&message).into_owned();
        println!("mqtt: {} {}", metadata.topic, text);
        let address = spin_sdk::variables::get("mqtt_address")
            .map_err(|e| failed("reading variable mqtt_address", format!("{e:?}")))?;
        let conn = Connection::open(&with_client_id(&address), "", "", 30)
            .map_err(|e| failed("opening the connection", format!("{e:?}")))?;
        conn.publish(OUT_TOPIC, &format!("echo:{text}").into_bytes(), Qos::AtLeastOnce)
            .map_err(|e| failed("publishing", format!("{e:?}")))?;
        Ok(())
    }
}

/// Spin's outbound MQTT wants a `client_id` in the address; one per call.
fn with_client_id(address: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let sep = if address.contains('?') { '&' } else { '?' };
    format!("{address}{sep}client_id=rust-mqtt-{nanos}")
}

/// Reports a failed step on stderr and turns it into the handler's error.
fn failed(step: &str, detail: String) -> Error {
    eprintln!("rust-mqtt: {step} failed: {detail}");
    Error::Other(format!("{step} failed: {detail}"))
}
