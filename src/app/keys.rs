//! Who is calling, asked on every HTTP request: which tenant a bearer key
//! names (and whether it has expired), and whether any tenant exists (while
//! none does, a loopback server serves keyless requests). Both are exact
//! caches against the store's tenants signal (see `cache.rs`), so a tenant
//! created, a key added or revoked by the CLI is seen by the next request,
//! and cost no database round trip in between. When a key was last used is
//! written at most once a minute per key, off the request's path.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hashlink::LruCache;
use sha2::{Digest, Sha256};

use super::App;
use super::cache::{Ages, Cache, SHARED, small};
use crate::lru::Bounds;
use crate::store::{KeyOwner, Signal, StoreError, now_ms};

/// Known keys kept; unknown ones are never kept, so guessing cannot push
/// real ones out.
const MAX_KEYS: usize = 4_096;

/// Entries that belong to no tenant until they are read: all in one part.
const fn shared(entries: usize) -> Bounds {
    Bounds {
        entries,
        bytes: entries * 512,
        partition_entries: entries,
        partition_bytes: entries * 512,
        entry_bytes: 512,
    }
}

/// A key's owner: its tenant and id, a few hundred bytes.
fn owner_bytes(o: &Option<KeyOwner>) -> usize {
    64 + o.as_ref().map_or(0, |o| o.tenant.len() + o.id.len())
}
/// How often a key's last use is written, at most.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

pub(super) struct Keys {
    /// By the key's sha256, so the cache holds no usable key.
    owners: Cache<[u8; 32], Option<KeyOwner>, u64>,
    count: Cache<(), i64, u64>,
    /// Tenants known to exist (those that do not are never kept).
    names: Cache<String, bool, u64>,
    /// Key id → when its last use was written.
    touched: Mutex<LruCache<String, Instant>>,
}

impl Default for Keys {
    fn default() -> Self {
        Self {
            owners: Cache::new(shared(MAX_KEYS), Ages::EXACT, owner_bytes),
            count: Cache::new(shared(1), Ages::EXACT, small),
            names: Cache::new(shared(MAX_KEYS), Ages::EXACT, small),
            touched: Mutex::new(LruCache::new(MAX_KEYS)),
        }
    }
}

/// What a presented key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    /// A live key of this tenant.
    Tenant(String),
    /// No such key (never made, revoked, or its tenant removed).
    Unknown,
    /// The key existed but has expired.
    Expired {
        /// Its id, for the operator.
        id: String,
    },
}

/// Who a request is: keys, tenants, and the operator's handle on them;
/// borrowed from the app ([`App::tenants`]).
#[derive(Clone, Copy)]
pub struct Tenants<'a> {
    pub(super) app: &'a App,
}

impl App {
    /// Tenants and their keys.
    pub fn tenants(&self) -> Tenants<'_> {
        Tenants { app: self }
    }

    fn touch_key(&self, id: &str) {
        {
            let mut touched = self.keys.touched.lock().unwrap_or_else(|p| p.into_inner());
            if touched.get(id).is_some_and(|at| at.elapsed() < TOUCH_EVERY) {
                return;
            }
            touched.insert(id.to_owned(), Instant::now());
        }
        let (store, id) = (self.store.clone(), id.to_owned());
        tokio::spawn(async move {
            if let Err(e) = store.touch_key(&id, now_ms()).await {
                tracing::debug!("recording the use of key {id}: {e}");
            }
        });
    }
}

impl Tenants<'_> {
    /// What `key` is: a live key of some tenant, unknown, or expired.
    pub async fn check_key(&self, key: &str) -> Result<KeyCheck, StoreError> {
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let load = async || self.app.store.key_owner(key).await;
        let version = self.app.store.signal(Signal::Tenants);
        let owners = &self.app.keys.owners;
        let owner = owners
            .get(SHARED, digest, version, load, Option::is_some)
            .await?;
        Ok(match owner {
            None => KeyCheck::Unknown,
            Some(o) if o.expired_at(now_ms()) => KeyCheck::Expired { id: o.id },
            Some(o) => {
                self.app.touch_key(&o.id);
                KeyCheck::Tenant(o.tenant)
            }
        })
    }

    /// The tenant `key` belongs to, if it is a live key.
    pub async fn for_key(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(match self.app.tenants().check_key(key).await? {
            KeyCheck::Tenant(t) => Some(t),
            _ => None,
        })
    }

    /// Whether `tenant` exists (an OAuth token may name one that does not).
    pub async fn exists(&self, tenant: &str) -> Result<bool, StoreError> {
        let load = async || Ok(self.app.store.tenant_for_name(tenant).await?.is_some());
        let version = self.app.store.signal(Signal::Tenants);
        let names = &self.app.keys.names;
        names
            .get(SHARED, tenant.to_owned(), version, load, |known| *known)
            .await
    }

    /// The operator's operations on this app's store, done as `actor`.
    pub fn admin(&self, actor: &str) -> super::Admin {
        super::Admin::new(self.app.store.clone(), actor)
    }

    /// How many tenants exist.
    pub async fn count(&self) -> Result<i64, StoreError> {
        let load = async || self.app.store.tenant_count().await;
        let version = self.app.store.signal(Signal::Tenants);
        self.app
            .keys
            .count
            .get(SHARED, (), version, load, |_| true)
            .await
    }
}
