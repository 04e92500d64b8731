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

impl Task {
    /// What a solution is graded on: the held-back tests and the user's
    /// own examples (a program that fails the examples it was shown is not
    /// right, whatever the tests miss).
    pub fn grading(&self) -> Vec<Example> {
        self.tests.iter().chain(&self.examples).cloned().collect()
    }
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

/// Which half of the set a task is in. Within each domain, in the set's
/// order, tasks alternate: the first, third, ... are `dev`, the second,
/// fourth, ... `held-out`. Rules are tuned on `dev` only; `held-out` is
/// where they are measured (a rule changed after seeing a run measures
/// nothing on that run's tasks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Half {
    /// Tuned on.
    Dev,
    /// Measured on.
    HeldOut,
}

impl Half {
    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::HeldOut => "held-out",
        }
    }
}

impl PracticeSet {
    /// The half of each task, in the set's order.
    pub fn halves(&self) -> Vec<Half> {
        let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        self.tasks
            .iter()
            .map(|t| {
                let n = seen.entry(t.domain.as_str()).or_default();
                *n += 1;
                if *n % 2 == 1 {
                    Half::Dev
                } else {
                    Half::HeldOut
                }
            })
            .collect()
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
        runtime: crate::runtime::Runtime::Core,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn the_shipped_set_splits_into_two_halves_per_domain() {
        let set = PracticeSet::parse(SHIPPED).unwrap();
        let halves = set.halves();
        let mut domains: Vec<&str> = set.tasks.iter().map(|t| t.domain.as_str()).collect();
        domains.dedup();
        for d in domains {
            let of = |h: Half| {
                set.tasks
                    .iter()
                    .zip(&halves)
                    .filter(|(t, x)| t.domain == d && **x == h)
                    .count()
            };
            assert!(of(Half::Dev).abs_diff(of(Half::HeldOut)) <= 1, "{d}");
        }
        assert_eq!(halves[0], Half::Dev);
    }
}
