//! Work cycles: one worker per tenant runs the active project's steps
//! while budget is owed, recording each step as it ends; a restart
//! resumes owed work ([`Practice::resume`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::claim::WorkClaim;
use super::plan::{Action, Step};
use super::state::ProjectState;
use super::{Observer, Practice, PracticeError, StepDone, work};
use crate::learn::generate::GenerateOptions;
use crate::store::ProjectRow;

impl Practice {
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

    /// Owe the active project no more work: a worker stops after its step
    /// in flight, and nothing resumes after a restart (a cancelled task).
    pub async fn stop_owing(&self, tenant: &str) -> Result<(), PracticeError> {
        if let Some(row) = self.active(tenant).await? {
            self.app
                .practice_book()
                .set_budget(tenant, &row.project_id, 0)
                .await?;
        }
        Ok(())
    }

    /// Claim the tenant's worker slot and store the budget owed to its
    /// active project (stored first: a restart resumes it).
    async fn owe(
        &self,
        tenant: &str,
        budget: Duration,
    ) -> Result<(ProjectRow, WorkClaim), PracticeError> {
        let mut row = self.active(tenant).await?.ok_or(PracticeError::NoProject)?;
        if self.app.model().info().backend == "none" {
            return Err(PracticeError::NoModel);
        }
        let claim = self.claim(tenant, &row.project_id).await?;
        row.budget_ms = i64::try_from(budget.as_millis()).unwrap_or(i64::MAX);
        self.app
            .practice_book()
            .set_budget(tenant, &row.project_id, row.budget_ms)
            .await?;
        Ok((row, claim))
    }

    fn spawn(&self, tenant: &str, project: &str, claim: WorkClaim) {
        let me = self.clone();
        let (tenant, project) = (tenant.to_owned(), project.to_owned());
        let (app, to) = (self.app.clone(), tenant.clone());
        let observer: Observer = Arc::new(move |s: &StepDone| {
            app.notify(&to, super::PracticeNotice::Practice(s.clone()).event());
        });
        tokio::spawn(async move {
            let out = me.run(&tenant, &project, Some(observer)).await;
            // Released before the notice, so pages that reload on it see
            // `working: false`.
            drop(claim);
            let error = out.err().map(|e| {
                tracing::error!(tenant, project, "practice work stopped: {e}");
                e.to_string()
            });
            let stopped = super::PracticeNotice::PracticeStopped {
                project_id: project.clone(),
                error,
            };
            me.app.notify(&tenant, stopped.event());
        });
    }

    /// Resume work owed to any tenant's project (after a restart).
    pub async fn resume(&self) -> Result<usize, PracticeError> {
        let owed = self.app.practice_book().owed_work().await?;
        let mut resumed = 0;
        for (tenant, project) in owed {
            if self.app.model().info().backend == "none" {
                break;
            }
            if let Ok(claim) = self.claim(&tenant, &project).await {
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
                .practice_book()
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
                self.app
                    .practice_book()
                    .set_budget(tenant, project, 0)
                    .await?;
                break;
            };
            let started = Instant::now();
            let outcome = self.step(tenant, &state, &step, &row).await?;
            let took = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
            self.app
                .practice_book()
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
                    phase_progress: after.phase_progress(step.phase),
                });
            }
        }
        let trusted = self.trusted(tenant).await?;
        let row = self
            .app
            .practice_book()
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
                    ..Default::default()
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
}
