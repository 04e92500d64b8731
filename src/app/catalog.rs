//! A tenant's catalog: its current skills (every name's newest version that
//! is not retired), sorted by name, with a search index, loaded once and
//! kept while the tenant's catalog revision in the store is unchanged. The
//! store moves that revision on with every write to the tenant's skills,
//! from any process or replica, so one indexed read per request keeps a
//! cached catalog exact: `tools/list` pages and `search_skills` over 10,000
//! skills cost a lookup, not a reload and a re-hash of every skill.
//!
//! Bounded: at most [`MAX_TENANTS`] catalogs and [`MAX_SKILLS`] skills in
//! all are kept, the least recently used tenant dropped first.

use crate::fault::{Classify, Fault, Internal};
use std::sync::{Arc, Mutex};

use hashlink::LruCache;

use crate::search::Index;
use crate::skills::{Skill, Status};
use crate::store::{SkillStore, StoreError};

const MAX_TENANTS: usize = 256;
const MAX_SKILLS: usize = 100_000;

/// One tenant's skills at one revision.
pub struct Catalog {
    /// The store revision this was loaded at.
    pub revision: i64,
    /// Current versions that are not retired, by name.
    skills: Vec<Arc<Skill>>,
    /// Indices into `skills` of the published ones, in name order.
    published: Vec<usize>,
    /// Over `skills`.
    index: Index,
}

impl Catalog {
    fn new(revision: i64, mut skills: Vec<Skill>) -> Self {
        skills.retain(|s| s.status != Status::Retired);
        skills.sort_by(|a, b| a.manifest.name.cmp(&b.manifest.name));
        let skills: Vec<Arc<Skill>> = skills.into_iter().map(Arc::new).collect();
        let published = skills
            .iter()
            .enumerate()
            .filter(|(_, s)| s.status == Status::Published)
            .map(|(i, _)| i)
            .collect();
        let index = Index::build(&skills);
        Self {
            revision,
            skills,
            published,
            index,
        }
    }

    /// Published skills, in name order.
    pub fn published(&self) -> impl ExactSizeIterator<Item = &Arc<Skill>> + Clone {
        self.published.iter().map(|&i| &self.skills[i])
    }

    /// How many are published.
    pub fn published_len(&self) -> usize {
        self.published.len()
    }

    /// Drafts and published skills matching `query`, best first.
    pub fn search(&self, query: &str, limit: usize) -> Vec<(Arc<Skill>, f64)> {
        self.index
            .rank(query, limit)
            .into_iter()
            .map(|h| (self.skills[h.index].clone(), h.score))
            .collect()
    }
}

/// Why a catalog could not be had.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Indexing failed (a panic in the worker).
    #[error(transparent)]
    Worker(Internal),
}

impl Classify for CatalogError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Store(e) => e.kind(),
            Self::Worker(e) => e.kind(),
        }
    }
    fn fault(&self) -> Fault {
        match self {
            Self::Store(e) => e.fault(),
            Self::Worker(e) => e.fault(),
        }
    }
}

/// The catalogs of the tenants served lately.
pub(super) struct Catalogs {
    cache: Mutex<LruCache<String, Arc<Catalog>>>,
}

impl Default for Catalogs {
    fn default() -> Self {
        Self {
            cache: Mutex::new(LruCache::new(MAX_TENANTS)),
        }
    }
}

impl Catalogs {
    /// `tenant`'s catalog as the store has it now.
    pub async fn get(
        &self,
        store: &SkillStore,
        tenant: &str,
    ) -> Result<Arc<Catalog>, CatalogError> {
        // The revision first, the skills second: see `SkillStore::set_status`.
        let revision = store.catalog_revision(tenant).await?;
        if let Some(c) = self.lock().get(tenant)
            && c.revision == revision
        {
            return Ok(c.clone());
        }
        let skills = store.list(tenant).await?;
        let catalog = Arc::new(
            tokio::task::spawn_blocking(move || Catalog::new(revision, skills))
                .await
                .map_err(|e| CatalogError::Worker(Internal::of("indexing the catalog", e)))?,
        );
        let mut cache = self.lock();
        cache.insert(tenant.to_owned(), catalog.clone());
        let mut total: usize = cache.iter().map(|(_, c)| c.skills.len()).sum();
        while total > MAX_SKILLS && cache.len() > 1 {
            match cache.remove_lru() {
                Some((_, dropped)) => total -= dropped.skills.len(),
                None => break,
            }
        }
        Ok(catalog)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<Catalog>>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}
