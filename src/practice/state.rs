//! Where a project stands: which steps are finished, which can run next,
//! and the counts the API reports, all derived from the recorded steps and
//! the skills in the store (nothing is kept only in memory, so a restart
//! resumes exactly here).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::curriculum::{Curriculum, Goal, Project};
use super::plan::{Action, Phase, Step, steps};
use crate::store::StepRow;

/// Attempts at implementing one goal before it is given up.
pub const MAX_ATTEMPTS: u32 = 3;

/// A project's recorded steps, and which goals have a trusted skill.
pub struct ProjectState<'a> {
    /// The project.
    pub project: &'a Project,
    curriculum: &'a Curriculum,
    rows: HashMap<(u8, String), StepRow>,
    /// Goals (of any project) whose skill is published.
    trusted: HashSet<String>,
}

impl<'a> ProjectState<'a> {
    /// Build from the recorded rows and the trusted goal ids.
    pub fn new(
        curriculum: &'a Curriculum,
        project: &'a Project,
        rows: Vec<StepRow>,
        trusted: HashSet<String>,
    ) -> Self {
        Self {
            project,
            curriculum,
            rows: rows
                .into_iter()
                .map(|r| ((r.phase, r.goal_id.clone()), r))
                .collect(),
            trusted,
        }
    }

    /// The recorded row of `step`.
    pub fn row(&self, step: &Step) -> Option<&StepRow> {
        self.rows.get(&(step.phase.number(), step.goal_id.clone()))
    }

    fn implement_row(&self, goal: &str) -> Option<&StepRow> {
        [Phase::CoreImplementation, Phase::AdvancedFeatures]
            .iter()
            .find_map(|p| self.rows.get(&(p.number(), goal.to_owned())))
    }

    /// Whether `goal` has a published skill.
    pub fn trusted(&self, goal: &str) -> bool {
        self.trusted.contains(goal)
    }

    /// Given up: every attempt failed.
    fn exhausted(&self, goal: &str) -> bool {
        self.implement_row(goal)
            .is_some_and(|r| r.status != "done" && r.attempts >= MAX_ATTEMPTS)
    }

    /// Can never be built: a prerequisite has no trusted skill and never
    /// will (given up, or blocked itself, or in another project that is not
    /// this one).
    fn blocked(&self, goal: &Goal) -> bool {
        goal.requires.iter().any(|r| {
            if self.trusted(r) {
                return false;
            }
            match self.project.goals.iter().find(|g| &g.id == r) {
                Some(g) => self.exhausted(r) || self.blocked(g),
                None => true,
            }
        })
    }

    fn goal(&self, id: &str) -> Option<&Goal> {
        self.project.goals.iter().find(|g| g.id == id)
    }

    /// Whether `goal` will never have a skill from this project's work.
    fn abandoned(&self, goal: &Goal) -> bool {
        !self.trusted(&goal.id) && (self.exhausted(&goal.id) || self.blocked(goal))
    }

    /// Whether `step` needs no more work.
    pub fn finished(&self, step: &Step) -> bool {
        let done = self.row(step).is_some_and(|r| r.status == "done");
        match (step.action, self.goal(&step.goal_id)) {
            (Action::Research | Action::Kpis, _) | (_, None) => done,
            (Action::Implement, Some(g)) => done || self.abandoned(g),
            (Action::Test | Action::Document, Some(g)) => done || self.abandoned(g),
        }
    }

    /// Whether `step` can run now; `retry` allows implement steps that
    /// failed before (with attempts left).
    fn runnable(&self, step: &Step, retry: bool) -> bool {
        if self.finished(step) {
            return false;
        }
        let row = self.row(step);
        let Some(goal) = self.goal(&step.goal_id) else {
            // The project-wide step runs last.
            return step.action == Action::Kpis
                && self
                    .all()
                    .iter()
                    .all(|s| s.action == Action::Kpis || self.finished(s));
        };
        match step.action {
            Action::Research => row.is_none(),
            Action::Implement => {
                (row.is_none() || (retry && row.is_some_and(|r| r.attempts < MAX_ATTEMPTS)))
                    && goal.requires.iter().all(|r| self.trusted(r))
            }
            Action::Test => row.is_none() && self.trusted(&goal.id),
            Action::Document => {
                row.is_none()
                    && self.trusted(&goal.id)
                    && self.finished(&Step {
                        phase: Phase::TestingEdgeCases,
                        goal_id: goal.id.clone(),
                        action: Action::Test,
                    })
            }
            Action::Kpis => false,
        }
    }

    /// Every step of the plan.
    pub fn all(&self) -> Vec<Step> {
        steps(self.project)
    }

    /// The next step to run: research first, then first attempts in plan
    /// order, then tests and docs of what was built, then retries, and the
    /// project's KPIs last. `None` when nothing can run.
    pub fn next(&self) -> Option<Step> {
        let all = self.all();
        let first = |pred: &dyn Fn(&Step) -> bool, retry: bool| {
            all.iter()
                .find(|s| pred(s) && self.runnable(s, retry))
                .cloned()
        };
        first(&|s| s.action == Action::Research, false)
            .or_else(|| first(&|s| s.action == Action::Implement, false))
            .or_else(|| {
                first(
                    &|s| matches!(s.action, Action::Test | Action::Document),
                    false,
                )
            })
            .or_else(|| first(&|s| s.action == Action::Implement, true))
            .or_else(|| first(&|s| s.action == Action::Kpis, false))
    }

    /// Finished steps, in percent of the plan, to one decimal.
    pub fn progress(&self) -> f64 {
        let all = self.all();
        let done = all.iter().filter(|s| self.finished(s)).count();
        round1(100.0 * done as f64 / all.len().max(1) as f64)
    }

    /// Finished steps of `phase`, in percent of its steps, to one decimal.
    pub fn phase_progress(&self, phase: Phase) -> f64 {
        let of: Vec<Step> = self
            .all()
            .into_iter()
            .filter(|s| s.phase == phase)
            .collect();
        let done = of.iter().filter(|s| self.finished(s)).count();
        round1(100.0 * done as f64 / of.len().max(1) as f64)
    }

    /// The phase of the next step (or the last phase when all is done).
    pub fn phase(&self) -> Phase {
        self.all()
            .iter()
            .find(|s| !self.finished(s))
            .map_or(Phase::DocumentationKpis, |s| s.phase)
    }

    /// Steps run, retries included.
    pub fn iterations(&self) -> u64 {
        self.rows.values().map(|r| u64::from(r.attempts)).sum()
    }

    fn sum(&self, action_phases: &[u8], field: &str) -> u64 {
        self.rows
            .values()
            .filter(|r| action_phases.contains(&r.phase))
            .map(|r| r.result[field].as_u64().unwrap_or(0))
            .sum()
    }

    /// Candidate programs run in the sandbox, every attempt included.
    pub fn solutions_tested(&self) -> u64 {
        self.sum(&[2, 3], "candidates_total")
    }

    /// Inputs where passing candidates disagreed, plus inputs on which a
    /// published skill failed in phase 4.
    pub fn edge_cases_found(&self) -> u64 {
        self.sum(&[2, 3], "edge_cases_total") + self.sum(&[4], "edge_cases_found")
    }

    /// Held-back tests passed and run, over the goals tested.
    pub fn held_back(&self) -> (u64, u64) {
        (
            self.sum(&[4], "held_back_passed"),
            self.sum(&[4], "held_back_total"),
        )
    }

    /// Goals that have been attempted (at least one implement run).
    pub fn goals_attempted(&self) -> usize {
        self.project
            .goals
            .iter()
            .filter(|g| self.implement_row(&g.id).is_some())
            .count()
    }

    /// Goals of this project with a published skill.
    pub fn goals_published(&self) -> usize {
        self.project
            .goals
            .iter()
            .filter(|g| self.trusted(&g.id))
            .count()
    }

    /// Goals waiting on a prerequisite that is not trusted yet.
    pub fn waiting(&self) -> Vec<&str> {
        self.project
            .goals
            .iter()
            .filter(|g| !self.trusted(&g.id) && g.requires.iter().any(|r| !self.trusted(r)))
            .map(|g| g.id.as_str())
            .collect()
    }

    /// The recorded result of a goal's step in `phase`.
    pub fn result(&self, phase: Phase, goal: &str) -> Option<&Value> {
        self.rows
            .get(&(phase.number(), goal.to_owned()))
            .map(|r| &r.result)
    }

    /// The curriculum, for cross-project lookups.
    pub fn curriculum(&self) -> &Curriculum {
        self.curriculum
    }
}

/// `x` to one decimal.
pub fn round1(x: f64) -> f64 {
    (10.0 * x).round() / 10.0
}
