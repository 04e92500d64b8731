//! Which version of a name is current, without a database round trip per
//! call where that is safe: an entry is kept with the store's skills signal
//! read before it (see `store/signal.rs`) and used while the signal is
//! unchanged, so a write by this process or another one on the same file is
//! seen by the next call. Stores without a signal (PostgreSQL, in-memory)
//! are asked every time. An entry is also re-read after [`MAX_AGE`], so a
//! writer that died between its commit and its signal is not believed for
//! long.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hashlink::LruCache;

use crate::skills::{SkillId, Status};
use crate::store::{SkillStore, StoreError};

const MAX_ENTRIES: usize = 16_384;
const MAX_AGE: Duration = Duration::from_secs(1);

type Head = Option<(SkillId, Status)>;

struct Entry {
    signal: u64,
    read_at: Instant,
    head: Head,
}

/// The process's cache of heads, by (tenant, name).
pub(super) struct Heads {
    cache: Mutex<LruCache<(String, String), Entry>>,
}

impl Default for Heads {
    fn default() -> Self {
        Self {
            cache: Mutex::new(LruCache::new(MAX_ENTRIES)),
        }
    }
}

impl Heads {
    /// The current version of `name` and its status, if it exists.
    pub async fn get(
        &self,
        store: &SkillStore,
        tenant: &str,
        name: &str,
    ) -> Result<Head, StoreError> {
        let Some(signal) = store.skills_signal() else {
            return store.head(tenant, name).await;
        };
        let key = (tenant.to_owned(), name.to_owned());
        if let Some(e) = self.lock().get(&key)
            && e.signal == signal
            && e.read_at.elapsed() < MAX_AGE
        {
            return Ok(e.head.clone());
        }
        let head = store.head(tenant, name).await?;
        self.lock().insert(
            key,
            Entry {
                signal,
                read_at: Instant::now(),
                head: head.clone(),
            },
        );
        Ok(head)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<(String, String), Entry>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}
