//! Settings read once, at the edge: the container's environment (or the CLI's
//! environment and flags) parsed into one value that is passed down. Nothing
//! below the shim reads the environment, and nothing changes it.

mod cache;
mod engine;
mod env;
mod limits;
mod telemetry;
mod triggers;

use std::collections::BTreeMap;

use spin_engine::limits::GuestLimits;
use spin_engine::runtime::EngineOptions;
use spin_engine::runtime_config::RuntimeConfig;
use spin_engine::telemetry::TelemetrySettings;

pub(crate) use cache::{cache_max_bytes, COMPILE_CACHE_MAX};
pub(crate) use engine::{engine_options, WASMTIME_POOLING};
pub(crate) use limits::{cgroup_memory_limit, vars};
pub(crate) use triggers::{listener_vars, reuse_vars, TriggerSettings};

/// The runner's settings for one app.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// The bounds of every guest.
    pub limits: GuestLimits,
    /// The wasmtime engine's tunables.
    pub engine: EngineOptions,
    /// What the trigger plugins need (HTTP listener, SQS client, command args).
    pub triggers: TriggerSettings,
    /// Where request traces and counts go (`OTEL_EXPORTER_OTLP_*`), if anywhere.
    pub telemetry: TelemetrySettings,
    /// The authority (`host:port`) guests' plain HTTP requests reach over
    /// HTTP/2 with prior knowledge (`SPIN_OUTBOUND_H2C_PRIOR_KNOWLEDGE`), if any.
    pub h2c_authority: Option<String>,
}

impl Settings {
    /// Parses `env` for an app whose HTTP trigger listens on `http_listen` and
    /// whose command component gets `guest_args`; a malformed value is an error
    /// naming its variable. `memory_ceiling` is the container's memory limit when
    /// known (the default instance cap is at most half of it); the runtime
    /// config's `max_instance_memory` replaces that default.
    pub(crate) fn from_env(
        env: &BTreeMap<String, String>,
        http_listen: String,
        guest_args: Vec<String>,
        memory_ceiling: Option<u64>,
        runtime_config: Option<&RuntimeConfig>,
    ) -> anyhow::Result<Self> {
        let configured_memory = runtime_config.and_then(|c| c.max_instance_memory).map(|m| m as u64);
        Ok(Self {
            limits: limits::guest_limits(env, memory_ceiling, configured_memory)?,
            engine: engine_options(env)?,
            triggers: TriggerSettings::from_env(http_listen, guest_args, env)?,
            telemetry: telemetry::telemetry_settings(env),
            h2c_authority: h2c_authority(env)?,
        })
    }
}

/// `SPIN_OUTBOUND_H2C_PRIOR_KNOWLEDGE`: an authority as a request URI writes
/// it (`backend:8080`), matched exactly, as Spin matches it.
fn h2c_authority(vars: &BTreeMap<String, String>) -> anyhow::Result<Option<String>> {
    const NAME: &str = "SPIN_OUTBOUND_H2C_PRIOR_KNOWLEDGE";
    let Some(value) = env::env_value(vars, NAME) else { return Ok(None) };
    match value.parse::<http::uri::Authority>() {
        Ok(authority) if !authority.as_str().contains('@') => Ok(Some(authority.as_str().to_owned())),
        _ => anyhow::bail!(
            "environment variable {NAME}={value:?} is invalid: expected an authority such as backend:8080"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_h2c_authority_is_a_host_and_port_as_uris_write_them() {
        let env = |value: &str| BTreeMap::from([("SPIN_OUTBOUND_H2C_PRIOR_KNOWLEDGE".to_string(), value.to_string())]);
        assert_eq!(h2c_authority(&env("backend:8080")).unwrap().as_deref(), Some("backend:8080"));
        assert_eq!(h2c_authority(&env(" ")).unwrap(), None);
        assert_eq!(h2c_authority(&BTreeMap::new()).unwrap(), None);
        for wrong in ["http://backend:8080", "user@backend", "back end"] {
            let e = h2c_authority(&env(wrong)).unwrap_err().to_string();
            assert!(
                e.contains("SPIN_OUTBOUND_H2C_PRIOR_KNOWLEDGE") && e.contains("expected an authority"),
                "{wrong}: {e}"
            );
        }
    }
}
