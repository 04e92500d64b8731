//! What a skill may hold: field sizes, checked before anything is done with
//! the fields (hashing, storing, compiling, running), and the names that
//! belong to the server's built-in tools.
//!
//! Schema complexity (depth, `$ref`s, expanded size) has fixed bounds in
//! [`super::schema`]: they protect the host's validator, not a tenant's
//! budget, so no tenant may raise them.

use serde::Serialize;

use super::{ManifestError, SkillManifest};

/// Names of the built-in tools (and of those that will be): a skill may
/// never take one, however its name was chosen or derived, or it would
/// shadow the tool every client relies on.
pub const RESERVED_NAMES: &[&str] = &[
    "run_python",
    "create_skill",
    "crystallize",
    "search_skills",
    "get_skill",
    "retire_skill",
    "call_skill",
    "generate_skill",
    "review_skill",
    "list_skills",
    "learn",
];

/// Whether `name` belongs to a built-in tool. Tool names are matched
/// case-sensitively by clients, but a near-twin such as `Run_Python` would
/// still mislead a model, so the check ignores case and `-`/`_`.
pub fn is_reserved(name: &str) -> bool {
    let norm = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    let n = norm(name);
    RESERVED_NAMES.iter().any(|r| norm(r) == n)
}

/// Size limits on a skill's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkillLimits {
    /// The description, in bytes. Default: 4 KiB.
    pub description_bytes: usize,
    /// The Python source, in bytes. Default: 256 KiB.
    pub source_bytes: usize,
    /// Worked examples per skill. Default: 32.
    pub examples: usize,
    /// All examples together, as JSON, in bytes. Default: 256 KiB.
    pub examples_bytes: usize,
}

impl Default for SkillLimits {
    fn default() -> Self {
        Self {
            description_bytes: 4 << 10,
            source_bytes: 256 << 10,
            examples: 32,
            examples_bytes: 256 << 10,
        }
    }
}

impl SkillLimits {
    /// Check `m`'s field sizes. Cheap: sizes only, no parsing.
    pub fn check(&self, m: &SkillManifest) -> Result<(), ManifestError> {
        let too_large = |field, size, limit| {
            (size > limit).then_some(ManifestError::TooLarge { field, size, limit })
        };
        if let Some(e) = too_large("description", m.description.len(), self.description_bytes) {
            return Err(e);
        }
        if let Some(e) = too_large("source", m.source.len(), self.source_bytes) {
            return Err(e);
        }
        if m.examples.len() > self.examples {
            return Err(ManifestError::TooManyExamples {
                count: m.examples.len(),
                limit: self.examples,
            });
        }
        let examples_bytes = serde_json::to_string(&m.examples).map_or(usize::MAX, |s| s.len());
        if let Some(e) = too_large("examples", examples_bytes, self.examples_bytes) {
            return Err(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_ignore_case_and_dashes() {
        assert!(is_reserved("run_python"));
        assert!(is_reserved("Run-Python"));
        assert!(is_reserved("CALL_SKILL"));
        assert!(!is_reserved("run_python2"));
    }
}
