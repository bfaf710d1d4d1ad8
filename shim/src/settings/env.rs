//! Reading settings from an environment map (the container's, or the CLI's):
//! trimmed values, blank as unset, and durations, sizes and counts parsed with
//! checked arithmetic, so an absurd value is a start-up error naming the
//! variable, never a panic or an overflow later.

use std::collections::BTreeMap;
use std::time::Duration;

use spin_engine::limits::{Sample, Sampled};

/// What a duration variable holds.
pub(crate) const DURATION: &str = "a duration such as 500ms, 30s, 2m or 1h";

/// The trimmed value of `name` in `env`; `None` when unset or blank.
pub(crate) fn env_value<'a>(env: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// A positive duration (`500ms`, `30s`, `2m`, `1h`) from `env`; an error naming
/// the variable when it is malformed, zero or beyond a day.
#[cfg_attr(not(feature = "http"), allow(dead_code))] // only the HTTP settings read one
pub(crate) fn env_duration(env: &BTreeMap<String, String>, name: &str) -> anyhow::Result<Option<Duration>> {
    env_value(env, name).map(|v| positive(name, parse_duration(v), v, DURATION)).transpose()
}

/// A positive byte size (`4096`, `128Mi`, `1G`) from `env`.
pub(crate) fn env_size(env: &BTreeMap<String, String>, name: &str) -> anyhow::Result<Option<u64>> {
    env_value(env, name).map(|v| positive(name, parse_size(v), v, "a size such as 4096, 128Mi or 1G")).transpose()
}

/// A count from 1 to 1,000,000 from `env`.
pub(crate) fn env_count(env: &BTreeMap<String, String>, name: &str) -> anyhow::Result<Option<usize>> {
    env_value(env, name).map(|v| positive(name, parse_count(v), v, COUNT)).transpose()
}

/// A value or a half-open range `a..b` (each side as [`parse_duration`] or a
/// count reads it, and positive) from `env`, as Spin's instance-reuse flags take it.
#[cfg_attr(not(feature = "http"), allow(dead_code))] // only the HTTP settings read one
pub(crate) fn env_sampled<T: Sample + Default>(
    env: &BTreeMap<String, String>,
    name: &str,
    side: fn(&str) -> Option<T>,
    expected: &str,
) -> anyhow::Result<Option<Sampled<T>>> {
    env_value(env, name).map(|v| sampled(name, v, side, expected)).transpose()
}

/// Parses `v` as [`env_sampled`] does; errors name `name`.
pub(crate) fn sampled<T: Sample + Default>(
    name: &str,
    v: &str,
    side: fn(&str) -> Option<T>,
    expected: &str,
) -> anyhow::Result<Sampled<T>> {
    Sampled::parse(v, |s| side(s).filter(|x| *x != T::default()).ok_or("not valid"))
        .map_err(|e| anyhow::anyhow!("{name}={v:?} is not {expected} or a range of them such as 1..8 ({e})"))
}

/// What a count variable holds.
pub(crate) const COUNT: &str = "a number from 1 to 1000000";

fn positive<T: PartialEq + Default>(name: &str, parsed: Option<T>, raw: &str, expected: &str) -> anyhow::Result<T> {
    match parsed {
        Some(v) if v != T::default() => Ok(v),
        _ => anyhow::bail!("{name}={raw:?} is not {expected}"),
    }
}

/// A duration, or `None` for `none`/`off`.
pub(crate) fn optional_duration(name: &str, v: &str) -> anyhow::Result<Option<Duration>> {
    if matches!(v, "none" | "off") {
        return Ok(None);
    }
    positive(name, parse_duration(v), v, &format!("{DURATION} (or `none`)")).map(Some)
}

/// Parses `500ms`, `30s`, `2m`, `1h` or a bare number of seconds; `None` when
/// malformed or beyond a day.
pub(crate) fn parse_duration(v: &str) -> Option<Duration> {
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
pub(crate) fn parse_size(v: &str) -> Option<u64> {
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

/// Parses a count from 1 to 1,000,000 (0 is refused by the callers).
pub(crate) fn parse_count(v: &str) -> Option<usize> {
    v.parse::<usize>().ok().filter(|&n| n <= 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
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

    #[test]
    fn sampled_values_and_ranges() {
        let e = env(&[("A", "8"), ("B", "1..4"), ("C", "250ms..2s"), ("D", "0..4"), ("E", "4..4"), ("F", "x")]);
        assert_eq!(env_sampled(&e, "A", parse_count, COUNT).unwrap(), Some(Sampled::Value(8)));
        assert_eq!(env_sampled(&e, "B", parse_count, COUNT).unwrap(), Some(Sampled::Range { low: 1, high: 4 }));
        let c = env_sampled(&e, "C", parse_duration, DURATION).unwrap();
        assert_eq!(c, Some(Sampled::Range { low: Duration::from_millis(250), high: Duration::from_secs(2) }));
        for bad in ["D", "E", "F"] {
            let err = env_sampled(&e, bad, parse_count, COUNT).unwrap_err().to_string();
            assert!(err.starts_with(&format!("{bad}=")), "{err}");
        }
        assert_eq!(env_sampled(&e, "Z", parse_count, COUNT).unwrap(), None);
    }
}
