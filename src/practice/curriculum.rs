//! Curricula as data: domains → projects → skill goals, one JSON file per
//! domain in `curricula/` (the format is documented in
//! `curricula/README.md`). The shipped files are embedded in the binary;
//! `--curricula DIR` reads others. Parsing checks everything the loop
//! relies on (unique ids, known and acyclic prerequisites), and [`check`]
//! runs every reference solution in the sandbox.
//!
//! Over 400 lines because the format's types and its checks belong
//! together: each rule sits beside the field it checks.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::learn::grade::score;
use crate::sandbox::{Dependency, ResourceLimits, Sandbox, SkillCode};
use crate::skills::Example;

/// The curricula shipped with AutoLearn, by file name.
pub const SHIPPED: [(&str, &str); 11] = [
    (
        "business_apps.json",
        include_str!("../../curricula/business_apps.json"),
    ),
    (
        "cloud_infrastructure.json",
        include_str!("../../curricula/cloud_infrastructure.json"),
    ),
    (
        "data_engineering.json",
        include_str!("../../curricula/data_engineering.json"),
    ),
    (
        "data_science.json",
        include_str!("../../curricula/data_science.json"),
    ),
    (
        "devops_sre.json",
        include_str!("../../curricula/devops_sre.json"),
    ),
    (
        "emerging_tech.json",
        include_str!("../../curricula/emerging_tech.json"),
    ),
    (
        "machine_learning.json",
        include_str!("../../curricula/machine_learning.json"),
    ),
    (
        "operations_delivery.json",
        include_str!("../../curricula/operations_delivery.json"),
    ),
    (
        "programming.json",
        include_str!("../../curricula/programming.json"),
    ),
    (
        "security_compliance.json",
        include_str!("../../curricula/security_compliance.json"),
    ),
    (
        "software_architecture.json",
        include_str!("../../curricula/software_architecture.json"),
    ),
];

/// One knowledge domain (one file).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Domain {
    /// The format version (1).
    pub format: u32,
    /// Its id, e.g. `business_apps`.
    pub domain: String,
    /// Its name, e.g. "Business Applications".
    pub name: String,
    /// What it covers.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Its projects.
    pub projects: Vec<Project>,
}

/// A project: a set of related skills.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Project {
    /// Its id, e.g. `proj_crm_system`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Business priority, 1 first.
    pub priority: u32,
    /// Projects that must be complete before this one starts.
    #[serde(default)]
    pub requires: Vec<String>,
    /// What it builds.
    #[serde(default)]
    pub description: String,
    /// Its skill goals.
    pub goals: Vec<Goal>,
}

impl Project {
    /// The sum of its goals' complexity: the manager's tie-breaker.
    pub fn complexity(&self) -> u32 {
        self.goals.iter().map(|g| g.complexity).sum()
    }
}

/// One skill to learn.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Goal {
    /// Unique id, a Python identifier; the skill's name.
    pub id: String,
    /// What a user would ask, in plain English.
    pub request: String,
    /// The reference solution's function.
    pub entry: String,
    /// 1 (a few lines) to 5 (an algorithm).
    pub complexity: u32,
    /// Goals whose skills this one may build on.
    #[serde(default)]
    pub requires: Vec<String>,
    /// The worked examples the generator sees.
    pub examples: Vec<Example>,
    /// Held-back tests: run once, after publishing, to measure.
    pub tests: Vec<Example>,
    /// A correct solution, used only to check the curriculum.
    pub reference: String,
    /// The runtime its skill runs on: `data` for goals that need numpy or
    /// pandas (default `core`).
    #[serde(default)]
    pub runtime: crate::runtime::Runtime,
}

/// Every domain, with indexes.
#[derive(Debug, Clone)]
pub struct Curriculum {
    /// The domains, in file-name order.
    pub domains: Vec<Domain>,
}

/// A curriculum that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CurriculumError {
    /// A file is not valid JSON of the format.
    #[error("{file}: {reason}")]
    Parse {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// The files do not fit together.
    #[error("{0}")]
    Invalid(String),
    /// A directory could not be read.
    #[error("reading {0}")]
    Io(String, #[source] std::io::Error),
}

impl Curriculum {
    /// The shipped curricula.
    pub fn shipped() -> Result<Self, CurriculumError> {
        Self::parse(
            SHIPPED
                .iter()
                .map(|(f, t)| ((*f).to_owned(), (*t).to_owned())),
        )
    }

    /// Every `*.json` file of `dir`.
    pub fn from_dir(dir: &std::path::Path) -> Result<Self, CurriculumError> {
        let io = |e| CurriculumError::Io(dir.display().to_string(), e);
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| CurriculumError::Io(path.display().to_string(), e))?;
                files.push((path.display().to_string(), text));
            }
        }
        files.sort();
        Self::parse(files)
    }

    /// Parse and check files given as (name, text).
    pub fn parse(
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, CurriculumError> {
        let mut domains = Vec::new();
        for (file, text) in files {
            let d: Domain = serde_json::from_str(&text).map_err(|e| CurriculumError::Parse {
                file: file.clone(),
                reason: e.to_string(),
            })?;
            if d.format != 1 {
                return Err(CurriculumError::Parse {
                    file,
                    reason: format!("unknown format {}", d.format),
                });
            }
            domains.push(d);
        }
        let c = Self { domains };
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<(), CurriculumError> {
        let bad = |m: String| Err(CurriculumError::Invalid(m));
        let mut domains = HashSet::new();
        let mut projects = HashSet::new();
        let mut goals: HashMap<&str, &Goal> = HashMap::new();
        for d in &self.domains {
            if !domains.insert(&d.domain) {
                return bad(format!("domain {:?} appears twice", d.domain));
            }
            for p in &d.projects {
                if !projects.insert(p.id.as_str()) {
                    return bad(format!("project {:?} appears twice", p.id));
                }
                if p.goals.is_empty() {
                    return bad(format!("project {:?} has no goals", p.id));
                }
                for g in &p.goals {
                    if !is_goal_id(&g.id) {
                        return bad(format!(
                            "goal id {:?} must be a lowercase Python identifier of at most 64 characters",
                            g.id
                        ));
                    }
                    if goals.insert(&g.id, g).is_some() {
                        return bad(format!("goal {:?} appears twice", g.id));
                    }
                    if g.examples.is_empty() || g.tests.is_empty() {
                        return bad(format!("goal {:?} needs examples and tests", g.id));
                    }
                    if !(1..=5).contains(&g.complexity) {
                        return bad(format!("goal {:?}: complexity must be 1 to 5", g.id));
                    }
                }
            }
        }
        for d in &self.domains {
            for p in &d.projects {
                if let Some(r) = p.requires.iter().find(|r| !projects.contains(r.as_str())) {
                    return bad(format!("project {:?} requires unknown {r:?}", p.id));
                }
            }
        }
        for g in goals.values() {
            if let Some(r) = g.requires.iter().find(|r| !goals.contains_key(r.as_str())) {
                return bad(format!("goal {:?} requires unknown {r:?}", g.id));
            }
            // A walk longer than the number of goals has met a cycle.
            let mut frontier: Vec<&str> = g.requires.iter().map(String::as_str).collect();
            for _ in 0..=goals.len() {
                if frontier.is_empty() {
                    break;
                }
                if frontier.contains(&g.id.as_str()) {
                    return bad(format!("goal {:?} requires itself", g.id));
                }
                frontier = frontier
                    .iter()
                    .flat_map(|f| goals[f].requires.iter().map(String::as_str))
                    .collect();
            }
        }
        Ok(())
    }

    /// Every project with its domain.
    pub fn projects(&self) -> impl Iterator<Item = (&Domain, &Project)> {
        self.domains
            .iter()
            .flat_map(|d| d.projects.iter().map(move |p| (d, p)))
    }

    /// A project and its domain, by id.
    pub fn project(&self, id: &str) -> Option<(&Domain, &Project)> {
        self.projects().find(|(_, p)| p.id == id)
    }

    /// A goal, by id.
    pub fn goal(&self, id: &str) -> Option<&Goal> {
        self.projects()
            .flat_map(|(_, p)| &p.goals)
            .find(|g| g.id == id)
    }

    /// Every goal.
    pub fn goals(&self) -> impl Iterator<Item = &Goal> {
        self.projects().flat_map(|(_, p)| &p.goals)
    }
}

fn is_goal_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && id.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The reference solutions of `goal`'s prerequisites, as sandbox
/// dependencies (the closure, each under its goal id).
fn reference_deps(curriculum: &Curriculum, goal: &Goal) -> Vec<Dependency> {
    let mut out: Vec<Dependency> = Vec::new();
    let mut queue: Vec<&str> = goal.requires.iter().map(String::as_str).collect();
    while let Some(id) = queue.pop() {
        if out.iter().any(|d| d.name == id) {
            continue;
        }
        if let Some(g) = curriculum.goal(id) {
            queue.extend(g.requires.iter().map(String::as_str));
            out.push(Dependency {
                name: g.id.clone(),
                source: g.reference.clone(),
                entry: g.entry.clone(),
            });
        }
    }
    out
}

/// Check the curriculum in the sandbox: every reference solution, with its
/// prerequisites' references importable, must pass its own examples and
/// tests, and have no static finding of severity error. Returns what failed.
pub async fn check(sandbox: &Sandbox, curriculum: &Curriculum) -> Vec<String> {
    let mut wrong = Vec::new();
    for g in curriculum.goals() {
        let deps = reference_deps(curriculum, g);
        let code = SkillCode {
            name: &g.id,
            source: &g.reference,
            entry: &g.entry,
            deps: &deps,
            runtime: g.runtime,
        };
        match sandbox.check(code, &ResourceLimits::default()).await {
            Ok(findings) => {
                for f in findings.iter().filter(|f| f.severity == "error") {
                    wrong.push(format!(
                        "{}: line {}: {} {}",
                        g.id, f.line, f.code, f.message
                    ));
                }
            }
            Err(e) => wrong.push(format!("{}: the static check failed: {e}", g.id)),
        }
        let cases: Vec<Example> = g.examples.iter().chain(&g.tests).cloned().collect();
        let s = score(sandbox, code, &cases).await;
        if s.passed != s.total {
            wrong.push(format!(
                "{}: the reference passes {} of {}",
                g.id, s.passed, s.total
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
    fn the_shipped_curricula_cover_the_eleven_domains_and_the_priority_projects() {
        let c = Curriculum::shipped().unwrap();
        assert_eq!(c.domains.len(), 11);
        for id in [
            "proj_crm_system",
            "proj_ecommerce_analytics",
            "proj_cloud_infrastructure",
        ] {
            let (_, p) = c.project(id).unwrap();
            assert!(p.goals.len() >= 10, "{id}: {} goals", p.goals.len());
            assert!(p.goals.iter().any(|g| !g.requires.is_empty()), "{id}");
        }
        for d in &c.domains {
            assert!(
                d.projects.iter().any(|p| p.goals.len() >= 3),
                "{} needs a project of 3 goals",
                d.domain
            );
        }
    }

    fn one(goals: &str) -> Result<Curriculum, CurriculumError> {
        let text = format!(
            r#"{{"format": 1, "domain": "d", "name": "D", "projects": [{{"id": "p", "name": "P", "priority": 1, "goals": {goals}}}]}}"#
        );
        Curriculum::parse([("d.json".to_owned(), text)])
    }

    #[test]
    fn unknown_and_cyclic_prerequisites_are_refused() {
        let goal = |id: &str, requires: &str| {
            format!(
                r#"{{"id": "{id}", "request": "r", "entry": "f", "complexity": 1, "requires": {requires}, "examples": [{{"input": {{}}, "output": 1}}], "tests": [{{"input": {{}}, "output": 1}}], "reference": "def f():\n    return 1\n"}}"#
            )
        };
        assert!(one(&format!("[{}]", goal("a", "[]"))).is_ok());
        let unknown = one(&format!("[{}]", goal("a", r#"["zz"]"#))).unwrap_err();
        assert!(unknown.to_string().contains("unknown"), "{unknown}");
        let cycle = one(&format!(
            "[{}, {}]",
            goal("a", r#"["b"]"#),
            goal("b", r#"["a"]"#)
        ))
        .unwrap_err();
        assert!(cycle.to_string().contains("requires itself"), "{cycle}");
        let bad_id = one(&format!("[{}]", goal("A-b", "[]"))).unwrap_err();
        assert!(bad_id.to_string().contains("identifier"), "{bad_id}");
    }
}
