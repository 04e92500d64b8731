//! Practice: AutoLearn learns by building projects of a curriculum.
//!
//! The curriculum manager picks the next project (business priority, then
//! prerequisites met, then lower complexity); the project's plan has the
//! five phases of [`plan`]; work cycles run its steps under a real time
//! budget, one at a time, each recorded as soon as it ends ([`state`]
//! derives everything from those records, so a restart resumes where work
//! stopped); completing a project measures its KPIs and trust ([`kpis`]).
//! Every number reported is counted from records or measured in the
//! sandbox. Front ends: `autolearn learn` and `/api/learning/*`.

mod claim;
pub mod curriculum;
mod cycle;
pub mod kpis;
pub mod plan;
mod report;
pub mod state;
mod work;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::learn::generate::GenerateOptions;
use crate::store::{ProjectRow, StoreError};
use curriculum::{Curriculum, Domain, Project};
use plan::Action;
use state::{ProjectState, round1};

/// Domain mastery (percent of its goals with a trusted skill) at which a
/// domain counts as mastered.
pub const MASTERED: f64 = 80.0;

/// Practice went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PracticeError {
    /// No such project in the curriculum.
    #[error("no project {0:?} in the curriculum")]
    UnknownProject(String),
    /// Another project is in progress.
    #[error("project {0:?} is in progress: complete it first")]
    Busy(String),
    /// No project is in progress.
    #[error("no project is in progress: start one first")]
    NoProject,
    /// Work is already running for this tenant.
    #[error("work on {0:?} is already running")]
    Working(String),
    /// Every practice worker of this process is busy.
    #[error("{0} practice workers are busy already; try again later")]
    Saturated(usize),
    /// A project's prerequisites are not complete.
    #[error("project {project:?} needs {missing:?} completed first")]
    NotReady {
        /// The project.
        project: String,
        /// Projects to complete first.
        missing: Vec<String>,
    },
    /// Every project is complete.
    #[error("every project of the curriculum is complete")]
    AllComplete,
    /// Work needs a model, and none is configured.
    #[error(
        "practice needs a model: configure one (--llm local after `autolearn model fetch`, or OPENAI_API_KEY)"
    )]
    NoModel,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::fault::Classify for PracticeError {
    fn kind(&self) -> &'static str {
        match self {
            Self::UnknownProject(_) => "unknown_project",
            Self::Busy(_) => "project_in_progress",
            Self::NoProject => "no_project",
            Self::Working(_) => "working",
            Self::Saturated(_) => "busy",
            Self::NotReady { .. } => "not_ready",
            Self::AllComplete => "all_complete",
            Self::NoModel => "no_llm",
            Self::Store(e) => e.kind(),
        }
    }
    fn fault(&self) -> crate::fault::Fault {
        match self {
            Self::Store(e) => e.fault(),
            _ => crate::fault::Fault::Caller,
        }
    }
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            // A worker frees when a budget of practice ends: minutes.
            Self::Saturated(_) => Some(std::time::Duration::from_secs(60)),
            Self::Store(e) => e.retry_after(),
            _ => None,
        }
    }
}

/// How hard each implement step tries.
#[derive(Debug, Clone)]
pub struct PracticeOptions {
    /// Candidates per generation round.
    pub candidates: usize,
    /// Repair rounds.
    pub repair_rounds: usize,
}

impl Default for PracticeOptions {
    fn default() -> Self {
        let g = GenerateOptions::default();
        Self {
            candidates: g.candidates,
            repair_rounds: g.repair_rounds,
        }
    }
}

/// One finished step, as observers see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepDone {
    /// The project.
    pub project_id: String,
    /// Its phase, 1 to 5.
    pub phase: u8,
    /// The phase's name.
    pub phase_name: &'static str,
    /// The goal ('' for the project's KPIs).
    pub goal_id: String,
    /// What the step did.
    pub action: Action,
    /// `done` or `failed`.
    pub status: &'static str,
    /// What it measured.
    pub result: Value,
    /// The project's progress after it, percent.
    pub progress: f64,
    /// Its phase's progress after it, percent.
    pub phase_progress: f64,
}

/// What the practice loop tells the tenant's live pages, as the web UI
/// reads it (`type` is `practice` or `practice_stopped`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PracticeNotice {
    /// A step finished.
    Practice(StepDone),
    /// Background work stopped: its budget is spent, nothing else can
    /// run, or it failed.
    PracticeStopped {
        /// The project.
        project_id: String,
        /// Why it failed, when it did.
        error: Option<String>,
    },
}

impl PracticeNotice {
    /// As the core's event.
    pub fn event(&self) -> crate::app::Event {
        crate::app::Event::Practice(crate::app::Notice::of(self))
    }
}

/// Told of each finished step.
pub type Observer = Arc<dyn Fn(&StepDone) + Send + Sync>;

/// The practice loop over one app and one curriculum; cheap to clone.
#[derive(Clone)]
pub struct Practice {
    app: App,
    curriculum: Arc<Curriculum>,
    opts: PracticeOptions,
    /// Tenants with work running in this process.
    working: Arc<Mutex<HashSet<String>>>,
}

impl Practice {
    /// Practice `curriculum` on `app`.
    pub fn new(app: App, curriculum: Curriculum, opts: PracticeOptions) -> Self {
        Self {
            app,
            curriculum: Arc::new(curriculum),
            opts,
            working: Arc::default(),
        }
    }

    /// Practice the shipped curricula on `app`, with default options.
    pub fn shipped(app: App) -> Result<Self, curriculum::CurriculumError> {
        Ok(Self::new(
            app,
            Curriculum::shipped()?,
            PracticeOptions::default(),
        ))
    }

    /// The app it practises on.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The curriculum.
    pub fn curriculum(&self) -> &Curriculum {
        &self.curriculum
    }

    /// Goals of any project with a published skill (one indexed query,
    /// no skill decoded).
    async fn trusted(&self, tenant: &str) -> Result<HashSet<String>, StoreError> {
        let goals: Vec<&str> = self.curriculum.goals().map(|g| g.id.as_str()).collect();
        Ok(self
            .app
            .practice_book()
            .published_among(tenant, &goals)
            .await?
            .into_iter()
            .collect())
    }

    async fn state<'a>(
        &'a self,
        tenant: &str,
        project: &'a Project,
        trusted: &HashSet<String>,
    ) -> Result<ProjectState<'a>, StoreError> {
        let rows = self
            .app
            .practice_book()
            .practice_steps(tenant, &project.id)
            .await?;
        Ok(ProjectState::new(
            &self.curriculum,
            project,
            rows,
            trusted.clone(),
        ))
    }

    async fn rows(&self, tenant: &str) -> Result<HashMap<String, ProjectRow>, StoreError> {
        Ok(self
            .app
            .practice_book()
            .practice_projects(tenant)
            .await?
            .into_iter()
            .map(|r| (r.project_id.clone(), r))
            .collect())
    }

    async fn active(&self, tenant: &str) -> Result<Option<ProjectRow>, StoreError> {
        Ok(self
            .app
            .practice_book()
            .practice_projects(tenant)
            .await?
            .into_iter()
            .find(|r| r.status == "active"))
    }

    /// Share of `domain`'s goals with a trusted skill, percent.
    fn mastery(domain: &Domain, trusted: &HashSet<String>) -> f64 {
        let goals: Vec<&str> = domain
            .projects
            .iter()
            .flat_map(|p| &p.goals)
            .map(|g| g.id.as_str())
            .collect();
        let have = goals.iter().filter(|g| trusted.contains(**g)).count();
        round1(100.0 * have as f64 / goals.len().max(1) as f64)
    }

    /// Projects in the order the manager would take them: business
    /// priority, then lower total complexity.
    fn ordered(&self) -> Vec<(&Domain, &Project)> {
        let mut all: Vec<(&Domain, &Project)> = self.curriculum.projects().collect();
        all.sort_by_key(|(_, p)| (p.priority, p.complexity(), p.id.clone()));
        all
    }

    fn missing(p: &Project, rows: &HashMap<String, ProjectRow>) -> Vec<String> {
        p.requires
            .iter()
            .filter(|r| rows.get(*r).is_none_or(|row| row.status != "completed"))
            .cloned()
            .collect()
    }

    /// `POST /api/learning/project/start`: start `project`, or the one the
    /// manager picks. Starting the project already in progress answers
    /// with it (`started: false`).
    pub async fn start(&self, tenant: &str, project: Option<&str>) -> Result<Value, PracticeError> {
        let rows = self.rows(tenant).await?;
        let active = rows.values().find(|r| r.status == "active");
        let (d, p) = match project {
            Some(id) => self
                .curriculum
                .project(id)
                .ok_or_else(|| PracticeError::UnknownProject(id.to_owned()))?,
            None => match active {
                Some(a) => self
                    .curriculum
                    .project(&a.project_id)
                    .ok_or_else(|| PracticeError::UnknownProject(a.project_id.clone()))?,
                None => *self
                    .ordered()
                    .iter()
                    .find(|(_, p)| {
                        rows.get(&p.id).is_none_or(|r| r.status != "completed")
                            && Self::missing(p, &rows).is_empty()
                    })
                    .ok_or(PracticeError::AllComplete)?,
            },
        };
        let started = match active {
            Some(a) if a.project_id == p.id => false,
            Some(a) => return Err(PracticeError::Busy(a.project_id.clone())),
            None => {
                let missing = Self::missing(p, &rows);
                if !missing.is_empty() {
                    return Err(PracticeError::NotReady {
                        project: p.id.clone(),
                        missing,
                    });
                }
                self.app
                    .practice_book()
                    .start_project(tenant, &p.id)
                    .await?;
                self.app
                    .learn(
                        tenant,
                        "project_start",
                        &p.id,
                        json!({"name": p.name, "domain": d.domain, "goals": p.goals.len()}),
                    )
                    .await;
                true
            }
        };
        Ok(json!({
            "started": started,
            "project": {
                "project_id": p.id,
                "name": p.name,
                "domain": d.domain,
                "description": p.description,
                "priority": p.priority,
                "plan": plan::describe(p),
            },
        }))
    }

    /// Whether work runs for `tenant` in this process.
    /// `POST /api/learning/project/complete`: measure the active project
    /// and mark it completed. Work must not be running.
    pub async fn complete(&self, tenant: &str) -> Result<Value, PracticeError> {
        let row = self.active(tenant).await?.ok_or(PracticeError::NoProject)?;
        let claim = self.claim(tenant, &row.project_id).await?;
        let (_, p) = self
            .curriculum
            .project(&row.project_id)
            .ok_or_else(|| PracticeError::UnknownProject(row.project_id.clone()))?;
        let report = self.report(tenant, p, &row).await?;
        self.app
            .learn(tenant, "project_complete", &p.id, report.clone())
            .await;
        self.app
            .practice_book()
            .complete_project(tenant, &p.id, &report)
            .await?;
        drop(claim);
        Ok(report)
    }
}
