//! Which version of a name is current, without a database round trip per
//! call where that is safe: kept against the store's skills signal (see
//! `signalled.rs`).

use super::signalled::Signalled;
use crate::skills::{SkillId, Status};
use crate::store::{Signal, SkillStore, StoreError};

const MAX_ENTRIES: usize = 16_384;

type Head = Option<(SkillId, Status)>;

/// The process's cache of heads, by (tenant, name).
pub(super) struct Heads(Signalled<(String, String), Head>);

impl Default for Heads {
    fn default() -> Self {
        Self(Signalled::new(Signal::Skills, MAX_ENTRIES))
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
        let key = (tenant.to_owned(), name.to_owned());
        let load = async || store.head(tenant, name).await;
        self.0.get(store, key, load, |_| true).await
    }
}
