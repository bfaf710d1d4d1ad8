//! The compile caches' bound: `SPIN_COMPILE_CACHE_MAX` for a Pod's own cache
//! and the CLI's, `SPIN_SHIM_NODE_CACHE_MAX` (containerd's environment) for the
//! node's. A size (`500Mi`, `4Gi`) or `none`; the default is
//! [`DEFAULT_CACHE_MAX_BYTES`].

use std::collections::BTreeMap;

use spin_engine::runtime::DEFAULT_CACHE_MAX_BYTES;

use super::env::{env_value, parse_size};

/// The bound of a Pod's own compile cache and of the CLI's.
pub(crate) const COMPILE_CACHE_MAX: &str = "SPIN_COMPILE_CACHE_MAX";

/// The bound the variable `name` in `env` sets: `None` for `none`, the default
/// when it is not set; a malformed value is an error naming the variable.
pub(crate) fn cache_max_bytes(env: &BTreeMap<String, String>, name: &str) -> anyhow::Result<Option<u64>> {
    match env_value(env, name) {
        None => Ok(Some(DEFAULT_CACHE_MAX_BYTES)),
        Some("none") => Ok(None),
        Some(v) => parse_size(v).map(Some).ok_or_else(|| {
            anyhow::anyhow!(
                "environment variable {name}={v:?} is invalid: expected a size such as 500Mi or 4Gi, or none"
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_bound_is_a_size_none_or_the_default() {
        let env = |v: &str| BTreeMap::from([(COMPILE_CACHE_MAX.to_string(), v.to_string())]);
        assert_eq!(cache_max_bytes(&BTreeMap::new(), COMPILE_CACHE_MAX).unwrap(), Some(2 << 30));
        assert_eq!(cache_max_bytes(&env("500Mi"), COMPILE_CACHE_MAX).unwrap(), Some(500 << 20));
        assert_eq!(cache_max_bytes(&env("none"), COMPILE_CACHE_MAX).unwrap(), None);
        let err = cache_max_bytes(&env("lots"), COMPILE_CACHE_MAX).unwrap_err().to_string();
        assert_eq!(
            err,
            "environment variable SPIN_COMPILE_CACHE_MAX=\"lots\" is invalid: expected a size such as 500Mi or 4Gi, or none"
        );
    }
}
