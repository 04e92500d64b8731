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

pub mod curriculum;
pub mod kpis;
pub mod plan;
pub mod state;
mod work;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::learn::generate::GenerateOptions;
use crate::store::{ProjectRow, StoreError};
use curriculum::{Curriculum, Domain, Project};
use plan::{Action, Step};
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
            .store
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
        let rows = self.app.store.practice_steps(tenant, &project.id).await?;
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
            .store
            .practice_projects(tenant)
            .await?
            .into_iter()
            .map(|r| (r.project_id.clone(), r))
            .collect())
    }

    async fn active(&self, tenant: &str) -> Result<Option<ProjectRow>, StoreError> {
        Ok(self
            .app
            .store
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

    /// `GET /api/learning/curriculum/overview`.
    pub async fn overview(&self, tenant: &str) -> Result<Value, PracticeError> {
        let trusted = self.trusted(tenant).await?;
        let rows = self.rows(tenant).await?;
        let mut domains = serde_json::Map::new();
        let mut mastered = 0;
        for d in &self.curriculum.domains {
            let m = Self::mastery(d, &trusted);
            if m >= MASTERED {
                mastered += 1;
            }
            let goals: usize = d.projects.iter().map(|p| p.goals.len()).sum();
            domains.insert(
                d.domain.clone(),
                json!({
                    "name": d.name,
                    "topics": d.topics,
                    "projects": d.projects.iter().map(|p| self.project_brief(d, p, &rows)).collect::<Vec<_>>(),
                    "goals": goals,
                    "goals_trusted": d.projects.iter().flat_map(|p| &p.goals).filter(|g| trusted.contains(&g.id)).count(),
                    "mastery": m,
                    "mastered": m >= MASTERED,
                }),
            );
        }
        let completed = rows.values().filter(|r| r.status == "completed").count();
        Ok(json!({
            "curriculum": {
                "total_domains": self.curriculum.domains.len(),
                "domains_mastered": mastered,
                "projects_completed": completed,
                "total_projects": self.curriculum.projects().count(),
                "total_goals": self.curriculum.goals().count(),
                "goals_trusted": trusted.len(),
            },
            "domains": domains,
            "priority_projects": self.ordered().iter().take(3).map(|(d, p)| self.project_brief(d, p, &rows)).collect::<Vec<_>>(),
        }))
    }

    fn project_brief(&self, d: &Domain, p: &Project, rows: &HashMap<String, ProjectRow>) -> Value {
        json!({
            "project_id": p.id,
            "name": p.name,
            "domain": d.domain,
            "priority": p.priority,
            "complexity": p.complexity(),
            "goals": p.goals.len(),
            "requires": p.requires,
            "ready": Self::missing(p, rows).is_empty(),
            "status": rows.get(&p.id).map_or("not_started", |r| r.status.as_str()),
        })
    }

    /// `GET /api/learning/projects/priority`: every project, in the order
    /// the manager takes them.
    pub async fn priority(&self, tenant: &str) -> Result<Value, PracticeError> {
        let rows = self.rows(tenant).await?;
        let projects: Vec<Value> = self
            .ordered()
            .iter()
            .map(|(d, p)| self.project_brief(d, p, &rows))
            .collect();
        Ok(json!({"projects": projects}))
    }

    /// A project's numbers, as `work` and `progress` report them.
    async fn numbers(
        &self,
        tenant: &str,
        row: &ProjectRow,
        trusted: &HashSet<String>,
    ) -> Result<Value, PracticeError> {
        let Some((d, p)) = self.curriculum.project(&row.project_id) else {
            return Err(PracticeError::UnknownProject(row.project_id.clone()));
        };
        let s = self.state(tenant, p, trusted).await?;
        let learnings = self.learnings(tenant, p, row.learnings_from).await?;
        let (passed, total) = s.held_back();
        let phase = s.phase();
        Ok(json!({
            "project_id": p.id,
            "name": p.name,
            "domain": d.domain,
            "status": row.status,
            "progress": s.progress(),
            "phase": phase.number(),
            "phase_name": phase.name(),
            "iterations": s.iterations(),
            "edge_cases_found": s.edge_cases_found(),
            "solutions_tested": s.solutions_tested(),
            "learnings": learnings,
            "goals": p.goals.len(),
            "goals_attempted": s.goals_attempted(),
            "skills_published": s.goals_published(),
            "waiting": s.waiting(),
            "held_back": {"passed": passed, "total": total},
            "working": self.is_working(tenant),
            "worked_seconds": row.worked_ms as f64 / 1e3,
            "budget_seconds": row.budget_ms as f64 / 1e3,
        }))
    }

    async fn learnings(&self, tenant: &str, p: &Project, from: i64) -> Result<u64, StoreError> {
        let mut subjects: Vec<&str> = p.goals.iter().map(|g| g.id.as_str()).collect();
        subjects.push(&p.id);
        self.app
            .store
            .count_learnings(tenant, from, &subjects)
            .await
    }

    /// `GET /api/learning/progress`: every started project's numbers.
    pub async fn progress(&self, tenant: &str) -> Result<Value, PracticeError> {
        let trusted = self.trusted(tenant).await?;
        let mut projects = Vec::new();
        let mut active = Value::Null;
        for row in self.app.store.practice_projects(tenant).await? {
            if self.curriculum.project(&row.project_id).is_none() {
                continue;
            }
            let n = self.numbers(tenant, &row, &trusted).await?;
            if row.status == "active" {
                active = n.clone();
            }
            projects.push(n);
        }
        Ok(json!({"active_project": active, "projects": projects}))
    }

    /// `GET /api/learning/status`.
    pub async fn status(&self, tenant: &str) -> Result<Value, PracticeError> {
        let overview = self.overview(tenant).await?;
        let active = self.active(tenant).await?;
        let info = self.app.llm_info();
        Ok(json!({
            "running": true,
            "working": self.is_working(tenant),
            "active_project": active.map(|r| r.project_id),
            "llm": {"backend": info.backend, "model": info.reasoning_model},
            "curriculum": overview["curriculum"],
        }))
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
                self.app.store.start_project(tenant, &p.id).await?;
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
    pub fn is_working(&self, tenant: &str) -> bool {
        self.working
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(tenant)
    }

    /// Claim the tenant's worker slot: one `work` at a time per tenant.
    fn claim(&self, tenant: &str, project: &str) -> Result<WorkClaim, PracticeError> {
        let mut w = self.working.lock().unwrap_or_else(|e| e.into_inner());
        if !w.insert(tenant.to_owned()) {
            return Err(PracticeError::Working(project.to_owned()));
        }
        Ok(WorkClaim {
            working: self.working.clone(),
            tenant: tenant.to_owned(),
        })
    }

    /// `POST /api/learning/project/work`: owe the active project `budget`
    /// of work, then run steps until it is spent or nothing can run. The
    /// budget is stored first, so a restart resumes the rest
    /// ([`Practice::resume`]). A step that starts inside the budget runs to
    /// its end.
    pub async fn work(
        &self,
        tenant: &str,
        budget: Duration,
        observer: Option<Observer>,
    ) -> Result<Value, PracticeError> {
        let (row, claim) = self.owe(tenant, budget).await?;
        let mut out = self.run(tenant, &row.project_id, observer).await;
        drop(claim);
        if let Ok(numbers) = &mut out {
            numbers["working"] = self.is_working(tenant).into();
        }
        out
    }

    /// Start [`Practice::work`] in the background; returns at once with the
    /// project's numbers.
    pub async fn spawn_work(&self, tenant: &str, budget: Duration) -> Result<Value, PracticeError> {
        let (row, claim) = self.owe(tenant, budget).await?;
        self.spawn(tenant, &row.project_id, claim);
        let trusted = self.trusted(tenant).await?;
        self.numbers(tenant, &row, &trusted).await
    }

    /// Claim the tenant's worker slot and store the budget owed to its
    /// active project (stored first: a restart resumes it).
    async fn owe(
        &self,
        tenant: &str,
        budget: Duration,
    ) -> Result<(ProjectRow, WorkClaim), PracticeError> {
        let mut row = self.active(tenant).await?.ok_or(PracticeError::NoProject)?;
        if self.app.llm_info().backend == "none" {
            return Err(PracticeError::NoModel);
        }
        let claim = self.claim(tenant, &row.project_id)?;
        row.budget_ms = i64::try_from(budget.as_millis()).unwrap_or(i64::MAX);
        self.app
            .store
            .set_budget(tenant, &row.project_id, row.budget_ms)
            .await?;
        Ok((row, claim))
    }

    fn spawn(&self, tenant: &str, project: &str, claim: WorkClaim) {
        let me = self.clone();
        let (tenant, project) = (tenant.to_owned(), project.to_owned());
        let (app, to) = (self.app.clone(), tenant.clone());
        let observer: Observer = Arc::new(move |s: &StepDone| {
            app.notify(&to, crate::app::Activity::Practice(s.clone()));
        });
        tokio::spawn(async move {
            let _claim = claim;
            if let Err(e) = me.run(&tenant, &project, Some(observer)).await {
                tracing::error!(tenant, project, "practice work stopped: {e}");
            }
        });
    }

    /// Resume work owed to any tenant's project (after a restart).
    pub async fn resume(&self) -> Result<usize, PracticeError> {
        let owed = self.app.store.owed_work().await?;
        let mut resumed = 0;
        for (tenant, project) in owed {
            if self.app.llm_info().backend == "none" {
                break;
            }
            if let Ok(claim) = self.claim(&tenant, &project) {
                tracing::info!(tenant, project, "resuming practice work");
                self.spawn(&tenant, &project, claim);
                resumed += 1;
            }
        }
        Ok(resumed)
    }

    /// Run steps while budget is owed and a step can run.
    async fn run(
        &self,
        tenant: &str,
        project: &str,
        observer: Option<Observer>,
    ) -> Result<Value, PracticeError> {
        let (_, p) = self
            .curriculum
            .project(project)
            .ok_or_else(|| PracticeError::UnknownProject(project.to_owned()))?;
        loop {
            let Some(row) = self
                .app
                .store
                .practice_projects(tenant)
                .await?
                .into_iter()
                .find(|r| r.project_id == project && r.status == "active")
            else {
                break;
            };
            if row.budget_ms <= 0 {
                break;
            }
            let trusted = self.trusted(tenant).await?;
            let state = self.state(tenant, p, &trusted).await?;
            let Some(step) = state.next() else {
                // Nothing can run: the rest of the budget is not owed.
                self.app.store.set_budget(tenant, project, 0).await?;
                break;
            };
            let started = Instant::now();
            let outcome = self.step(tenant, &state, &step, &row).await?;
            let took = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
            self.app
                .store
                .record_practice_step(
                    tenant,
                    project,
                    step.phase.number(),
                    &step.goal_id,
                    outcome.status,
                    &outcome.result,
                    took,
                )
                .await?;
            self.app
                .learn(
                    tenant,
                    "practice_step",
                    if step.goal_id.is_empty() { project } else { &step.goal_id },
                    json!({"project": project, "phase": step.phase.number(), "action": step.action, "status": outcome.status, "ms": took}),
                )
                .await;
            if let Some(o) = &observer {
                let trusted = self.trusted(tenant).await?;
                let after = self.state(tenant, p, &trusted).await?;
                o(&StepDone {
                    project_id: project.to_owned(),
                    phase: step.phase.number(),
                    phase_name: step.phase.name(),
                    goal_id: step.goal_id.clone(),
                    action: step.action,
                    status: outcome.status,
                    result: outcome.result,
                    progress: after.progress(),
                });
            }
        }
        let trusted = self.trusted(tenant).await?;
        let row = self
            .app
            .store
            .practice_projects(tenant)
            .await?
            .into_iter()
            .find(|r| r.project_id == project)
            .ok_or(PracticeError::NoProject)?;
        self.numbers(tenant, &row, &trusted).await
    }

    async fn step(
        &self,
        tenant: &str,
        state: &ProjectState<'_>,
        step: &Step,
        row: &ProjectRow,
    ) -> Result<work::Outcome, PracticeError> {
        let goal = state.project.goals.iter().find(|g| g.id == step.goal_id);
        Ok(match (step.action, goal) {
            (Action::Research, Some(g)) => work::research(&self.app, tenant, g).await,
            (Action::Implement, Some(g)) => {
                let opts = GenerateOptions {
                    candidates: self.opts.candidates,
                    repair_rounds: self.opts.repair_rounds,
                    observer: None,
                };
                let previous = state.row(step).map(|r| r.result.clone());
                work::implement(&self.app, tenant, state, g, opts, previous.as_ref()).await
            }
            (Action::Test, Some(g)) => work::test(&self.app, tenant, g).await,
            (Action::Document, Some(g)) => work::document(&self.app, tenant, g).await,
            _ => work::Outcome {
                status: "done",
                result: self.report(tenant, state.project, row).await?,
            },
        })
    }

    /// The completion report: KPIs, trust, learnings, mastery, all measured.
    async fn report(
        &self,
        tenant: &str,
        p: &Project,
        row: &ProjectRow,
    ) -> Result<Value, PracticeError> {
        let trusted = self.trusted(tenant).await?;
        let state = self.state(tenant, p, &trusted).await?;
        let mut skills = Vec::new();
        for g in &p.goals {
            if let Some(s) = work::published(&self.app, tenant, &g.id).await {
                skills.push(s);
            }
        }
        let refs: Vec<&crate::skills::Skill> = skills.iter().collect();
        let (d, _) = self
            .curriculum
            .project(&p.id)
            .ok_or_else(|| PracticeError::UnknownProject(p.id.clone()))?;
        let (passed, total) = state.held_back();
        Ok(json!({
            "project_id": p.id,
            "name": p.name,
            "domain": d.domain,
            "trust_score": kpis::project_trust(&refs, p.goals.len()),
            "kpis": kpis::project_kpis(&refs),
            "learnings_count": self.learnings(tenant, p, row.learnings_from).await?,
            "domain_mastery": Self::mastery(d, &trusted),
            "goals": p.goals.len(),
            "goals_attempted": state.goals_attempted(),
            "skills_published": skills.len(),
            "skills": skills.iter().map(|s| json!({"name": s.manifest.name, "id": s.id, "trust": s.trust()})).collect::<Vec<_>>(),
            "held_back": {
                "passed": passed,
                "total": total,
                "pass_rate": if total == 0 { Value::Null } else { json!(round1(100.0 * passed as f64 / total as f64)) },
            },
            "edge_cases_found": state.edge_cases_found(),
            "solutions_tested": state.solutions_tested(),
            "iterations": state.iterations(),
            "progress": state.progress(),
        }))
    }

    /// `POST /api/learning/project/complete`: measure the active project
    /// and mark it completed. Work must not be running.
    pub async fn complete(&self, tenant: &str) -> Result<Value, PracticeError> {
        let row = self.active(tenant).await?.ok_or(PracticeError::NoProject)?;
        let claim = self.claim(tenant, &row.project_id)?;
        let (_, p) = self
            .curriculum
            .project(&row.project_id)
            .ok_or_else(|| PracticeError::UnknownProject(row.project_id.clone()))?;
        let report = self.report(tenant, p, &row).await?;
        self.app
            .learn(tenant, "project_complete", &p.id, report.clone())
            .await;
        self.app
            .store
            .complete_project(tenant, &p.id, &report)
            .await?;
        drop(claim);
        Ok(report)
    }
}

/// A tenant's worker slot; released when dropped.
struct WorkClaim {
    working: Arc<Mutex<HashSet<String>>>,
    tenant: String,
}

impl Drop for WorkClaim {
    fn drop(&mut self) {
        self.working
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.tenant);
    }
}
