//! Connection pools by address for a whole app (outbound databases): a guest's
//! connection to an address it opened before comes from that address's pool.
//! The app keeps a bounded number of pools; the least recently used goes first
//! (its idle connections close once nobody holds them).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Pools one app keeps at most.
const MAX_POOLS: usize = 16;

/// Pools `P` by key `K` (an address, and what else makes connections differ).
pub(crate) struct PoolsByAddress<K, P> {
    pools: Mutex<HashMap<K, (P, u64)>>,
    clock: AtomicU64,
    max: usize,
}

impl<K, P> Default for PoolsByAddress<K, P> {
    /// No pools yet; at most [`MAX_POOLS`] at once.
    fn default() -> Self {
        Self::with_bound(MAX_POOLS)
    }
}

impl<K, P> PoolsByAddress<K, P> {
    /// No pools yet; at most `max` at once.
    fn with_bound(max: usize) -> Self {
        Self { pools: Mutex::default(), clock: AtomicU64::new(0), max: max.max(1) }
    }
}

impl<K: Hash + Eq + Clone, P: Clone> PoolsByAddress<K, P> {
    /// The pool of `key`, if the app has one.
    pub(crate) fn get(&self, key: &K) -> Option<P> {
        let stamp = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        let (pool, used) = pools.get_mut(key)?;
        *used = stamp;
        Some(pool.clone())
    }

    /// Keeps `pool` for `key` and returns it; when another was kept meanwhile,
    /// that one is returned instead, so every guest shares one.
    pub(crate) fn keep(&self, key: K, pool: P) -> P {
        let stamp = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        if !pools.contains_key(&key) && pools.len() >= self.max {
            let oldest = pools.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                pools.remove(&oldest);
            }
        }
        pools.entry(key).or_insert((pool, stamp)).0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_pool_kept_wins_and_the_least_recently_used_goes_first() {
        let pools = PoolsByAddress::with_bound(2);
        assert_eq!(pools.keep("a", 1), 1);
        assert_eq!(pools.keep("a", 2), 1, "a pool kept meanwhile is shared");
        pools.keep("b", 3);
        assert_eq!(pools.get(&"a"), Some(1));
        pools.keep("c", 4);
        assert_eq!((pools.get(&"a"), pools.get(&"b"), pools.get(&"c")), (Some(1), None, Some(4)));
    }
}
