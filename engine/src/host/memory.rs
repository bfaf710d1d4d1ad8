//! The memory cap of one instance: every linear memory and table of the instance
//! counted together (a component holds several core modules, each with its own
//! memory), so a guest cannot multiply the cap by the number of its memories.

use wasmtime::ResourceLimiter;

/// Bytes a table element is counted as (a function reference).
const TABLE_ELEMENT_BYTES: u64 = 8;

/// A [`ResourceLimiter`] holding an instance's memories and tables under one cap.
#[derive(Debug)]
pub(crate) struct InstanceMemory {
    cap: u64,
    used: u64,
    /// The linear memory part of `used`.
    memory: u64,
}

impl InstanceMemory {
    /// A limiter that refuses growth past `cap` bytes in total.
    pub(crate) fn capped_at(cap: u64) -> Self {
        Self { cap, used: 0, memory: 0 }
    }

    /// Bytes granted so far.
    #[cfg(test)]
    fn used(&self) -> u64 {
        self.used
    }

    /// Bytes of linear memory granted so far (tables left out).
    pub(crate) fn memory(&self) -> u64 {
        self.memory
    }

    /// Grants `current -> desired` if the total stays under the cap. A refused
    /// growth makes `memory.grow` return -1 (instantiation fails outright), which
    /// guests' allocators turn into a trap: the request ends in a 500 and the
    /// process, with its other instances, goes on.
    fn grow(&mut self, current: u64, desired: u64) -> bool {
        let extra = desired.saturating_sub(current);
        match self.used.checked_add(extra) {
            Some(total) if total <= self.cap => {
                self.used = total;
                true
            }
            _ => {
                tracing::debug!(
                    "instance memory cap reached: {} bytes in use, {extra} more asked, cap {}",
                    self.used,
                    self.cap
                );
                false
            }
        }
    }
}

impl ResourceLimiter for InstanceMemory {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let granted = self.grow(current as u64, desired as u64);
        if granted {
            self.memory = self.memory.saturating_add((desired as u64).saturating_sub(current as u64));
        }
        Ok(granted)
    }

    fn table_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let bytes = |n: usize| (n as u64).saturating_mul(TABLE_ELEMENT_BYTES);
        Ok(self.grow(bytes(current), bytes(desired)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memories_and_tables_share_one_cap() {
        let mut m = InstanceMemory::capped_at(1 << 20);
        assert!(m.memory_growing(0, 512 << 10, None).unwrap());
        assert!(m.memory_growing(0, 256 << 10, None).unwrap(), "a second memory counts against the same cap");
        assert!(!m.memory_growing(256 << 10, 600 << 10, None).unwrap(), "the total would pass the cap");
        assert!(m.table_growing(0, 1024, None).unwrap());
        assert_eq!(m.used(), (768 << 10) + 8 * 1024);
        assert_eq!(m.memory(), 768 << 10, "tables are not linear memory");
        assert!(!m.table_growing(1024, 1 << 20, None).unwrap());
    }

    #[test]
    fn huge_requests_do_not_overflow() {
        let mut m = InstanceMemory::capped_at(u64::MAX - 1);
        assert!(m.memory_growing(0, usize::MAX - 10, None).unwrap());
        assert!(!m.memory_growing(0, usize::MAX, None).unwrap());
    }
}
