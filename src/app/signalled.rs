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
