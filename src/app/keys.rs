//! Who is calling, asked on every HTTP request: which tenant a bearer key
//! names, and whether any tenant exists (while none does, a loopback server
//! serves keyless requests). Both are kept against the store's tenants
//! signal (see `signalled.rs`), so a tenant created by the CLI is seen by
//! the next request, and cost no database round trip in between.

use sha2::{Digest, Sha256};

use super::App;
use super::signalled::Signalled;
use crate::store::{Signal, StoreError};

/// Known keys kept; unknown ones are never kept, so guessing cannot push
/// real ones out.
const MAX_KEYS: usize = 4_096;

pub(super) struct Keys {
    /// By the key's sha256, so the cache holds no usable key.
    tenants: Signalled<[u8; 32], Option<String>>,
    count: Signalled<(), i64>,
}

impl Default for Keys {
    fn default() -> Self {
        Self {
            tenants: Signalled::new(Signal::Tenants, MAX_KEYS),
            count: Signalled::new(Signal::Tenants, 1),
        }
    }
}

impl App {
    /// The tenant `key` belongs to, if any.
    pub async fn tenant_for_key(&self, key: &str) -> Result<Option<String>, StoreError> {
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let load = async || self.store.tenant_for_key(key).await;
        let keys = &self.keys.tenants;
        keys.get(&self.store, digest, load, Option::is_some).await
    }

    /// How many tenants exist.
    pub async fn tenant_count(&self) -> Result<i64, StoreError> {
        let load = async || self.store.tenant_count().await;
        self.keys.count.get(&self.store, (), load, |_| true).await
    }
}
