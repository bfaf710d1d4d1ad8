//! A real mosquitto on 127.0.0.1 for tests (Debian's `mosquitto`, anonymous access,
//! no persistence), stoppable and restartable on the same port to simulate a broker
//! outage, plus MQTT clients (the real `rumqttc`) to publish and to collect what
//! arrives on a topic.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, Incoming, MqttOptions, Outgoing, QoS};

use crate::process::{free_port, Running};

/// How long mosquitto may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one publish may wait for the broker's PUBACK.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);

/// Numbers the test clients' ids.
static NEXT_CLIENT: AtomicU64 = AtomicU64::new(1);

/// The `mosquitto` binary (Debian installs it in /usr/sbin, which may not be on PATH).
fn mosquitto_bin() -> PathBuf {
    let sbin = PathBuf::from("/usr/sbin/mosquitto");
    if sbin.is_file() {
        return sbin;
    }
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| {
        panic!("mosquitto not found: run `bash integration/scripts/setup-host.sh` (apt-get install mosquitto)")
    })
}

/// A running mosquitto; killed when dropped.
pub struct Mosquitto {
    process: Option<Running>,
    config: PathBuf,
    /// The port it listens on (kept across restarts).
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    /// Starts `mosquitto -c <conf>` listening on a free port of 127.0.0.1 and waits
    /// until it accepts connections.
    pub fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let port = free_port();
        let config = dir.path().join("mosquitto.conf");
        std::fs::write(
            &config,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n"),
        )?;
        let mut broker = Self { process: None, config, port, _dir: dir };
        broker.restart()?;
        Ok(broker)
    }

    /// `mqtt://127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Kills the broker (every connection drops, every session is lost).
    pub fn stop(&mut self) {
        self.process.take();
    }

    /// Starts the broker again on the same port (after [`Mosquitto::stop`]).
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let mut cmd = Command::new(mosquitto_bin());
        cmd.arg("-c").arg(&self.config);
        let mut process = Running::spawn(cmd)?;
        let end = Instant::now() + START_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(code) = process.try_status() {
                anyhow::bail!("mosquitto exited with {code}:\n{}", process.output());
            }
            anyhow::ensure!(Instant::now() < end, "mosquitto did not listen on {}:\n{}", self.port, process.output());
            std::thread::sleep(Duration::from_millis(50));
        }
        self.process = Some(process);
        Ok(())
    }

    fn client_options(&self, role: &str) -> MqttOptions {
        client_options(self.port, role)
    }

    /// Publishes `payload` to `topic` at QoS 1 and waits for the broker's PUBACK.
    pub fn publish(&self, topic: &str, payload: &str) -> anyhow::Result<()> {
        publish_at(self.port, topic, payload)
    }

    /// Subscribes to `topic` (QoS 1) in the background, resubscribing after every
    /// reconnect; returns once the subscription is active.
    pub fn subscribe(&self, topic: &str) -> anyhow::Result<Subscriber> {
        let (client, mut connection) = Client::new(self.client_options("sub"), 10);
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let (topic, stopped, sub_client) = (topic.to_string(), stop.clone(), client.clone());
        std::thread::spawn(move || {
            for event in connection.iter() {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                match event {
                    Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                        let _ = sub_client.try_subscribe(topic.clone(), QoS::AtLeastOnce);
                    }
                    Ok(Event::Incoming(Incoming::SubAck(_))) => {
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Incoming(Incoming::Publish(p))) => {
                        let _ = tx.send(String::from_utf8_lossy(&p.payload).into_owned());
                    }
                    Ok(_) => {}
                    Err(_) => std::thread::sleep(Duration::from_millis(200)),
                }
            }
        });
        ready_rx
            .recv_timeout(START_TIMEOUT)
            .map_err(|_| anyhow::anyhow!("no SUBACK for the test subscriber within {START_TIMEOUT:?}"))?;
        Ok(Subscriber { client, messages: rx, stop })
    }
}

/// Settings of a test client of the broker on `port`, with a unique client id.
fn client_options(port: u16, role: &str) -> MqttOptions {
    let n = NEXT_CLIENT.fetch_add(1, Ordering::Relaxed);
    let mut o = MqttOptions::new(format!("test-{role}-{}-{n}", std::process::id()), "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(5));
    o
}

/// Publishes `payload` to `topic` at QoS 1 on the broker at `port` and waits for
/// its PUBACK (usable from any thread: it needs only the port).
pub fn publish_at(port: u16, topic: &str, payload: &str) -> anyhow::Result<()> {
    let (client, mut connection) = Client::new(client_options(port, "pub"), 10);
    client.publish(topic, QoS::AtLeastOnce, false, payload.as_bytes().to_vec())?;
    let end = Instant::now() + PUBLISH_TIMEOUT;
    loop {
        let left = end.checked_duration_since(Instant::now()).unwrap_or_default();
        match connection.recv_timeout(left) {
            Ok(Ok(Event::Incoming(Incoming::PubAck(_)))) => break,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => anyhow::bail!("publishing to {topic}: {e}"),
            Err(_) => anyhow::bail!("publishing to {topic}: no PUBACK within {PUBLISH_TIMEOUT:?}"),
        }
    }
    let _ = client.disconnect();
    for event in connection.iter() {
        if matches!(event, Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_)) {
            break;
        }
    }
    Ok(())
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Messages arriving on one topic, collected by a background client.
pub struct Subscriber {
    client: Client,
    messages: mpsc::Receiver<String>,
    stop: Arc<AtomicBool>,
}

impl Subscriber {
    /// Waits up to `timeout` for a message satisfying `wanted`; returns it. Other
    /// messages are skipped.
    pub fn wait_for(&self, timeout: Duration, wanted: impl Fn(&str) -> bool) -> Option<String> {
        let end = Instant::now() + timeout;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.messages.recv_timeout(left) {
                Ok(m) if wanted(&m) => return Some(m),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }

    /// Every message received and not yet taken.
    pub fn drain(&self) -> Vec<String> {
        self.messages.try_iter().collect()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.client.try_disconnect();
    }
}
