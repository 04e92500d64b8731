//! Skill code compiled once per process. The guest's `compile` export turns
//! a skill's source into a marshalled code object; later calls hand it to
//! `run-compiled` and skip CPython's parser and compiler, which are most of
//! the harness's fixed cost per call (see docs/performance.md).
//!
//! The bytes come from our own harness compiling the source inside the
//! sandbox, and are only ever unmarshalled inside the sandbox again: a
//! corrupt entry could hurt no one but the call that loads it. They are
//! bound to the artifact (marshal's format is CPython's), which is why the
//! cache lives in the `Sandbox` that owns the artifact, in memory only.

use std::sync::{Arc, Mutex};

use hashlink::LruCache;
use sha2::{Digest, Sha256};

/// Most entries kept; a code object of a small skill is a few KiB.
const MAX_ENTRIES: usize = 4096;
/// Most bytes kept in all.
const MAX_BYTES: usize = 64 << 20;

/// (skill name, source) → its marshalled code object, least recently used
/// evicted first.
pub struct CodeCache {
    inner: Mutex<Inner>,
}

struct Inner {
    entries: LruCache<[u8; 32], Arc<[u8]>>,
    bytes: usize,
}

impl CodeCache {
    pub fn new() -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: LruCache::new(MAX_ENTRIES),
                bytes: 0,
            }),
        }
    }

    /// The key: the name is part of it because the code object carries the
    /// `<skill:NAME>` filename its tracebacks show.
    pub fn key(name: &str, source: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update(source.as_bytes());
        h.finalize().into()
    }

    pub fn get(&self, key: &[u8; 32]) -> Option<Arc<[u8]>> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.entries.get(key).cloned()
    }

    pub fn insert(&self, key: [u8; 32], code: Arc<[u8]>) {
        if code.len() > MAX_BYTES / 4 {
            return; // one giant module must not flush everyone else's
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.bytes += code.len();
        if let Some(old) = inner.entries.insert(key, code) {
            inner.bytes -= old.len();
        }
        while inner.bytes > MAX_BYTES || inner.entries.len() > MAX_ENTRIES {
            match inner.entries.remove_lru() {
                Some((_, old)) => inner.bytes -= old.len(),
                None => break,
            }
        }
    }

    /// Entries held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_part_of_the_key() {
        assert_ne!(CodeCache::key("a", "bc"), CodeCache::key("ab", "c"));
        assert_eq!(CodeCache::key("a", "b"), CodeCache::key("a", "b"));
    }

    #[test]
    fn bytes_are_bounded_and_least_recent_goes_first() {
        let cache = CodeCache::new();
        let big: Arc<[u8]> = vec![0u8; MAX_BYTES / 4].into();
        for i in 0..4u8 {
            cache.insert([i; 32], big.clone());
        }
        assert!(cache.get(&[0; 32]).is_some()); // 0 is now the most recent
        cache.insert([9; 32], big.clone());
        assert!(cache.get(&[1; 32]).is_none(), "1 was the least recent");
        assert!(cache.get(&[0; 32]).is_some());
        assert_eq!(cache.len(), 4);
        cache.insert([10; 32], vec![0u8; MAX_BYTES / 4 + 1].into());
        assert!(cache.get(&[10; 32]).is_none(), "too big to keep");
    }
}
