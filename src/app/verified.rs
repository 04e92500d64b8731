//! Verified skills by (tenant, name), so a call skips decoding, the hash
//! check and schema compilation. Every call still asks the store for the
//! newest id and status (one indexed lookup), so a new version, a
//! retirement or a write by another process is seen at once; and what runs
//! is always content that was verified when it was loaded.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::skills::{InputValidator, Skill, SkillId};

/// A skill as loaded and hash-checked, with its schemas compiled.
pub(super) struct Verified {
    pub skill: Arc<Skill>,
    /// Its prerequisites' closure, at the pinned versions.
    pub deps: Vec<crate::sandbox::Dependency>,
    pub input: InputValidator,
    pub output: Option<InputValidator>,
}

type VerifiedMap = HashMap<(String, String), Arc<Verified>>;

#[derive(Clone, Default)]
pub(super) struct VerifiedSkills(Arc<RwLock<VerifiedMap>>);

impl VerifiedSkills {
    pub fn get(&self, tenant: &str, name: &str, id: &SkillId) -> Option<Arc<Verified>> {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        map.get(&(tenant.to_owned(), name.to_owned()))
            .filter(|v| &v.skill.id == id)
            .cloned()
    }

    pub fn put(&self, tenant: &str, name: &str, v: Arc<Verified>) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        map.insert((tenant.to_owned(), name.to_owned()), v);
    }
}

impl VerifiedSkills {
    /// Drop the entry of one skill (another replica changed it).
    pub fn forget(&self, tenant: &str, name: &str) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        map.remove(&(tenant.to_owned(), name.to_owned()));
    }

    /// Drop every entry.
    pub fn forget_all(&self) {
        self.0.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Drop every entry of `tenant` (its skills were cleared).
    pub fn forget_tenant(&self, tenant: &str) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        map.retain(|(t, _), _| t != tenant);
    }
}
