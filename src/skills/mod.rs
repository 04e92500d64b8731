//! The skill model: what a skill is, and the content hash that names it.
//!
//! Pure: no I/O, no wasmtime, no sqlx. A skill's id is the sha256 of a
//! canonical serialization of everything that defines its behaviour (name,
//! description, schemas, source, entry, examples). Mutable facts about a
//! skill (status, KPIs, trust, lineage) live beside it, not in the hash, so
//! that re-publishing identical code is recognisably the same skill.
//! About 400 lines, half of them the tests of the manifest's rules.

mod id;
mod limits;
pub mod package;
mod schema;
mod skill_md;
mod trust;
mod value;

pub use crate::runtime::Runtime;
use serde::{Deserialize, Serialize};

pub use id::{SkillId, SkillIdError};
pub use limits::{RESERVED_NAMES, SkillLimits, is_reserved};
pub use schema::{InputValidator, SchemaError, infer_input_schema, json_type};
pub use trust::{Kpis, W_AGREEMENT, W_EXAMPLES};
pub use value::same_value;

/// The fuel of one call under the default limits (the sandbox's default);
/// trust measures a skill's fuel against it.
pub const DEFAULT_FUEL_BUDGET: u64 = 2_000_000_000;

/// The tenant every skill belongs to when none is given.
pub const DEFAULT_TENANT: &str = "local";

/// A worked example: an input and the output it must produce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// Keyword arguments for the entry function.
    pub input: serde_json::Value,
    /// The result the skill must return for `input`.
    #[serde(alias = "expected")]
    pub output: serde_json::Value,
}

/// Everything that defines a skill's behaviour; hashed into its [`SkillId`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillManifest {
    /// Tool name: `[A-Za-z][A-Za-z0-9_-]{0,63}`.
    pub name: String,
    /// What the skill does, for people and for the LLM choosing tools.
    pub description: String,
    /// JSON Schema of the input object (the entry's keyword arguments).
    pub input_schema: serde_json::Value,
    /// JSON Schema of the result, if known.
    #[serde(default)]
    pub output_schema: Option<serde_json::Value>,
    /// Python source.
    pub source: String,
    /// The function to call.
    pub entry: String,
    /// Worked examples; they double as the skill's first tests.
    #[serde(default)]
    pub examples: Vec<Example>,
    /// Skills this one builds on, each pinned to the exact version it was
    /// verified with: a new version of a prerequisite changes nothing here
    /// until this skill is republished against it. Part of the hash (and
    /// left out of the canonical form when empty, so skills without
    /// prerequisites keep the ids they always had).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Requirement>,
    /// The author's opt-in to memoized calls: results cached by (skill id,
    /// input) and served without running it. Honoured only while the
    /// skill's KPIs say it is deterministic. Part of the hash (left out
    /// when false, so existing ids are unchanged).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub memoize: bool,
    /// The interpreter it runs on: `core` (the default) or `data` (numpy
    /// and pandas). Part of the hash (left out when `core`, so existing ids
    /// are unchanged).
    #[serde(default, skip_serializing_if = "Runtime::is_core")]
    pub runtime: Runtime,
}

/// A prerequisite of a skill, pinned by content hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Requirement {
    /// The prerequisite's name, a Python identifier: the skill imports it
    /// as `skills.<name>`.
    pub name: String,
    /// The version it runs with.
    pub id: SkillId,
}

/// Prerequisites one skill may pin; their closure is bounded by
/// [`MAX_DEPENDENCY_CLOSURE`].
pub const MAX_REQUIRES: usize = 8;
/// Skills (prerequisites of prerequisites included) one call may load.
pub const MAX_DEPENDENCY_CLOSURE: usize = 32;

impl SkillManifest {
    /// The content hash of this manifest.
    pub fn id(&self) -> SkillId {
        SkillId::of_canonical(&self.canonical_json())
    }

    /// The canonical serialization: JSON with sorted keys and no spaces.
    /// serde_json's default map is ordered, so this is stable.
    pub fn canonical_json(&self) -> String {
        // A Value round-trip sorts keys at every depth, schemas included.
        let value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        value.to_string()
    }

    /// Check the fields a store or tool registry relies on, and that
    /// every field fits `limits`, before any work is done with them.
    pub fn validate(&self, limits: &SkillLimits) -> Result<(), ManifestError> {
        if !valid_name(&self.name) {
            return Err(ManifestError::Name(self.name.clone()));
        }
        if is_reserved(&self.name) {
            return Err(ManifestError::Reserved(self.name.clone()));
        }
        if !is_identifier(&self.entry) {
            return Err(ManifestError::Entry(self.entry.clone()));
        }
        if self.source.trim().is_empty() {
            return Err(ManifestError::EmptySource);
        }
        if self.requires.len() > MAX_REQUIRES {
            return Err(ManifestError::TooManyRequires {
                count: self.requires.len(),
                limit: MAX_REQUIRES,
            });
        }
        let mut seen = std::collections::HashSet::new();
        for r in &self.requires {
            if !is_identifier(&r.name) || r.name == self.name || !seen.insert(&r.name) {
                return Err(ManifestError::Requirement(r.name.clone()));
            }
        }
        limits.check(self)?;
        InputValidator::new(&self.input_schema).map_err(ManifestError::Schema)?;
        if self.input_schema.get("type").and_then(|t| t.as_str()) != Some("object") {
            return Err(ManifestError::Schema(SchemaError::NotObject));
        }
        if let Some(out) = &self.output_schema {
            InputValidator::new(out).map_err(ManifestError::Schema)?;
        }
        Ok(())
    }
}

/// A manifest that cannot be stored.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum ManifestError {
    /// The name cannot be a tool name.
    #[error(
        "invalid skill name {0:?}: use a letter, then letters, digits, '_' or '-', at most 64 characters"
    )]
    Name(String),
    /// The name belongs to a built-in tool.
    #[error("{0:?} is the name of a built-in tool; choose another")]
    Reserved(String),
    /// The entry is not a Python identifier.
    #[error("invalid entry {0:?}: must be a Python function name")]
    Entry(String),
    /// No source.
    #[error("the skill has no source")]
    EmptySource,
    /// A field is over its size limit.
    #[error("the {field} is {size} bytes, over the {limit} byte limit")]
    TooLarge {
        /// Which field.
        field: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Too many examples.
    #[error("the skill has {count} examples, over the limit of {limit}")]
    TooManyExamples {
        /// How many were given.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A schema is not valid JSON Schema, or is too complex.
    #[error(transparent)]
    Schema(SchemaError),
    /// Too many prerequisites.
    #[error("the skill requires {count} skills, over the limit of {limit}")]
    TooManyRequires {
        /// How many were given.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A prerequisite cannot be imported under its name.
    #[error(
        "invalid prerequisite {0:?}: a prerequisite is named once, is not the skill itself, and its name must be a Python identifier"
    )]
    Requirement(String),
}

impl crate::fault::Classify for ManifestError {
    fn kind(&self) -> &'static str {
        "invalid_skill"
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 128
}

/// Where a skill came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Written by a person or an agent and handed in as code.
    Authored,
    /// Written by an LLM in the practice loop.
    Generated,
    /// Built from an agent's trace of `run_python` steps.
    Crystallized,
}

/// Where a skill is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Stored, not offered as a tool.
    Draft,
    /// Offered as a tool.
    Published,
    /// Withdrawn.
    Retired,
}

macro_rules! str_enum {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            /// The name stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
        }
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($s => Ok(Self::$v),)* other => Err(format!("unknown {}: {other:?}", stringify!($t))) }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
str_enum!(Provenance { Authored => "authored", Generated => "generated", Crystallized => "crystallized" });
str_enum!(Status { Draft => "draft", Published => "published", Retired => "retired" });

/// A stored skill version: the manifest plus what we know about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skill {
    /// Content hash of `manifest`.
    pub id: SkillId,
    /// Owner.
    pub tenant: String,
    /// 1 for the first version of a name, then 2, 3, ...
    pub version: u32,
    /// The version this one replaced.
    pub parent: Option<SkillId>,
    /// The hashed, behaviour-defining part.
    pub manifest: SkillManifest,
    /// Where it came from.
    pub provenance: Provenance,
    /// Draft, published or retired.
    pub status: Status,
    /// Verification measurements.
    pub kpis: Kpis,
    /// RFC 3339 creation time.
    pub created_at: String,
}

impl Skill {
    /// This version's trust, against the default per-call fuel budget.
    pub fn trust(&self) -> f64 {
        self.kpis.trust(DEFAULT_FUEL_BUDGET)
    }

    /// Everything about this version as JSON, its trust included.
    pub fn detail(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        v["trust"] = self.trust().into();
        v
    }

    /// The short JSON description listings show (no source).
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.manifest.name,
            "id": self.id,
            "version": self.version,
            "status": self.status,
            "provenance": self.provenance,
            "description": self.manifest.description,
            "runtime": self.manifest.runtime,
            "input_schema": self.manifest.input_schema,
            "kpis": self.kpis,
            "trust": self.trust(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use serde_json::json;

    fn manifest() -> SkillManifest {
        SkillManifest {
            runtime: Default::default(),
            memoize: false,
            requires: Vec::new(),
            name: "double".into(),
            description: "Double a number.".into(),
            input_schema: json!({"type": "object", "properties": {"x": {"type": "number"}}}),
            output_schema: None,
            source: "def f(x):\n    return 2 * x\n".into(),
            entry: "f".into(),
            examples: vec![Example {
                input: json!({"x": 2}),
                output: json!(4),
            }],
        }
    }

    #[test]
    fn id_ignores_key_order_in_schemas() {
        let a = manifest();
        let mut b = manifest();
        b.input_schema =
            serde_json::from_str(r#"{"properties": {"x": {"type": "number"}}, "type": "object"}"#)
                .unwrap();
        assert_eq!(a.id(), b.id());
    }

    #[test]
    fn id_changes_with_any_behavioural_field() {
        let base = manifest().id();
        let mut m = manifest();
        m.source.push(' ');
        assert_ne!(m.id(), base);
        let mut m = manifest();
        m.entry = "g".into();
        assert_ne!(m.id(), base);
        let mut m = manifest();
        m.examples[0].output = json!(5);
        assert_ne!(m.id(), base);
    }

    #[test]
    fn validate_rejects_bad_names_and_entries() {
        let mut m = manifest();
        m.name = "1bad".into();
        assert!(matches!(
            m.validate(&SkillLimits::default()),
            Err(ManifestError::Name(_))
        ));
        let mut m = manifest();
        m.entry = "f()".into();
        assert!(matches!(
            m.validate(&SkillLimits::default()),
            Err(ManifestError::Entry(_))
        ));
        let mut m = manifest();
        m.input_schema = json!({"type": "array"});
        assert!(m.validate(&SkillLimits::default()).is_err());
        assert!(manifest().validate(&SkillLimits::default()).is_ok());
    }

    #[test]
    fn prerequisites_are_bounded_named_once_and_never_the_skill_itself() {
        let id = manifest().id();
        let pin = |name: &str| Requirement {
            name: name.into(),
            id: id.clone(),
        };
        let limits = SkillLimits::default();
        let with = |requires: Vec<Requirement>| SkillManifest {
            requires,
            ..manifest()
        };
        assert!(with(vec![pin("a"), pin("b")]).validate(&limits).is_ok());
        let many = (0..=MAX_REQUIRES).map(|i| pin(&format!("s{i}"))).collect();
        assert!(matches!(
            with(many).validate(&limits),
            Err(ManifestError::TooManyRequires { .. })
        ));
        for bad in [
            vec![pin("a"), pin("a")],
            vec![pin("double")],
            vec![pin("not-an-identifier")],
        ] {
            assert!(matches!(
                with(bad).validate(&limits),
                Err(ManifestError::Requirement(_))
            ));
        }
        // No prerequisites: the canonical form (and so the id) is unchanged.
        assert!(!manifest().canonical_json().contains("requires"));
        assert_ne!(with(vec![pin("a")]).id(), manifest().id());
    }
}
