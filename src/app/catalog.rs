//! A tenant's catalog: its current skills (every name's newest version that
//! is not retired), sorted by name, with a search index, loaded once and
//! kept while the tenant's catalog revision in the store is unchanged. The
//! store moves that revision on with every write to the tenant's skills,
//! from any process or replica, so one indexed read per request keeps a
//! cached catalog exact: `tools/list` pages and `search_skills` over 10,000
//! skills cost a lookup, not a reload and a re-hash of every skill.
//!
//! Kept in the one cache layer (`cache.rs`), its version the revision:
//! at most 256 catalogs and 256 MiB in all (64 MiB of one tenant), the
//! least recently used dropped first.

use std::collections::HashMap;
use std::sync::Arc;

use super::cache::{Ages, Cache};
use crate::fault::{Classify, Fault, Internal};
use crate::lru::Bounds;
use crate::search::Index;
use crate::skills::{Skill, Status, package};
use crate::store::{SkillStore, StoreError};

const BOUNDS: Bounds = Bounds {
    entries: 256,
    bytes: 256 << 20,
    partition_entries: 1,
    partition_bytes: 64 << 20,
    entry_bytes: 64 << 20,
};

/// What a catalog holds, roughly: its skills' text, twice over for the
/// index.
fn catalog_bytes(c: &Arc<Catalog>) -> usize {
    c.skills
        .iter()
        .map(|s| {
            let m = &s.manifest;
            512 + 2 * (m.source.len() + m.description.len() + m.input_schema.to_string().len())
        })
        .sum()
}

/// One tenant's skills at one revision.
pub struct Catalog {
    /// The store revision this was loaded at.
    pub revision: i64,
    /// Current versions that are not retired, by name.
    skills: Vec<Arc<Skill>>,
    /// Indices into `skills` of the published ones, in name order.
    published: Vec<usize>,
    /// The Agent Skills name of each published skill, as `published`.
    agent_names: Vec<String>,
    /// Index into `published` by Agent Skills name.
    by_agent_name: HashMap<String, usize>,
    /// Over `skills`.
    index: Index,
}

impl Catalog {
    fn new(revision: i64, mut skills: Vec<Skill>) -> Self {
        skills.retain(|s| s.status != Status::Retired);
        skills.sort_by(|a, b| a.manifest.name.cmp(&b.manifest.name));
        let skills: Vec<Arc<Skill>> = skills.into_iter().map(Arc::new).collect();
        let published: Vec<usize> = skills
            .iter()
            .enumerate()
            .filter(|(_, s)| s.status == Status::Published)
            .map(|(i, _)| i)
            .collect();
        let agent_names = package::agent_names(
            published
                .iter()
                .map(|&i| (skills[i].manifest.name.as_str(), &skills[i].id)),
        );
        let by_agent_name = agent_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let index = Index::build(&skills);
        Self {
            revision,
            skills,
            published,
            agent_names,
            by_agent_name,
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

    /// Published skills with their Agent Skills names, in name order.
    pub fn published_agent_skills(
        &self,
    ) -> impl ExactSizeIterator<Item = (&Arc<Skill>, &str)> + Clone {
        self.published()
            .zip(self.agent_names.iter().map(String::as_str))
    }

    /// The published skill served as the Agent Skill `name`.
    pub fn by_agent_name(&self, name: &str) -> Option<&Arc<Skill>> {
        self.by_agent_name
            .get(name)
            .map(|&i| &self.skills[self.published[i]])
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
pub(super) struct Catalogs(Cache<(), Arc<Catalog>, i64>);

impl Default for Catalogs {
    fn default() -> Self {
        Self(Cache::new(BOUNDS, Ages::WHILE_VERSION, catalog_bytes))
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
        let load = async || {
            let skills = store.list(tenant).await?;
            let catalog = tokio::task::spawn_blocking(move || Catalog::new(revision, skills))
                .await
                .map_err(|e| CatalogError::Worker(Internal::of("indexing the catalog", e)))?;
            Ok(Arc::new(catalog))
        };
        self.0.get(tenant, (), Some(revision), load, |_| true).await
    }
}
