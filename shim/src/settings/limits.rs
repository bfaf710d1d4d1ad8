//! The guest limits from the environment: the `SPIN_*` variables of the README's
//! table over the engine's defaults, and the container's memory limit.

use std::collections::BTreeMap;

use spin_engine::limits::GuestLimits;

use spin_engine::limits::Sampled;

use super::env::{env_count, env_size, env_value, optional_duration, parse_duration, sampled, DURATION};

/// The environment variables read here, for docs and error messages.
pub(crate) mod vars {
    /// Wall-clock limit on one event, host calls included (`60s`; `none` disables).
    pub(crate) const REQUEST_TIMEOUT: &str = "SPIN_REQUEST_TIMEOUT";
    /// The HTTP trigger's own limit; wins over `SPIN_REQUEST_TIMEOUT` for HTTP
    /// (a range `a..b` draws one per request).
    pub(crate) const HTTP_REQUEST_TIMEOUT: &str = "SPIN_HTTP_REQUEST_TIMEOUT";
    /// Memory cap per instance (`256Mi`).
    pub(crate) const MAX_INSTANCE_MEMORY: &str = "SPIN_MAX_INSTANCE_MEMORY";
    /// Instances one trigger runs at once (`100`).
    pub(crate) const MAX_CONCURRENT_REQUESTS: &str = "SPIN_MAX_CONCURRENT_REQUESTS";
    /// Largest component wasm (`100Mi`).
    pub(crate) const MAX_COMPONENT_SIZE: &str = "SPIN_MAX_COMPONENT_SIZE";
    /// Largest total wasm of an app (`400Mi`).
    pub(crate) const MAX_APP_WASM_SIZE: &str = "SPIN_MAX_APP_WASM_SIZE";
    /// Largest Spin 1 request body (`32Mi`).
    pub(crate) const MAX_BUFFERED_BODY: &str = "SPIN_MAX_REQUEST_BODY";
    /// Outbound connections per instance (`64`).
    pub(crate) const MAX_OUTBOUND_CONNECTIONS: &str = "SPIN_MAX_OUTBOUND_CONNECTIONS";
}

/// Defaults overridden by the variables in `env`. `memory_ceiling` is the
/// container's memory limit when known: the default instance cap is then at
/// most half of it, so one request can never get the Pod OOM-killed.
/// `configured_memory` (the runtime config's `max_instance_memory`) replaces
/// that default; `SPIN_MAX_INSTANCE_MEMORY` wins over both.
pub(crate) fn guest_limits(
    env: &BTreeMap<String, String>,
    memory_ceiling: Option<u64>,
    configured_memory: Option<u64>,
) -> anyhow::Result<GuestLimits> {
    let mut limits = GuestLimits::default();
    if let Some(ceiling) = memory_ceiling {
        limits.max_instance_memory = limits.max_instance_memory.min(ceiling / 2);
    }
    if let Some(configured) = configured_memory {
        limits.max_instance_memory = configured;
    }
    if let Some(v) = env_value(env, vars::REQUEST_TIMEOUT) {
        limits.event_timeout = optional_duration(vars::REQUEST_TIMEOUT, v)?;
        limits.http_request_timeout = limits.event_timeout.map(Sampled::Value);
    }
    if let Some(v) = env_value(env, vars::HTTP_REQUEST_TIMEOUT) {
        limits.http_request_timeout = match v {
            "none" | "off" => None,
            v => Some(sampled(vars::HTTP_REQUEST_TIMEOUT, v, parse_duration, DURATION)?),
        };
    }
    override_with(&mut limits.max_instance_memory, env_size(env, vars::MAX_INSTANCE_MEMORY)?);
    override_with(&mut limits.max_concurrent_events, env_count(env, vars::MAX_CONCURRENT_REQUESTS)?);
    override_with(&mut limits.max_component_size, env_size(env, vars::MAX_COMPONENT_SIZE)?);
    override_with(&mut limits.max_app_wasm_size, env_size(env, vars::MAX_APP_WASM_SIZE)?);
    override_with(&mut limits.max_buffered_body, env_size(env, vars::MAX_BUFFERED_BODY)?);
    override_with(&mut limits.max_outbound_connections, env_count(env, vars::MAX_OUTBOUND_CONNECTIONS)?);
    Ok(limits)
}

fn override_with<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

/// The memory limit of the cgroup this process runs in (v2 `memory.max`, or v1
/// `memory.limit_in_bytes`); `None` when unlimited or unreadable.
pub(crate) fn cgroup_memory_limit() -> Option<u64> {
    ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"].iter().find_map(|path| {
        let text = std::fs::read_to_string(path).ok()?;
        // v1 reports "unlimited" as a page-rounded i64::MAX.
        text.trim().parse::<u64>().ok().filter(|&v| v < 1 << 60)
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_bound_every_guest() {
        let l = guest_limits(&env(&[]), None, None).unwrap();
        assert_eq!(l.event_timeout, Some(Duration::from_secs(60)));
        assert_eq!(l.http_request_timeout, Some(Sampled::Value(Duration::from_secs(60))));
        assert_eq!(l.max_instance_memory, 256 << 20);
        assert_eq!(l.max_concurrent_events, 100);
    }

    #[test]
    fn memory_default_is_at_most_half_the_container_limit() {
        assert_eq!(guest_limits(&env(&[]), Some(128 << 20), None).unwrap().max_instance_memory, 64 << 20);
        assert_eq!(guest_limits(&env(&[]), Some(8 << 30), None).unwrap().max_instance_memory, 256 << 20);
        // The runtime config's value replaces the default; the variable wins over both.
        assert_eq!(guest_limits(&env(&[]), Some(128 << 20), Some(96 << 20)).unwrap().max_instance_memory, 96 << 20);
        let explicit = env(&[("SPIN_MAX_INSTANCE_MEMORY", "100Mi")]);
        assert_eq!(guest_limits(&explicit, Some(128 << 20), Some(32 << 20)).unwrap().max_instance_memory, 100 << 20);
    }

    #[test]
    fn http_timeout_overrides_the_general_one() {
        let l =
            guest_limits(&env(&[("SPIN_REQUEST_TIMEOUT", "5s"), ("SPIN_HTTP_REQUEST_TIMEOUT", "250ms")]), None, None)
                .unwrap();
        assert_eq!(l.event_timeout, Some(Duration::from_secs(5)));
        assert_eq!(l.http_request_timeout, Some(Sampled::Value(Duration::from_millis(250))));
        let range = guest_limits(&env(&[("SPIN_HTTP_REQUEST_TIMEOUT", "1s..3s")]), None, None).unwrap();
        let (low, high) = (Duration::from_secs(1), Duration::from_secs(3));
        assert_eq!(range.http_request_timeout, Some(Sampled::Range { low, high }));
        let off = guest_limits(&env(&[("SPIN_REQUEST_TIMEOUT", "none")]), None, None).unwrap();
        assert_eq!((off.event_timeout, off.http_request_timeout), (None, None));
    }

    #[test]
    fn absurd_values_are_start_up_errors_not_panics() {
        for (name, value) in [
            ("SPIN_REQUEST_TIMEOUT", "99999999999999999999s"),
            ("SPIN_REQUEST_TIMEOUT", "18446744073709551615h"),
            ("SPIN_REQUEST_TIMEOUT", "0"),
            ("SPIN_REQUEST_TIMEOUT", "-1s"),
            ("SPIN_MAX_INSTANCE_MEMORY", "18446744073709551615G"),
            ("SPIN_MAX_INSTANCE_MEMORY", "0"),
            ("SPIN_MAX_INSTANCE_MEMORY", "lots"),
            ("SPIN_MAX_CONCURRENT_REQUESTS", "0"),
            ("SPIN_MAX_CONCURRENT_REQUESTS", "99999999999999999999999"),
            ("SPIN_MAX_COMPONENT_SIZE", "5T"),
            ("SPIN_HTTP_REQUEST_TIMEOUT", "3s..1s"),
            ("SPIN_HTTP_REQUEST_TIMEOUT", "0..1s"),
        ] {
            let err = guest_limits(&env(&[(name, value)]), None, None).unwrap_err().to_string();
            assert!(err.contains(name), "{name}={value}: {err}");
        }
    }
}
