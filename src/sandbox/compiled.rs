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

//!
//! Partitioned by scope (the tenant a call runs for; [`crate::lru`]): one
//! tenant's flood of distinct skills evicts only its own code objects, and
//! no tenant can time whether another already compiled a given source.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::lru::{Bounds, PartitionedLru};

/// A code object of a small skill is a few KiB: 4,096 and 64 MiB in all,
/// a quarter of each per scope, and no one module over a sixteenth.
const BOUNDS: Bounds = Bounds {
    entries: 4096,
    bytes: 64 << 20,
    partition_entries: 1024,
    partition_bytes: 16 << 20,
    entry_bytes: 4 << 20,
};

/// (scope, skill name, source) → its marshalled code object.
pub struct CodeCache(PartitionedLru<[u8; 32], Arc<[u8]>>);

impl CodeCache {
    pub fn new() -> Self {
        Self(PartitionedLru::new(BOUNDS))
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

    pub fn get(&self, scope: &str, key: &[u8; 32]) -> Option<Arc<[u8]>> {
        self.0.get(scope, key)
    }

    pub fn insert(&self, scope: &str, key: [u8; 32], code: Arc<[u8]>) {
        let size = code.len();
        self.0.put(scope, key, code, size);
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
    fn scopes_are_apart_and_bounded() {
        let cache = CodeCache::new();
        let code: Arc<[u8]> = vec![0u8; 1024].into();
        cache.insert("a", [1; 32], code.clone());
        assert!(cache.get("b", &[1; 32]).is_none(), "another scope's entry");
        for i in 0..5_000u16 {
            let mut key = [0u8; 32];
            key[..2].copy_from_slice(&i.to_le_bytes());
            cache.insert("flood", key, code.clone());
        }
        assert_eq!(cache.0.len(Some("flood")), BOUNDS.partition_entries);
        assert!(cache.get("a", &[1; 32]).is_some(), "kept");
        cache.insert("a", [2; 32], vec![0u8; BOUNDS.entry_bytes + 1].into());
        assert!(cache.get("a", &[2; 32]).is_none(), "too big to keep");
    }
}
