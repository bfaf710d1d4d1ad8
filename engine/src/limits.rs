//! The bounds every guest runs under, on by default. The runner builds them
//! once at its edge (the shim from the container's environment, the CLI from
//! its flags) and passes them down.

mod sampled;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

pub use sampled::{Sample, Sampled};

/// Wall-clock limit on one event unless `SPIN_REQUEST_TIMEOUT` says otherwise.
pub const DEFAULT_EVENT_TIMEOUT: Duration = Duration::from_secs(60);
/// Memory cap per instance (all linear memories and tables together).
pub const DEFAULT_MAX_INSTANCE_MEMORY: u64 = 256 << 20;
/// Instances one trigger runs at the same time.
pub const DEFAULT_MAX_CONCURRENT_EVENTS: usize = 100;
/// Largest wasm file accepted for one component (a Python component is about 40 MB).
pub const DEFAULT_MAX_COMPONENT_SIZE: u64 = 100 << 20;
/// Largest total of wasm an app may bring.
pub const DEFAULT_MAX_APP_WASM_SIZE: u64 = 400 << 20;
/// Largest request body buffered for a Spin 1 (`fermyon:spin/inbound-http`) guest.
pub const DEFAULT_MAX_BUFFERED_BODY: u64 = 32 << 20;
/// Outbound connections (HTTP, Redis, MQTT) one instance may hold open.
pub const DEFAULT_MAX_OUTBOUND_CONNECTIONS: usize = 64;

/// The bounds of every guest of one app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestLimits {
    /// Wall-clock limit on one event of a non-HTTP trigger (message, tick).
    pub event_timeout: Option<Duration>,
    /// Wall-clock limit on one HTTP request (a range draws one per request).
    pub http_request_timeout: Option<Sampled<Duration>>,
    /// Bytes of linear memory and table storage one instance may hold, all together.
    pub max_instance_memory: u64,
    /// Instances one trigger runs at the same time; more events wait or are refused.
    pub max_concurrent_events: usize,
    /// Largest wasm accepted for one component, in bytes.
    pub max_component_size: u64,
    /// Largest total wasm of the app, in bytes.
    pub max_app_wasm_size: u64,
    /// Largest request body buffered for a Spin 1 HTTP guest, in bytes.
    pub max_buffered_body: u64,
    /// Outbound connections one instance may hold open.
    pub max_outbound_connections: usize,
}

impl Default for GuestLimits {
    fn default() -> Self {
        Self {
            event_timeout: Some(DEFAULT_EVENT_TIMEOUT),
            http_request_timeout: Some(Sampled::Value(DEFAULT_EVENT_TIMEOUT)),
            max_instance_memory: DEFAULT_MAX_INSTANCE_MEMORY,
            max_concurrent_events: DEFAULT_MAX_CONCURRENT_EVENTS,
            max_component_size: DEFAULT_MAX_COMPONENT_SIZE,
            max_app_wasm_size: DEFAULT_MAX_APP_WASM_SIZE,
            max_buffered_body: DEFAULT_MAX_BUFFERED_BODY,
            max_outbound_connections: DEFAULT_MAX_OUTBOUND_CONNECTIONS,
        }
    }
}

impl GuestLimits {
    /// Slots for one trigger's instances running at once, `max_concurrent_events` of them.
    pub fn event_slots(&self) -> Arc<Semaphore> {
        Arc::new(Semaphore::new(self.max_concurrent_events.min(Semaphore::MAX_PERMITS)))
    }
}
