//! One read-through cache for what the app reads from the store on every
//! request: which version of a name is current, who a key is, a tenant's
//! quotas and limits, its catalog, its verified skills. Each is a
//! [`Cache`] with its own bounds and ages; they share one rule for
//! staleness.
//!
//! **The rule.** An entry carries the *version* of its source that was
//! read before the entry was loaded, and it is used while
//!
//! 1. its source's version is still that one: the store's change signal
//!    for the table (SQLite, where a write by any process on the file moves
//!    it), a revision the store keeps (a tenant's catalog), or the id of the
//!    current version (a verified skill);
//! 2. nothing relayed has dropped it: an event from another replica drops
//!    the entries it concerns at once, and a gap in what was heard drops
//!    them all (`bus.rs`);
//! 3. it is younger than the cache's `max_age`, so a writer that died
//!    between its commit and its signal is not believed for long.
//!
//! Where a source has no version (PostgreSQL has no change signal), an
//! entry lives only for the cache's `unversioned` age: zero for what must
//! be exact (which version is current, who a key is: asked every time),
//! two seconds for what may lag by design (quotas and limits, documented
//! as reaching every replica within 2 s).
//!
//! **Bounds.** Every cache is bounded in entries and in bytes, per tenant
//! and in all ([`crate::lru`]): one tenant's flood evicts only its own
//! entries. Values a cache must not keep (an unknown key, a tenant that
//! does not exist) are never kept, so guessing evicts nothing.

use std::hash::Hash;
use std::time::{Duration, Instant};

use crate::lru::{Bounds, PartitionedLru};

/// The partition of entries that belong to no tenant (a key's owner is
/// not known before it is looked up).
pub(super) const SHARED: &str = "";

/// How long entries may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ages {
    /// With a version: at most this old.
    pub max_age: Duration,
    /// Without one (the store has no signal): at most this old.
    pub unversioned: Duration,
}

impl Ages {
    /// Exact: trusted while the version holds (for a second at most), and
    /// not at all without one.
    pub const EXACT: Self = Self {
        max_age: Duration::from_secs(1),
        unversioned: Duration::ZERO,
    };

    /// May lag by up to two seconds without a version.
    pub const LAGGING: Self = Self {
        max_age: Duration::from_secs(2),
        unversioned: Duration::from_secs(2),
    };

    /// Trusted while its version holds, however old (the version is exact
    /// and asked every time: a revision, a content id).
    pub const WHILE_VERSION: Self = Self {
        max_age: Duration::MAX,
        unversioned: Duration::ZERO,
    };
}

#[derive(Clone)]
struct Entry<V, Ver> {
    version: Option<Ver>,
    at: Instant,
    value: V,
}

impl<V, Ver: PartialEq> Entry<V, Ver> {
    fn fresh(&self, version: Option<&Ver>, ages: Ages) -> bool {
        let age = self.at.elapsed();
        match (self.version.as_ref(), version) {
            (Some(had), Some(now)) => had == now && age < ages.max_age,
            (None, None) => age < ages.unversioned,
            _ => false,
        }
    }
}

/// A bounded read-through cache following the module's rule.
pub(super) struct Cache<K: Hash + Eq, V, Ver> {
    lru: PartitionedLru<K, Entry<V, Ver>>,
    ages: Ages,
    weigh: fn(&V) -> usize,
}

impl<K: Hash + Eq, V: Clone, Ver: Clone + PartialEq> Cache<K, V, Ver> {
    /// An empty cache; `weigh` says roughly how many bytes a value holds.
    pub fn new(bounds: Bounds, ages: Ages, weigh: fn(&V) -> usize) -> Self {
        Self {
            lru: PartitionedLru::new(bounds),
            ages,
            weigh,
        }
    }

    /// The value of `key` in `tenant`'s part: cached while fresh at
    /// `version` (the source's version, read just now, before any load),
    /// else read by `load` and kept when `keep` says so.
    pub async fn get<E>(
        &self,
        tenant: &str,
        key: K,
        version: Option<Ver>,
        load: impl AsyncFnOnce() -> Result<V, E>,
        keep: impl FnOnce(&V) -> bool,
    ) -> Result<V, E> {
        if let Some(e) = self.lru.get(tenant, &key)
            && e.fresh(version.as_ref(), self.ages)
        {
            return Ok(e.value);
        }
        let value = load().await?;
        let worth = version.is_some() || !self.ages.unversioned.is_zero();
        if worth && keep(&value) {
            let bytes = (self.weigh)(&value);
            let entry = Entry {
                version,
                at: Instant::now(),
                value: value.clone(),
            };
            self.lru.put(tenant, key, entry, bytes);
        }
        Ok(value)
    }

    /// Drop one entry.
    pub fn forget(&self, tenant: &str, key: &K) {
        self.lru.remove(tenant, key);
    }

    /// Drop every entry of `tenant`.
    pub fn forget_tenant(&self, tenant: &str) {
        self.lru.remove_partition(tenant);
    }

    /// Drop every entry.
    pub fn forget_all(&self) {
        self.lru.clear();
    }

    /// Entries held, of `tenant` or in all.
    #[cfg(test)]
    pub fn len(&self, tenant: Option<&str>) -> usize {
        self.lru.len(tenant)
    }
}

impl<V: Clone + Default> Cache<(), V, u64> {
    /// A tenant's setting (its quotas, its limits), versioned by the
    /// store's tenants signal; when the store cannot say, the default (the
    /// server's own, safe one), logged as `what`, and kept like a reading.
    pub async fn setting<E: std::fmt::Display>(
        &self,
        store: &crate::store::SkillStore,
        tenant: &str,
        what: &str,
        load: impl AsyncFnOnce() -> Result<V, E>,
    ) -> V {
        let load = async || {
            Ok::<_, std::convert::Infallible>(load().await.unwrap_or_else(|e| {
                tracing::warn!("reading {tenant}'s {what}: {e}");
                V::default()
            }))
        };
        let version = store.signal(crate::store::Signal::Tenants);
        let Ok(v) = self.get(tenant, (), version, load, |_| true).await;
        v
    }
}

/// A small fixed size, for values that hold no text of their own.
pub(super) fn small<V>(_: &V) -> usize {
    64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const FOUR: Bounds = Bounds {
        entries: 8,
        bytes: 1 << 20,
        partition_entries: 4,
        partition_bytes: 1 << 20,
        entry_bytes: 1 << 10,
    };

    /// Gets `key` for `tenant` at `version`, counting loads; even keys are
    /// "known" (kept), odd ones "unknown" (never kept).
    async fn get(
        cache: &Cache<u32, Option<usize>, u64>,
        loads: &AtomicUsize,
        tenant: &str,
        key: u32,
        version: Option<u64>,
    ) -> Option<usize> {
        let load = async || {
            let n = loads.fetch_add(1, Ordering::SeqCst) + 1;
            Ok::<_, ()>(key.is_multiple_of(2).then_some(n))
        };
        cache
            .get(tenant, key, version, load, Option::is_some)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_entry_lives_while_its_version_does() {
        let cache = Cache::new(FOUR, Ages::EXACT, small);
        let loads = AtomicUsize::new(0);
        let first = get(&cache, &loads, "t", 0, Some(1)).await;
        assert_eq!(get(&cache, &loads, "t", 0, Some(1)).await, first, "a hit");
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_ne!(
            get(&cache, &loads, "t", 0, Some(2)).await,
            first,
            "reloaded"
        );
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        cache.forget("t", &0);
        get(&cache, &loads, "t", 0, Some(2)).await;
        assert_eq!(loads.load(Ordering::SeqCst), 3, "forgotten, so loaded");
    }

    #[tokio::test]
    async fn without_a_version_exact_caches_ask_every_time() {
        let exact = Cache::new(FOUR, Ages::EXACT, small);
        let loads = AtomicUsize::new(0);
        for _ in 0..3 {
            get(&exact, &loads, "t", 0, None).await;
        }
        assert_eq!(loads.load(Ordering::SeqCst), 3);
        assert_eq!(exact.len(None), 0);
        let lagging = Cache::new(FOUR, Ages::LAGGING, small);
        let loads = AtomicUsize::new(0);
        for _ in 0..3 {
            get(&lagging, &loads, "t", 0, None).await;
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1, "kept for its age");
    }

    #[tokio::test]
    async fn an_old_entry_is_read_again_whatever_its_version() {
        let ages = Ages {
            max_age: Duration::from_millis(20),
            unversioned: Duration::ZERO,
        };
        let cache = Cache::new(FOUR, ages, small);
        let loads = AtomicUsize::new(0);
        get(&cache, &loads, "t", 0, Some(1)).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        get(&cache, &loads, "t", 0, Some(1)).await;
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_flood_of_guesses_keeps_nothing_and_a_tenants_flood_evicts_its_own() {
        let cache = Cache::new(FOUR, Ages::WHILE_VERSION, small);
        let loads = AtomicUsize::new(0);
        let calm = get(&cache, &loads, "calm", 0, Some(1)).await;
        for key in (1..10_001).step_by(2) {
            assert_eq!(get(&cache, &loads, "flood", key, Some(1)).await, None);
        }
        assert_eq!(cache.len(Some("flood")), 0, "no guess was kept");
        for key in (0..10_000).step_by(2) {
            get(&cache, &loads, "flood", key, Some(1)).await;
        }
        assert_eq!(cache.len(Some("flood")), 4, "its share, no more");
        assert!(cache.len(None) <= 8);
        let before = loads.load(Ordering::SeqCst);
        assert_eq!(get(&cache, &loads, "calm", 0, Some(1)).await, calm);
        assert_eq!(
            loads.load(Ordering::SeqCst),
            before,
            "the calm tenant still hits"
        );
    }
}
