//! A least-recently-used cache shared by tenants, bounded twice: each
//! partition (a tenant) in entries and bytes, and the whole in entries and
//! bytes. A process-wide cache with only a global bound lets one tenant's
//! flood evict every other tenant's entries (and so slow them down, or let
//! them time what is cached); here a flood fills the flooder's own share and
//! then evicts only its own entries. When the whole is full, the entry that
//! goes is the least recently used one of the largest partition, so a tenant
//! within its fair share keeps its entries while any tenant holds more.
//!
//! Entries of one partition are never visible from another: the partition
//! is part of every lookup, so two tenants who cache the same key each have
//! their own entry, and neither can tell whether the other has one.
//!
//! Every operation takes one short lock. Eviction on a full cache scans the
//! partitions for the largest (one pass over the tenants that have entries).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

use hashlink::LruCache;

/// How much the cache may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Entries in all.
    pub entries: usize,
    /// Bytes in all (as the caller measures each entry).
    pub bytes: usize,
    /// Entries of one partition.
    pub partition_entries: usize,
    /// Bytes of one partition.
    pub partition_bytes: usize,
    /// One entry's bytes; a larger one is not kept at all.
    pub entry_bytes: usize,
}

struct Partition<K: Hash + Eq, V> {
    lru: LruCache<K, (V, usize)>,
    bytes: usize,
}

struct Inner<K: Hash + Eq, V> {
    parts: HashMap<String, Partition<K, V>>,
    entries: usize,
    bytes: usize,
}

/// The cache; share it behind an `Arc`.
pub struct PartitionedLru<K: Hash + Eq, V> {
    bounds: Bounds,
    inner: Mutex<Inner<K, V>>,
}

impl<K: Hash + Eq, V: Clone> PartitionedLru<K, V> {
    /// An empty cache with `bounds`.
    pub fn new(bounds: Bounds) -> Self {
        Self {
            bounds,
            inner: Mutex::new(Inner {
                parts: HashMap::new(),
                entries: 0,
                bytes: 0,
            }),
        }
    }

    /// `partition`'s entry for `key`, marked as recently used.
    pub fn get(&self, partition: &str, key: &K) -> Option<V> {
        let mut inner = self.lock();
        let part = inner.parts.get_mut(partition)?;
        part.lru.get(key).map(|(v, _)| v.clone())
    }

    /// Keep `value` (of `bytes`) for `key` in `partition`, evicting as the
    /// bounds require. A value over [`Bounds::entry_bytes`] is not kept.
    pub fn put(&self, partition: &str, key: K, value: V, bytes: usize) {
        let b = self.bounds;
        if bytes > b.entry_bytes || bytes > b.partition_bytes || b.partition_entries == 0 {
            return;
        }
        let mut guard = self.lock();
        let inner = &mut *guard;
        let part = inner
            .parts
            .entry(partition.to_owned())
            .or_insert_with(|| Partition {
                lru: LruCache::new_unbounded(),
                bytes: 0,
            });
        if let Some((_, old)) = part.lru.insert(key, (value, bytes)) {
            part.bytes -= old;
            inner.bytes -= old;
            inner.entries -= 1;
        }
        part.bytes += bytes;
        inner.bytes += bytes;
        inner.entries += 1;
        while part.lru.len() > b.partition_entries || part.bytes > b.partition_bytes {
            let Some((_, (_, size))) = part.lru.remove_lru() else {
                break;
            };
            part.bytes -= size;
            inner.bytes -= size;
            inner.entries -= 1;
        }
        while inner.entries > b.entries || inner.bytes > b.bytes {
            if !inner.evict_from_largest() {
                break;
            }
        }
    }

    /// Drop `partition`'s entry for `key`.
    pub fn remove(&self, partition: &str, key: &K) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        if let Some(part) = inner.parts.get_mut(partition)
            && let Some((_, size)) = part.lru.remove(key)
        {
            part.bytes -= size;
            inner.bytes -= size;
            inner.entries -= 1;
            if part.lru.is_empty() {
                inner.parts.remove(partition);
            }
        }
    }

    /// Drop every entry of `partition`.
    pub fn remove_partition(&self, partition: &str) {
        let mut inner = self.lock();
        if let Some(part) = inner.parts.remove(partition) {
            inner.bytes -= part.bytes;
            inner.entries -= part.lru.len();
        }
    }

    /// Drop every entry.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.parts.clear();
        inner.entries = 0;
        inner.bytes = 0;
    }

    /// Entries held in all, and by `partition`.
    pub fn len(&self, partition: Option<&str>) -> usize {
        let inner = self.lock();
        match partition {
            None => inner.entries,
            Some(p) => inner.parts.get(p).map_or(0, |part| part.lru.len()),
        }
    }

    /// Bytes held in all.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> MutexGuard<'_, Inner<K, V>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<K: Hash + Eq, V> Inner<K, V> {
    /// Evict the least recently used entry of the partition holding the
    /// most bytes (then the most entries); false when nothing is left.
    fn evict_from_largest(&mut self) -> bool {
        let Some(name) = self
            .parts
            .iter()
            .max_by_key(|(_, p)| (p.bytes, p.lru.len()))
            .map(|(n, _)| n.clone())
        else {
            return false;
        };
        let Some(part) = self.parts.get_mut(&name) else {
            return false;
        };
        if let Some((_, (_, size))) = part.lru.remove_lru() {
            part.bytes -= size;
            self.bytes -= size;
            self.entries -= 1;
        }
        if part.lru.is_empty() {
            self.parts.remove(&name);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Bounds = Bounds {
        entries: 10,
        bytes: 1_000,
        partition_entries: 4,
        partition_bytes: 400,
        entry_bytes: 300,
    };

    #[test]
    fn partitions_never_see_each_others_entries() {
        let c = PartitionedLru::new(BOUNDS);
        c.put("a", 1, "a's", 1);
        assert_eq!(c.get("a", &1), Some("a's"));
        assert_eq!(c.get("b", &1), None, "b cannot hit a's entry");
        c.put("b", 1, "b's", 1);
        assert_eq!(c.get("a", &1), Some("a's"));
        assert_eq!(c.get("b", &1), Some("b's"));
    }

    #[test]
    fn a_flood_evicts_only_the_flooders_own_entries() {
        let c = PartitionedLru::new(BOUNDS);
        for k in 0..3 {
            c.put("victim", k, k, 10);
        }
        for k in 0..10_000 {
            c.put("flooder", k, k, 10);
        }
        assert_eq!(c.len(Some("flooder")), 4, "its own share only");
        for k in 0..3 {
            assert_eq!(c.get("victim", &k), Some(k), "kept");
        }
        // By bytes too.
        for k in 0..100 {
            c.put("bytes", k, k, 150);
        }
        assert!(c.len(Some("bytes")) <= 2);
        assert_eq!(c.len(Some("victim")), 3);
    }

    #[test]
    fn a_full_cache_evicts_from_the_largest_partition() {
        let c = PartitionedLru::new(BOUNDS);
        // Three partitions at their 4-entry share: 12 > 10 in all.
        for p in ["x", "y"] {
            for k in 0..4 {
                c.put(p, k, k, 1);
            }
        }
        c.put("small", 0, 0, 1);
        c.put("small", 1, 1, 1);
        assert_eq!(c.len(None), 10);
        c.put("small", 2, 2, 1);
        assert_eq!(c.len(None), 10);
        assert_eq!(c.len(Some("small")), 3, "the small one kept all");
        assert_eq!(c.len(Some("x")) + c.len(Some("y")), 7);
        assert!(c.bytes() <= BOUNDS.bytes);
    }

    #[test]
    fn oversized_entries_are_not_kept_and_replacing_keeps_the_counts() {
        let c = PartitionedLru::new(BOUNDS);
        c.put("a", 1, 1, 301);
        assert_eq!(c.len(None), 0);
        c.put("a", 1, 1, 100);
        c.put("a", 1, 2, 50);
        assert_eq!((c.len(None), c.bytes()), (1, 50));
        assert_eq!(c.get("a", &1), Some(2));
        c.remove("a", &1);
        assert_eq!((c.len(None), c.bytes()), (0, 0));
        c.put("a", 1, 1, 10);
        c.put("b", 1, 1, 10);
        c.remove_partition("a");
        assert_eq!((c.len(None), c.bytes()), (1, 10));
        c.clear();
        assert_eq!((c.len(None), c.bytes()), (0, 0));
    }
}
