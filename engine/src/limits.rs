//! The bounds every guest runs under, on by default, and the environment
//! variables that change them. Parsed once at start-up from a map (the
//! container's env, or the CLI's), with checked arithmetic: an absurd value is a
//! start-up error, never a panic or an overflow later.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

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

/// The environment variables read here, for docs and error messages.
pub mod vars {
    /// Wall-clock limit on one event, host calls included (`60s`; `none` disables).
    pub const REQUEST_TIMEOUT: &str = "SPIN_REQUEST_TIMEOUT";
    /// The HTTP trigger's own limit; wins over `SPIN_REQUEST_TIMEOUT` for HTTP.
    pub const HTTP_REQUEST_TIMEOUT: &str = "SPIN_HTTP_REQUEST_TIMEOUT";
    /// Memory cap per instance (`256Mi`).
    pub const MAX_INSTANCE_MEMORY: &str = "SPIN_MAX_INSTANCE_MEMORY";
    /// Instances one trigger runs at once (`100`).
    pub const MAX_CONCURRENT_REQUESTS: &str = "SPIN_MAX_CONCURRENT_REQUESTS";
    /// Largest component wasm (`100Mi`).
    pub const MAX_COMPONENT_SIZE: &str = "SPIN_MAX_COMPONENT_SIZE";
    /// Largest total wasm of an app (`400Mi`).
    pub const MAX_APP_WASM_SIZE: &str = "SPIN_MAX_APP_WASM_SIZE";
    /// Largest Spin 1 request body (`32Mi`).
    pub const MAX_BUFFERED_BODY: &str = "SPIN_MAX_REQUEST_BODY";
    /// Outbound connections per instance (`64`).
    pub const MAX_OUTBOUND_CONNECTIONS: &str = "SPIN_MAX_OUTBOUND_CONNECTIONS";
}

/// The bounds of every guest of one app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestLimits {
    /// Wall-clock limit on one event of a non-HTTP trigger (message, tick).
    pub event_timeout: Option<Duration>,
    /// Wall-clock limit on one HTTP request.
    pub http_request_timeout: Option<Duration>,
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
            http_request_timeout: Some(DEFAULT_EVENT_TIMEOUT),
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
    /// Defaults overridden by the variables in `env`. `memory_ceiling` is the
    /// container's memory limit when known: the default instance cap is then at
    /// most half of it, so one request can never get the Pod OOM-killed.
    /// `configured_memory` (the runtime config's `max_instance_memory`) replaces
    /// that default; `SPIN_MAX_INSTANCE_MEMORY` wins over both.
    pub fn from_env(
        env: &BTreeMap<String, String>,
        memory_ceiling: Option<u64>,
        configured_memory: Option<u64>,
    ) -> anyhow::Result<Self> {
        let mut limits = Self::default();
        if let Some(ceiling) = memory_ceiling {
            limits.max_instance_memory = limits.max_instance_memory.min(ceiling / 2);
        }
        if let Some(configured) = configured_memory {
            limits.max_instance_memory = configured;
        }
        if let Some(v) = env_value(env, vars::REQUEST_TIMEOUT) {
            limits.event_timeout = optional_duration(vars::REQUEST_TIMEOUT, v)?;
            limits.http_request_timeout = limits.event_timeout;
        }
        if let Some(v) = env_value(env, vars::HTTP_REQUEST_TIMEOUT) {
            limits.http_request_timeout = optional_duration(vars::HTTP_REQUEST_TIMEOUT, v)?;
        }
        override_with(&mut limits.max_instance_memory, env_size(env, vars::MAX_INSTANCE_MEMORY)?);
        override_with(&mut limits.max_concurrent_events, env_count(env, vars::MAX_CONCURRENT_REQUESTS)?);
        override_with(&mut limits.max_component_size, env_size(env, vars::MAX_COMPONENT_SIZE)?);
        override_with(&mut limits.max_app_wasm_size, env_size(env, vars::MAX_APP_WASM_SIZE)?);
        override_with(&mut limits.max_buffered_body, env_size(env, vars::MAX_BUFFERED_BODY)?);
        override_with(&mut limits.max_outbound_connections, env_count(env, vars::MAX_OUTBOUND_CONNECTIONS)?);
        Ok(limits)
    }

    /// Slots for one trigger's instances running at once, `max_concurrent_events` of them.
    pub fn event_slots(&self) -> Arc<Semaphore> {
        Arc::new(Semaphore::new(self.max_concurrent_events.min(Semaphore::MAX_PERMITS)))
    }
}

/// What a duration variable holds.
const DURATION: &str = "a duration such as 500ms, 30s, 2m or 1h";

fn override_with<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

/// The trimmed value of `name` in `env`; `None` when unset or blank.
pub fn env_value<'a>(env: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// A positive duration (`500ms`, `30s`, `2m`, `1h`) from `env`; an error naming
/// the variable when it is malformed, zero or beyond a day.
pub fn env_duration(env: &BTreeMap<String, String>, name: &str) -> anyhow::Result<Option<Duration>> {
    env_value(env, name).map(|v| positive(name, parse_duration(v), v, DURATION)).transpose()
}

/// A positive byte size (`4096`, `128Mi`, `1G`) from `env`.
pub fn env_size(env: &BTreeMap<String, String>, name: &str) -> anyhow::Result<Option<u64>> {
    env_value(env, name).map(|v| positive(name, parse_size(v), v, "a size such as 4096, 128Mi or 1G")).transpose()
}

/// A count from 1 to 1,000,000 from `env`.
pub fn env_count(env: &BTreeMap<String, String>, name: &str) -> anyhow::Result<Option<usize>> {
    env_value(env, name).map(|v| positive(name, parse_count(v), v, "a number from 1 to 1000000")).transpose()
}

/// The memory limit of the cgroup this process runs in (v2 `memory.max`, or v1
/// `memory.limit_in_bytes`); `None` when unlimited or unreadable.
pub fn cgroup_memory_limit() -> Option<u64> {
    ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"].iter().find_map(|path| {
        let text = std::fs::read_to_string(path).ok()?;
        // v1 reports "unlimited" as a page-rounded i64::MAX.
        text.trim().parse::<u64>().ok().filter(|&v| v < 1 << 60)
    })
}

fn positive<T: PartialEq + Default>(name: &str, parsed: Option<T>, raw: &str, expected: &str) -> anyhow::Result<T> {
    match parsed {
        Some(v) if v != T::default() => Ok(v),
        _ => anyhow::bail!("{name}={raw:?} is not {expected}"),
    }
}

fn optional_duration(name: &str, v: &str) -> anyhow::Result<Option<Duration>> {
    if matches!(v, "none" | "off") {
        return Ok(None);
    }
    positive(name, parse_duration(v), v, &format!("{DURATION} (or `none`)")).map(Some)
}

/// Parses `500ms`, `30s`, `2m`, `1h` or a bare number of seconds; `None` when
/// malformed or beyond a day.
pub fn parse_duration(v: &str) -> Option<Duration> {
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let millis = match unit.trim() {
        "ms" => n,
        "" | "s" => n.checked_mul(1_000)?,
        "m" => n.checked_mul(60_000)?,
        "h" => n.checked_mul(3_600_000)?,
        _ => return None,
    };
    (millis <= 86_400_000).then(|| Duration::from_millis(millis))
}

/// Parses a byte size: a number with an optional `K`/`Ki`/`KiB`, `M`..., `G`...
/// suffix (binary multiples); `None` when malformed or beyond 1 TiB.
pub fn parse_size(v: &str) -> Option<u64> {
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let shift = match unit.trim().trim_end_matches(['B', 'b']).trim_end_matches('i') {
        "" => 0,
        "K" | "k" => 10,
        "M" | "m" => 20,
        "G" | "g" => 30,
        _ => return None,
    };
    let bytes = n.checked_mul(1u64 << shift)?;
    (bytes <= 1 << 40).then_some(bytes)
}

fn parse_count(v: &str) -> Option<usize> {
    v.parse::<usize>().ok().filter(|&n| n <= 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_bound_every_guest() {
        let l = GuestLimits::from_env(&env(&[]), None, None).unwrap();
        assert_eq!(l.event_timeout, Some(Duration::from_secs(60)));
        assert_eq!(l.http_request_timeout, Some(Duration::from_secs(60)));
        assert_eq!(l.max_instance_memory, 256 << 20);
        assert_eq!(l.max_concurrent_events, 100);
    }

    #[test]
    fn memory_default_is_at_most_half_the_container_limit() {
        assert_eq!(GuestLimits::from_env(&env(&[]), Some(128 << 20), None).unwrap().max_instance_memory, 64 << 20);
        assert_eq!(GuestLimits::from_env(&env(&[]), Some(8 << 30), None).unwrap().max_instance_memory, 256 << 20);
        // The runtime config's value replaces the default; the variable wins over both.
        assert_eq!(
            GuestLimits::from_env(&env(&[]), Some(128 << 20), Some(96 << 20)).unwrap().max_instance_memory,
            96 << 20
        );
        let explicit = env(&[("SPIN_MAX_INSTANCE_MEMORY", "100Mi")]);
        assert_eq!(
            GuestLimits::from_env(&explicit, Some(128 << 20), Some(32 << 20)).unwrap().max_instance_memory,
            100 << 20
        );
    }

    #[test]
    fn http_timeout_overrides_the_general_one() {
        let l = GuestLimits::from_env(
            &env(&[("SPIN_REQUEST_TIMEOUT", "5s"), ("SPIN_HTTP_REQUEST_TIMEOUT", "250ms")]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(l.event_timeout, Some(Duration::from_secs(5)));
        assert_eq!(l.http_request_timeout, Some(Duration::from_millis(250)));
        let off = GuestLimits::from_env(&env(&[("SPIN_REQUEST_TIMEOUT", "none")]), None, None).unwrap();
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
        ] {
            let err = GuestLimits::from_env(&env(&[(name, value)]), None, None).unwrap_err().to_string();
            assert!(err.contains(name), "{name}={value}: {err}");
        }
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("128Mi"), Some(128 << 20));
        assert_eq!(parse_size("128MiB"), Some(128 << 20));
        assert_eq!(parse_size("2G"), Some(2 << 30));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2d"), None);
    }

    #[test]
    fn env_helpers_name_the_variable_and_skip_blanks() {
        let e = env(&[("A", " 250ms "), ("B", "99999999999999999999m"), ("C", "0"), ("D", "  ")]);
        assert_eq!(env_duration(&e, "A").unwrap(), Some(Duration::from_millis(250)));
        assert!(env_duration(&e, "B").unwrap_err().to_string().contains("B="));
        assert!(env_duration(&e, "C").is_err());
        assert_eq!(env_duration(&e, "D").unwrap(), None);
        assert_eq!(env_count(&e, "Z").unwrap(), None);
        assert!(env_count(&e, "C").unwrap_err().to_string().contains("C="));
    }
}
