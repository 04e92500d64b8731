//! A tenant's skills, as every front end and the practice loop read and
//! change them: [`App::skills`]. Publishing (`add`, `add_as`) is in
//! `publish.rs`, the one way a skill enters the store; here are the reads
//! (the newest version, all of them, a skill's versions, what was learned
//! about it, its doc), search over the catalog, and retiring.

use std::sync::Arc;

use super::{App, Catalog, CatalogError, Event, SearchError};
use crate::fault::Internal;
use crate::skills::{Skill, SkillId, Status};
use crate::store::{Learning, StoreError};

/// A tenant's skills; borrowed from the app ([`App::skills`]).
#[derive(Clone, Copy)]
pub struct Skills<'a> {
    pub(super) app: &'a App,
}

impl App {
    /// Publish, read, search and retire skills.
    pub fn skills(&self) -> Skills<'_> {
        Skills { app: self }
    }
}

impl Skills<'_> {
    /// The newest version of `name`, whatever its status.
    pub async fn get(&self, tenant: &str, name: &str) -> Result<Skill, StoreError> {
        self.app.store.latest(tenant, name).await
    }

    /// The newest version of every name, retired ones included.
    pub async fn list(&self, tenant: &str) -> Result<Vec<Skill>, StoreError> {
        self.app.store.list(tenant).await
    }

    /// Every version of `name`, newest first (at most `limit`).
    pub async fn versions(
        &self,
        tenant: &str,
        name: &str,
        limit: usize,
    ) -> Result<Vec<Skill>, StoreError> {
        self.app.store.versions(tenant, name, limit).await
    }

    /// What the learnings log says about `name`, newest first (at most
    /// `limit`).
    pub async fn notes(
        &self,
        tenant: &str,
        name: &str,
        limit: usize,
    ) -> Result<Vec<Learning>, StoreError> {
        self.app.store.learnings_about(tenant, name, limit).await
    }

    /// The documentation of a skill version, if written.
    pub async fn doc(&self, tenant: &str, id: &SkillId) -> Result<Option<String>, StoreError> {
        self.app.store.doc(tenant, id).await
    }

    /// Write the documentation of a skill version (practice does).
    pub async fn put_doc(&self, tenant: &str, id: &SkillId, doc: &str) -> Result<(), StoreError> {
        self.app.store.put_doc(tenant, id, doc).await
    }

    /// `tenant`'s current skills, as the store has them now (cached while
    /// they are unchanged).
    pub async fn catalog(&self, tenant: &str) -> Result<Arc<Catalog>, CatalogError> {
        self.app.catalogs.get(&self.app.store, tenant).await
    }

    /// The tenant's published skills (the newest version of each name).
    pub async fn published(&self, tenant: &str) -> Result<Vec<Arc<Skill>>, CatalogError> {
        Ok(self.catalog(tenant).await?.published().cloned().collect())
    }

    /// The tenant's published and draft skills ranked for `query` (BM25, see
    /// [`crate::search`]), best first, at most `limit`. The query must fit
    /// the tenant's `query_bytes`; the ranking runs off the I/O threads.
    pub async fn search(
        &self,
        tenant: &str,
        query: &str,
        limit: usize,
    ) -> Result<Vec<(Arc<Skill>, f64)>, SearchError> {
        let max = self.app.limits(tenant).await.query_bytes;
        if query.len() > max {
            return Err(SearchError::QueryTooLong {
                size: query.len(),
                limit: max,
            });
        }
        // Drafts are offered too (flagged by their status): a suggestion
        // the agent or a person may publish.
        let catalog = self.catalog(tenant).await?;
        let query = query.to_owned();
        tokio::task::spawn_blocking(move || catalog.search(&query, limit))
            .await
            .map_err(|e| SearchError::Worker(Internal::of("the search worker", e)))
    }

    /// Retire the newest version of `name`; it stops being a tool.
    /// Retiring a retired skill changes nothing.
    pub async fn retire(&self, tenant: &str, name: &str) -> Result<Skill, StoreError> {
        let skill = self.app.store.latest(tenant, name).await?;
        if skill.status == Status::Retired {
            return Ok(skill);
        }
        let retired = self
            .app
            .store
            .set_status(tenant, name, &skill.id, Status::Retired)
            .await?;
        self.app.notify(
            tenant,
            Event::SkillRetired {
                name: name.to_owned(),
            },
        );
        self.app.announce(tenant, name);
        Ok(retired)
    }
}
