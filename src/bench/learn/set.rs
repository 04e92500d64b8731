//! The practice set: plain-English requests with the examples a user would
//! give, and held-back tests the pipeline never sees. Shipped in
//! `practice/requests.json` and embedded in the binary.

use serde::Deserialize;
use serde_json::Value;

use crate::sandbox::{CallError, Determinism, ResourceLimits, Sandbox, SkillCode};
use crate::skills::{Example, same_value};

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

/// How a piece of code did on held-back tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Score {
    /// Tests passed.
    pub passed: usize,
    /// Tests run.
    pub total: usize,
}

impl Score {
    /// Every test passed.
    pub fn all(&self) -> bool {
        self.total > 0 && self.passed == self.total
    }
}

/// Whether `got` meets the test's `want`: an equal value (as Python
/// compares), or, for `{"error": T}`, the exception `T`.
fn meets(got: &Result<Value, CallError>, want: &Value) -> bool {
    let raised = want
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("error"))
        .and_then(Value::as_str);
    match (got, raised) {
        (Err(CallError::Guest(fault)), Some(t)) => fault.error_type == t,
        (Ok(v), None) => same_value(v, want),
        _ => false,
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
    let limits = ResourceLimits::default();
    let mut passed = 0;
    for t in tests {
        let got = sandbox
            .run(code, &t.input.to_string(), &limits, Determinism::Seeded(0))
            .await
            .map(|o| serde_json::from_str(&o.json).unwrap_or(Value::Null));
        if meets(&got, &t.output) {
            passed += 1;
        }
    }
    Score {
        passed,
        total: tests.len(),
    }
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
