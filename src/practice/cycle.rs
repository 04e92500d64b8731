//! Work cycles: one worker per tenant runs the active project's steps
//! while budget is owed, recording each step as it ends; a restart
//! resumes owed work ([`Practice::resume`]).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::plan::{Action, Step};
use super::state::ProjectState;
use super::{Observer, Practice, PracticeError, StepDone, work};
use crate::learn::generate::GenerateOptions;
use crate::store::ProjectRow;

/// Practice workers one process runs at once, across tenants: each holds
/// the model for minutes at a time, so more would only queue behind it
/// while keeping other tenants' generations waiting.
pub const MAX_WORKERS: usize = 2;

/// Take a worker slot for `tenant` in `working`, if it has none and one is
/// free.
fn admit(
    working: &mut HashSet<String>,
    tenant: &str,
    project: &str,
    max: usize,
) -> Result<(), PracticeError> {
    if working.contains(tenant) {
        return Err(PracticeError::Working(project.to_owned()));
    }
    if working.len() >= max {
        return Err(PracticeError::Saturated(max));
    }
    working.insert(tenant.to_owned());
    Ok(())
}

impl Practice {
    /// Whether work runs for `tenant` in this process.
    pub fn is_working(&self, tenant: &str) -> bool {
        self.working
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(tenant)
    }

    /// Claim the tenant's worker slot: one `work` at a time per tenant,
    /// across processes and replicas (a lease in the database, renewed
    /// while held), and at most [`MAX_WORKERS`] in the process.
    pub(super) async fn claim(
        &self,
        tenant: &str,
        project: &str,
    ) -> Result<WorkClaim, PracticeError> {
        let mut claim = {
            let mut w = self.working.lock().unwrap_or_else(|e| e.into_inner());
            admit(&mut w, tenant, project, MAX_WORKERS)?;
            WorkClaim {
                working: self.working.clone(),
                tenant: tenant.to_owned(),
                lease: None,
            }
        };
        let store = self.app.store.clone();
        let (name, holder) = (
            format!("practice:{tenant}"),
            lease_holder(self.app.origin()),
        );
        // A refusal drops `claim`, which frees the local slot.
        if !store.take_lease(&name, &holder, LEASE_TTL).await? {
            // A process of this machine that died (killed, say) holds it:
            // its restart takes over now rather than when the lease ends.
            let dead = match store.lease_holder(&name).await? {
                Some(old) if holder_is_dead(&old) => Some(old),
                _ => None,
            };
            let taken = match dead {
                Some(old) => {
                    store
                        .take_over_lease(&name, &old, &holder, LEASE_TTL)
                        .await?
                }
                None => false,
            };
            if !taken {
                return Err(PracticeError::Working(project.to_owned()));
            }
        }
        let renew = {
            let (store, name, holder) = (store.clone(), name.clone(), holder.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(LEASE_TTL / 3).await;
                    if let Err(e) = store.take_lease(&name, &holder, LEASE_TTL).await {
                        tracing::warn!("renewing the practice lease {name}: {e}");
                    }
                }
            })
        };
        claim.lease = Some(Lease {
            store,
            name,
            holder,
            renew,
        });
        Ok(claim)
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
        let claim = self.claim(tenant, &row.project_id).await?;
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
            let out = me.run(&tenant, &project, Some(observer)).await;
            // Released before the notice, so pages that reload on it see
            // `working: false`.
            drop(claim);
            let error = out.err().map(|e| {
                tracing::error!(tenant, project, "practice work stopped: {e}");
                e.to_string()
            });
            me.app.notify(
                &tenant,
                crate::app::Activity::PracticeStopped {
                    project_id: project.clone(),
                    error,
                },
            );
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
                    phase_progress: after.phase_progress(step.phase),
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
}

/// This process as a lease holder: `host/pid/origin`.
fn lease_holder(origin: &str) -> String {
    format!("{}/{}/{origin}", host_name(), std::process::id())
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

/// Whether `holder` was a process of this machine that is gone. Holders on
/// other machines are never judged: their leases simply expire.
fn holder_is_dead(holder: &str) -> bool {
    let mut parts = holder.splitn(3, '/');
    let (Some(host), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    let me = host_name();
    !me.is_empty()
        && host == me
        && pid.parse::<u32>().is_ok_and(|p| {
            p != std::process::id() && !std::path::Path::new(&format!("/proc/{p}")).exists()
        })
}

/// How long a practice lease lasts unrenewed: a replica that dies while
/// it works frees the tenant's slot after this long.
const LEASE_TTL: Duration = Duration::from_secs(60);

/// A tenant's worker slot; released when dropped.
pub(super) struct WorkClaim {
    working: Arc<Mutex<HashSet<String>>>,
    tenant: String,
    lease: Option<Lease>,
}

/// The database lease behind a claim, renewed until dropped.
struct Lease {
    store: crate::store::SkillStore,
    name: String,
    holder: String,
    renew: tokio::task::JoinHandle<()>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renew.abort();
        let (store, name, holder) = (
            self.store.clone(),
            std::mem::take(&mut self.name),
            std::mem::take(&mut self.holder),
        );
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = store.release_lease(&name, &holder).await {
                    tracing::warn!("releasing the practice lease {name}: {e}");
                }
            });
        }
    }
}

impl Drop for WorkClaim {
    fn drop(&mut self) {
        self.working
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_gone_process_of_this_machine_is_a_dead_holder() {
        let me = lease_holder("x");
        assert!(!holder_is_dead(&me), "{me}");
        // Above Linux's largest pid: no such process.
        let gone = format!("{}/4194305/y", host_name());
        assert!(holder_is_dead(&gone));
        assert!(!holder_is_dead("another-host/4194305/y"));
        assert!(!holder_is_dead("garbage"));
    }

    #[test]
    fn one_worker_per_tenant_and_a_bounded_number_in_all() {
        let mut w = HashSet::new();
        assert!(admit(&mut w, "a", "p", 2).is_ok());
        assert!(matches!(
            admit(&mut w, "a", "p", 2),
            Err(PracticeError::Working(_))
        ));
        assert!(admit(&mut w, "b", "p", 2).is_ok());
        assert!(matches!(
            admit(&mut w, "c", "p", 2),
            Err(PracticeError::Saturated(2))
        ));
        w.remove("a");
        assert!(admit(&mut w, "c", "p", 2).is_ok());
    }
}
