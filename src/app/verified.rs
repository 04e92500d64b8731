//! Verified skills by (tenant, name), so a call skips decoding, the hash
//! check and schema compilation. Every call still asks for the newest id
//! and status (`heads.rs`), so a new version, a retirement or a write by
//! another process is seen at once; and what runs is always content that
//! was verified when it was loaded.
//!
//! Bounded per tenant and in all ([`crate::lru`]), in entries and in bytes
//! (an estimate: the sources it holds, and its schemas several times over
//! for their compiled form), so a tenant with ten thousand skills, or huge
//! ones, evicts only its own.

use std::sync::Arc;

use crate::lru::{Bounds, PartitionedLru};
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
pub(super) struct VerifiedSkills(Arc<PartitionedLru<String, Arc<Verified>>>);

impl Default for VerifiedSkills {
    fn default() -> Self {
        Self(Arc::new(PartitionedLru::new(BOUNDS)))
    }
}

impl VerifiedSkills {
    pub fn get(&self, tenant: &str, name: &str, id: &SkillId) -> Option<Arc<Verified>> {
        self.0
            .get(tenant, &name.to_owned())
            .filter(|v| &v.skill.id == id)
    }

    pub fn put(&self, tenant: &str, name: &str, v: Arc<Verified>) {
        let bytes = v.bytes();
        self.0.put(tenant, name.to_owned(), v, bytes);
    }

    /// Drop the entry of one skill (another replica changed it).
    pub fn forget(&self, tenant: &str, name: &str) {
        self.0.remove(tenant, &name.to_owned());
    }

    /// Drop every entry.
    pub fn forget_all(&self) {
        self.0.clear();
    }

    /// Drop every entry of `tenant` (its skills were cleared).
    pub fn forget_tenant(&self, tenant: &str) {
        self.0.remove_partition(tenant);
    }
}
