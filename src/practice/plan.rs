//! A project's plan: the five phases of the brief, each made of real steps
//! of the pipeline, one per goal, plus the closing measurement.
//!
//! | phase | step per goal | what runs |
//! |---|---|---|
//! | 1 research and design | `research` | related published skills (search), edge cases met before, the signature from the examples |
//! | 2 core implementation | `implement` | generation (spec, candidates, agreement, repair), verification, publish at trust ≥ 70 (goals without prerequisites, complexity ≤ 2) |
//! | 3 advanced features | `implement` | the same, for the rest, with the trusted prerequisites importable, pinned by hash |
//! | 4 testing and edge cases | `test` | edge inputs from the schema and mutations of the examples in the sandbox; the held-back tests, once |
//! | 5 documentation and KPIs | `document`, then `kpis` | each skill's doc (edge cases hardened against); the project's KPIs and trust |

use serde::Serialize;

use super::curriculum::{Goal, Project};

/// The five phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Research existing skills and design each goal's signature.
    ResearchDesign = 1,
    /// Build the goals with no prerequisites and low complexity.
    CoreImplementation = 2,
    /// Build the rest, on the skills of their prerequisites.
    AdvancedFeatures = 3,
    /// Probe each skill with edge inputs; run the held-back tests once.
    TestingEdgeCases = 4,
    /// Document each skill; measure KPIs and trust.
    DocumentationKpis = 5,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 5] = [
        Phase::ResearchDesign,
        Phase::CoreImplementation,
        Phase::AdvancedFeatures,
        Phase::TestingEdgeCases,
        Phase::DocumentationKpis,
    ];

    /// Its number, 1 to 5.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The phase of a number.
    pub fn of(n: u8) -> Option<Phase> {
        Self::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Phase::ResearchDesign => "Research and design",
            Phase::CoreImplementation => "Core implementation",
            Phase::AdvancedFeatures => "Advanced features",
            Phase::TestingEdgeCases => "Testing and edge cases",
            Phase::DocumentationKpis => "Documentation and KPIs",
        }
    }
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Phase 1.
    Research,
    /// Phases 2 and 3.
    Implement,
    /// Phase 4.
    Test,
    /// Phase 5, per goal.
    Document,
    /// Phase 5, once: the project's KPIs and trust.
    Kpis,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Its phase.
    #[serde(skip)]
    pub phase: Phase,
    /// Its goal ('' for the project-wide step).
    pub goal_id: String,
    /// What it does.
    pub action: Action,
}

/// Goals built in phase 2; the rest are phase 3.
pub fn is_core(goal: &Goal) -> bool {
    goal.requires.is_empty() && goal.complexity <= 2
}

/// Every step of `project`'s plan, in order.
pub fn steps(project: &Project) -> Vec<Step> {
    let step = |phase, goal: &Goal, action| Step {
        phase,
        goal_id: goal.id.clone(),
        action,
    };
    let goals = &project.goals;
    let mut out: Vec<Step> = goals
        .iter()
        .map(|g| step(Phase::ResearchDesign, g, Action::Research))
        .collect();
    out.extend(
        goals
            .iter()
            .filter(|g| is_core(g))
            .map(|g| step(Phase::CoreImplementation, g, Action::Implement)),
    );
    out.extend(
        goals
            .iter()
            .filter(|g| !is_core(g))
            .map(|g| step(Phase::AdvancedFeatures, g, Action::Implement)),
    );
    out.extend(
        goals
            .iter()
            .map(|g| step(Phase::TestingEdgeCases, g, Action::Test)),
    );
    out.extend(
        goals
            .iter()
            .map(|g| step(Phase::DocumentationKpis, g, Action::Document)),
    );
    out.push(Step {
        phase: Phase::DocumentationKpis,
        goal_id: String::new(),
        action: Action::Kpis,
    });
    out
}

/// The plan as the API shows it: `total_phases` and each phase's steps.
pub fn describe(project: &Project) -> serde_json::Value {
    let all = steps(project);
    let phases: Vec<serde_json::Value> = Phase::ALL
        .iter()
        .map(|&p| {
            let steps: Vec<&Step> = all.iter().filter(|s| s.phase == p).collect();
            serde_json::json!({"phase": p.number(), "name": p.name(), "steps": steps})
        })
        .collect();
    serde_json::json!({"total_phases": Phase::ALL.len(), "total_steps": all.len(), "phases": phases})
}
