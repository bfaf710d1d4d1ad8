//! Settings read once, at the edge: the container's environment (or the CLI's
//! environment and flags) parsed into one value that is passed down. Nothing
//! below the shim reads the environment, and nothing changes it.

mod engine;
mod env;
mod limits;
mod triggers;

use std::collections::BTreeMap;

use spin_engine::limits::GuestLimits;
use spin_engine::runtime::EngineOptions;

pub(crate) use engine::engine_options;
pub(crate) use limits::{cgroup_memory_limit, vars};
pub(crate) use triggers::TriggerSettings;

/// The runner's settings for one app.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// The bounds of every guest.
    pub limits: GuestLimits,
    /// The wasmtime engine's tunables.
    pub engine: EngineOptions,
    /// What the trigger plugins need (HTTP listener, SQS client, command args).
    pub triggers: TriggerSettings,
}

/// What bounds the default per-instance memory cap besides the environment.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MemoryBounds {
    /// The container's memory limit, when known: the default cap is at most half of it.
    pub ceiling: Option<u64>,
    /// The runtime config's `max_instance_memory`, which replaces the default.
    pub configured: Option<u64>,
}

impl Settings {
    /// Parses `env` for an app whose HTTP trigger listens on `http_listen` and
    /// whose command component gets `guest_args`; a malformed value is an error
    /// naming its variable.
    pub(crate) fn from_env(
        env: &BTreeMap<String, String>,
        http_listen: String,
        guest_args: Vec<String>,
        memory: MemoryBounds,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            limits: limits::guest_limits(env, memory.ceiling, memory.configured)?,
            engine: engine_options(env)?,
            triggers: TriggerSettings::from_env(http_listen, guest_args, env)?,
        })
    }
}
