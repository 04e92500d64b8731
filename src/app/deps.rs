//! Skills built on skills. A manifest pins each prerequisite by content
//! hash; here its closure (prerequisites of prerequisites) is loaded from
//! the store, every version hash-checked, for the sandbox to offer as
//! `skills.<name>`. Because pins are ids, republishing a prerequisite
//! changes no dependant until the dependant is republished against it.

use std::collections::{HashMap, VecDeque};

use crate::sandbox::Dependency;
use crate::skills::{MAX_DEPENDENCY_CLOSURE, Requirement, SkillId, SkillManifest};
use crate::store::StoreError;

/// A skill's prerequisites cannot be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DependencyError {
    /// A pin names no stored version of that skill.
    #[error("prerequisite {name:?} has no stored version {id}")]
    Missing {
        /// The prerequisite.
        name: String,
        /// The pinned version.
        id: SkillId,
    },
    /// Two skills in the closure pin different versions of one name, which
    /// cannot both be imported as `skills.<name>`.
    #[error("prerequisites pin two versions of {0:?}; republish them against one version")]
    Conflict(String),
    /// The closure is over [`MAX_DEPENDENCY_CLOSURE`] skills.
    #[error("the skill builds on more than {0} skills (prerequisites of prerequisites included)")]
    TooMany(usize),
    /// The store failed, or a row is tampered.
    #[error(transparent)]
    Store(StoreError),
}

impl crate::fault::Classify for DependencyError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Store(e) => e.kind(),
            _ => "dependency",
        }
    }
    fn fault(&self) -> crate::fault::Fault {
        match self {
            Self::Store(e) => e.fault(),
            _ => crate::fault::Fault::Caller,
        }
    }
}

impl super::Skills<'_> {
    /// The closure of `manifest`'s prerequisites, each at its pinned
    /// version, breadth first. Empty for a skill that builds on nothing.
    pub async fn dependencies(
        &self,
        tenant: &str,
        manifest: &SkillManifest,
    ) -> Result<Vec<Dependency>, DependencyError> {
        self.closure(tenant, &manifest.name, &manifest.requires)
            .await
    }

    /// The closure of `requires` for a skill named `name`.
    pub async fn closure(
        &self,
        tenant: &str,
        name: &str,
        requires: &[Requirement],
    ) -> Result<Vec<Dependency>, DependencyError> {
        let mut pinned: HashMap<String, SkillId> = HashMap::new();
        let mut out = Vec::new();
        let mut queue: VecDeque<Requirement> = requires.iter().cloned().collect();
        while let Some(r) = queue.pop_front() {
            match pinned.get(&r.name) {
                Some(id) if *id == r.id => continue,
                Some(_) => return Err(DependencyError::Conflict(r.name)),
                None => {}
            }
            if out.len() >= MAX_DEPENDENCY_CLOSURE {
                return Err(DependencyError::TooMany(MAX_DEPENDENCY_CLOSURE));
            }
            let skill = match self.app.store.get(tenant, &r.id).await {
                Ok(s) if s.manifest.name == r.name => s,
                Ok(_) | Err(StoreError::NotFound(_)) => {
                    return Err(DependencyError::Missing {
                        name: r.name,
                        id: r.id,
                    });
                }
                Err(e) => return Err(DependencyError::Store(e)),
            };
            pinned.insert(r.name.clone(), r.id.clone());
            queue.extend(skill.manifest.requires.iter().cloned());
            out.push(Dependency {
                name: skill.manifest.name,
                source: skill.manifest.source,
                entry: skill.manifest.entry,
            });
        }
        if pinned.contains_key(name) {
            return Err(DependencyError::Conflict(name.to_owned()));
        }
        Ok(out)
    }
}
