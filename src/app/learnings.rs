//! The hash-chained log of what was learned: recording an entry (every
//! capability does, after the fact) and reading a tenant's entries.

use super::App;
use crate::store::{Learning, StoreError};

/// A tenant's learnings log; borrowed from the app ([`App::learnings`]).
#[derive(Clone, Copy)]
pub struct Learnings<'a> {
    pub(super) app: &'a App,
}

impl App {
    /// Read the learnings log.
    pub fn learnings(&self) -> Learnings<'_> {
        Learnings { app: self }
    }

    /// Record what was learned in the hash-chained log. The operation it
    /// describes has already happened, so a failure to record is logged,
    /// not returned.
    pub(crate) async fn learn(
        &self,
        tenant: &str,
        kind: &str,
        subject: &str,
        detail: serde_json::Value,
    ) {
        if let Err(e) = self
            .store
            .append_learning(tenant, kind, subject, &detail)
            .await
        {
            tracing::error!("recording a learning ({kind} {subject}): {e}");
        }
    }
}

impl Learnings<'_> {
    /// The tenant's learnings after `after`, oldest first.
    pub async fn after(
        &self,
        tenant: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Learning>, StoreError> {
        self.app.store.learnings(tenant, after, limit).await
    }

    /// The tenant's newest `n` learnings, oldest first.
    pub async fn recent(&self, tenant: &str, n: usize) -> Result<Vec<Learning>, StoreError> {
        self.app.store.recent_learnings(tenant, n).await
    }
}
