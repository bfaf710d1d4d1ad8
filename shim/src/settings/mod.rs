//! Settings read once, at the edge: the container's environment (or the CLI's
//! environment and flags) parsed into one value that is passed down. Nothing
//! below the shim reads the environment, and nothing changes it.

mod engine;
mod env;
mod limits;

use std::collections::BTreeMap;

use spin_engine::limits::GuestLimits;
use spin_engine::runtime::EngineOptions;

pub(crate) use engine::engine_options;
pub(crate) use env::{env_count, env_duration, env_size, env_value};
pub(crate) use limits::{cgroup_memory_limit, vars};

/// The runner's settings for one app.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The bounds of every guest.
    pub limits: GuestLimits,
    /// The wasmtime engine's tunables.
    pub engine: EngineOptions,
}

impl Settings {
    /// Parses `env`. `memory_ceiling` is the container's memory limit when known
    /// (the default instance cap is at most half of it); `configured_memory` is
    /// the runtime config's `max_instance_memory`.
    pub fn from_env(
        env: &BTreeMap<String, String>,
        memory_ceiling: Option<u64>,
        configured_memory: Option<u64>,
    ) -> anyhow::Result<Self> {
        Ok(Self { limits: limits::guest_limits(env, memory_ceiling, configured_memory)?, engine: engine_options(env)? })
    }
}
