//! A cache of what the app reads from the store on every request, kept
//! exact by one of the store's change signals (see `store/signal.rs`): an
//! entry is used while the signal still has the value read before it, so a
//! write by this process or another one on the same file is seen by the
//! next request. Stores without the signal (PostgreSQL, in-memory) are
//! asked every time. An entry is also re-read after [`MAX_AGE`], so a writer
//! that died between its commit and its signal is not believed for long.

use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hashlink::LruCache;

use crate::store::{Signal, SkillStore};

const MAX_AGE: Duration = Duration::from_secs(1);

struct Entry<V> {
    signal: u64,
    read_at: Instant,
    value: V,
}

/// Up to `capacity` values by key, least recently used out first.
pub(super) struct Signalled<K: Hash + Eq, V> {
    which: Signal,
    cache: Mutex<LruCache<K, Entry<V>>>,
}

impl<K: Hash + Eq, V: Clone> Signalled<K, V> {
    pub fn new(which: Signal, capacity: usize) -> Self {
        Self {
            which,
            cache: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// The value of `key`: cached while the signal is unchanged, else read
    /// by `load` (and kept when `keep` says so, so that, say, unknown keys
    /// do not push known ones out).
    pub async fn get<E, F>(
        &self,
        store: &SkillStore,
        key: K,
        load: F,
        keep: impl FnOnce(&V) -> bool,
    ) -> Result<V, E>
    where
        F: AsyncFnOnce() -> Result<V, E>,
    {
        let Some(signal) = store.signal(self.which) else {
            return load().await;
        };
        if let Some(e) = self.lock().get(&key)
            && e.signal == signal
            && e.read_at.elapsed() < MAX_AGE
        {
            return Ok(e.value.clone());
        }
        let value = load().await?;
        if keep(&value) {
            let entry = Entry {
                signal,
                read_at: Instant::now(),
                value: value.clone(),
            };
            self.lock().insert(key, entry);
        }
        Ok(value)
    }

    fn lock(&self) -> MutexGuard<'_, LruCache<K, Entry<V>>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Gets `key` through `cache`, counting the loads; the value is the
    /// load's number, kept unless it is `None`-like (odd keys are "unknown").
    async fn get(
        cache: &Signalled<u32, Option<usize>>,
        store: &SkillStore,
        loads: &AtomicUsize,
        key: u32,
    ) -> Option<usize> {
        let load = async || {
            let n = loads.fetch_add(1, Ordering::SeqCst) + 1;
            Ok::<_, ()>(key.is_multiple_of(2).then_some(n))
        };
        cache.get(store, key, load, Option::is_some).await.unwrap()
    }

    /// A SQLite file (so the store has signals), a cache of 4, a counter.
    async fn fixture() -> (
        tempfile::TempDir,
        SkillStore,
        Signalled<u32, Option<usize>>,
        AtomicUsize,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = SkillStore::open(&dir.path().join("autolearn.db"))
            .await
            .unwrap();
        (
            dir,
            store,
            Signalled::new(Signal::Tenants, 4),
            AtomicUsize::new(0),
        )
    }

    #[tokio::test]
    async fn unknown_values_are_never_kept_and_a_flood_of_them_evicts_nothing() {
        let (_dir, store, cache, loads) = fixture().await;
        let known = get(&cache, &store, &loads, 0).await;
        for key in (1..10_001).step_by(2) {
            assert_eq!(get(&cache, &store, &loads, key).await, None);
        }
        assert_eq!(loads.load(Ordering::SeqCst), 5_001, "each guess loads");
        assert_eq!(cache.lock().len(), 1, "no guess was kept");
        assert_eq!(get(&cache, &store, &loads, 0).await, known, "still cached");
        assert_eq!(loads.load(Ordering::SeqCst), 5_001);
    }

    #[tokio::test]
    async fn entries_are_bounded_and_a_write_reloads_them() {
        let (_dir, store, cache, loads) = fixture().await;
        for key in (0..20).step_by(2) {
            get(&cache, &store, &loads, key).await;
        }
        assert_eq!(cache.lock().len(), 4, "least recently used out first");
        let before = get(&cache, &store, &loads, 18).await;
        assert_eq!(loads.load(Ordering::SeqCst), 10, "a hit");
        store.create_tenant("t").await.unwrap(); // moves the tenants signal
        assert_ne!(get(&cache, &store, &loads, 18).await, before, "reloaded");
        assert_eq!(loads.load(Ordering::SeqCst), 11);
    }
}
