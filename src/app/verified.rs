//! Verified skills by (tenant, name), so a call skips decoding, the hash
//! check and schema compilation. Every call still asks for the newest id
//! and status (`heads.rs`), so a new version, a retirement or a write by
//! another process is seen at once; and what runs is always content that
//! was verified when it was loaded.
//!
//! Kept in the one cache layer (`cache.rs`), its version the skill's id.
//! Bounded per tenant and in all ([`crate::lru`]), in entries and in bytes
//! (an estimate: the sources it holds, and its schemas several times over
//! for their compiled form), so a tenant with ten thousand skills, or huge
//! ones, evicts only its own.

use std::sync::Arc;

use super::cache::{Ages, Cache};
use crate::lru::Bounds;
use crate::skills::{InputValidator, Skill, SkillId};

/// 4,096 skills and 256 MiB in all; a quarter of each per tenant.
const BOUNDS: Bounds = Bounds {
    entries: 4_096,
    bytes: 256 << 20,
    partition_entries: 1_024,
    partition_bytes: 64 << 20,
    entry_bytes: 16 << 20,
};

/// Compiled validators take several times their schema's text.
const SCHEMA_FACTOR: usize = 8;

/// A skill as loaded and hash-checked, with its schemas compiled.
pub(super) struct Verified {
    pub skill: Arc<Skill>,
    /// Its prerequisites' closure, at the pinned versions.
    pub deps: Vec<crate::sandbox::Dependency>,
    pub input: InputValidator,
    pub output: Option<InputValidator>,
}

impl Verified {
    /// What this entry holds, roughly, in bytes.
    fn bytes(&self) -> usize {
        let m = &self.skill.manifest;
        let schemas = m.input_schema.to_string().len()
            + m.output_schema.as_ref().map_or(0, |s| s.to_string().len());
        let deps: usize = self
            .deps
            .iter()
            .map(|d| d.source.len() + d.name.len())
            .sum();
        1024 + m.source.len() + m.description.len() + deps + SCHEMA_FACTOR * schemas
    }
}

#[derive(Clone)]
pub(super) struct VerifiedSkills(Arc<Cache<String, Arc<Verified>, SkillId>>);

impl Default for VerifiedSkills {
    fn default() -> Self {
        Self(Arc::new(Cache::new(BOUNDS, Ages::WHILE_VERSION, |v| {
            v.bytes()
        })))
    }
}

impl VerifiedSkills {
    /// `tenant`'s `name` at version `id`: cached, or made by `load`.
    pub async fn get<E>(
        &self,
        tenant: &str,
        name: &str,
        id: &SkillId,
        load: impl AsyncFnOnce() -> Result<Arc<Verified>, E>,
    ) -> Result<Arc<Verified>, E> {
        self.0
            .get(tenant, name.to_owned(), Some(id.clone()), load, |_| true)
            .await
    }

    /// Drop the entry of one skill (another replica changed it).
    pub fn forget(&self, tenant: &str, name: &str) {
        self.0.forget(tenant, &name.to_owned());
    }

    /// Drop every entry.
    pub fn forget_all(&self) {
        self.0.forget_all();
    }

    /// Drop every entry of `tenant` (its skills were cleared).
    pub fn forget_tenant(&self, tenant: &str) {
        self.0.forget_tenant(tenant);
    }
}
