//! The practice set: plain-English requests with the examples a user would
//! give, and held-back tests the pipeline never sees. Shipped in
//! `practice/requests.json` and embedded in the binary.

use serde::Deserialize;

use crate::learn::grade;
pub use crate::learn::grade::Score;
use crate::sandbox::{Sandbox, SkillCode};
use crate::skills::Example;

/// The set shipped with AutoLearn.
pub const SHIPPED: &str = include_str!("../../../practice/requests.json");

/// A practice set (`format` 1).
#[derive(Debug, Clone, Deserialize)]
pub struct PracticeSet {
    /// The format version.
    pub format: u32,
    /// The requests.
    pub tasks: Vec<Task>,
}

/// One request.
#[derive(Debug, Clone, Deserialize)]
pub struct Task {
    /// Stable id, also the generated skill's name.
    pub id: String,
    /// crm, ecommerce, finance, text, timeseries, data.
    pub domain: String,
    /// What a user would ask, in plain English.
    pub request: String,
    /// The examples the pipeline sees.
    pub examples: Vec<Example>,
    /// Held-back tests: never shown to the pipeline, run once at the end.
    /// An output `{"error": "T"}` expects the Python exception `T`.
    pub tests: Vec<Example>,
    /// A correct solution's entry function.
    pub entry: String,
    /// A correct solution, used only to check the set itself.
    pub reference: String,
}

impl PracticeSet {
    /// Parse a set; every task needs examples and tests, ids are unique.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let set: Self = serde_json::from_str(text)?;
        anyhow::ensure!(
            set.format == 1,
            "unknown practice set format {}",
            set.format
        );
        let mut ids = std::collections::HashSet::new();
        for t in &set.tasks {
            anyhow::ensure!(ids.insert(&t.id), "task id {:?} appears twice", t.id);
            anyhow::ensure!(
                !t.tests.is_empty(),
                "task {:?} has no held-back tests",
                t.id
            );
        }
        Ok(set)
    }
}

/// Run `source` on `tests` in the sandbox under a normal call's limits.
pub async fn score(
    sandbox: &Sandbox,
    name: &str,
    source: &str,
    entry: &str,
    tests: &[Example],
) -> Score {
    let code = SkillCode {
        deps: &[],
        name,
        source,
        entry,
    };
    grade::score(sandbox, code, tests).await
}

/// Check the set against its reference solutions in the sandbox: every
/// reference must pass its own examples and tests. Returns what failed.
pub async fn check(sandbox: &Sandbox, set: &PracticeSet) -> Vec<String> {
    let mut wrong = Vec::new();
    for t in &set.tasks {
        let cases: Vec<Example> = t.examples.iter().chain(&t.tests).cloned().collect();
        let s = score(sandbox, &t.id, &t.reference, &t.entry, &cases).await;
        if !s.all() {
            wrong.push(format!(
                "{}: the reference passes {} of {}",
                t.id, s.passed, s.total
            ));
        }
    }
    wrong
}
