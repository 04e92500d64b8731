//! Which version of a name is current, without a database round trip per
//! call where that is safe: an exact cache (`cache.rs`) against the store's
//! skills signal.

use super::cache::{Ages, Cache, small};
use crate::lru::Bounds;
use crate::skills::{SkillId, Status};
use crate::store::{Signal, SkillStore, StoreError};

/// 16,384 names in all, 4,096 of one tenant.
const BOUNDS: Bounds = Bounds {
    entries: 16_384,
    bytes: 16_384 * 256,
    partition_entries: 4_096,
    partition_bytes: 4_096 * 256,
    entry_bytes: 256,
};

type Head = Option<(SkillId, Status)>;

/// The process's cache of heads, by tenant and name.
pub(super) struct Heads(Cache<String, Head, u64>);

impl Default for Heads {
    fn default() -> Self {
        Self(Cache::new(BOUNDS, Ages::EXACT, small))
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
        let version = store.signal(Signal::Skills);
        let load = async || store.head(tenant, name).await;
        self.0
            .get(tenant, name.to_owned(), version, load, |_| true)
            .await
    }

    /// Drop `tenant`'s heads (another replica changed its skills).
    pub fn forget_tenant(&self, tenant: &str) {
        self.0.forget_tenant(tenant);
    }

    /// Drop every head (events from other replicas were missed).
    pub fn forget_all(&self) {
        self.0.forget_all();
    }
}
