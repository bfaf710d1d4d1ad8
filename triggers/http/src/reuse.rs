//! How WASI 0.3 instances serve more than one request (Spin 4's instance
//! reuse). A 0.2 or Spin 1 component gets a fresh instance per request
//! whatever these say, as in Spin.

use std::time::Duration;

use spin_engine::limits::Sampled;

/// Requests one instance serves in its life, unless configured (Spin 4's default).
pub const DEFAULT_MAX_INSTANCE_REUSE_COUNT: usize = 128;
/// Requests one instance serves at the same time, unless configured (Spin 4's default).
pub const DEFAULT_MAX_INSTANCE_CONCURRENT_REUSE_COUNT: usize = 16;
/// How long an idle instance waits for another request, unless configured.
pub const DEFAULT_IDLE_INSTANCE_TIMEOUT: Duration = Duration::from_secs(1);

/// Instance reuse for WASI 0.3 components; each range is drawn once per new instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceReuse {
    /// Requests an instance serves before it is retired (1 turns reuse off).
    pub max_requests: Sampled<usize>,
    /// Requests an instance serves at once, when the guest accepts them.
    pub max_concurrent: Sampled<usize>,
    /// Idle time after which an instance is dropped.
    pub idle_timeout: Sampled<Duration>,
}

impl Default for InstanceReuse {
    fn default() -> Self {
        Self {
            max_requests: Sampled::Value(DEFAULT_MAX_INSTANCE_REUSE_COUNT),
            max_concurrent: Sampled::Value(DEFAULT_MAX_INSTANCE_CONCURRENT_REUSE_COUNT),
            idle_timeout: Sampled::Value(DEFAULT_IDLE_INSTANCE_TIMEOUT),
        }
    }
}
