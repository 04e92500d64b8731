//! Practice state: each tenant's projects and the steps of their plans
//! (src/practice). Every step's outcome is written as soon as it is known,
//! so a restart loses at most the step in flight.

use sqlx::Row;
use tracing::instrument;

use super::{SkillStore, StoreError, retry_busy, traces::now_ms};

/// A project as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProjectRow {
    /// The project.
    pub project_id: String,
    /// `active` or `completed`.
    pub status: String,
    /// When it started (ms since the epoch).
    pub started_ms: i64,
    /// When it completed.
    pub completed_ms: Option<i64>,
    /// The learnings log's last seq when it started.
    pub learnings_from: i64,
    /// Work time still owed to the last `work` request.
    pub budget_ms: i64,
    /// Work time spent so far.
    pub worked_ms: i64,
    /// The completion report.
    pub report: Option<serde_json::Value>,
}

/// A step's outcome as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StepRow {
    /// 1 to 5.
    pub phase: u8,
    /// The goal ('' for a project-wide step).
    pub goal_id: String,
    /// `done`, `failed` (may be tried again) or `waiting`.
    pub status: String,
    /// Times it ran.
    pub attempts: u32,
    /// What it measured.
    pub result: serde_json::Value,
}

fn project_row(r: &super::Row) -> Result<ProjectRow, StoreError> {
    let report: Option<String> = r.try_get("report")?;
    Ok(ProjectRow {
        project_id: r.try_get("project_id")?,
        status: r.try_get("status")?,
        started_ms: r.try_get("started_ms")?,
        completed_ms: r.try_get("completed_ms")?,
        learnings_from: r.try_get("learnings_from")?,
        budget_ms: r.try_get("budget_ms")?,
        worked_ms: r.try_get("worked_ms")?,
        report: report.and_then(|t| serde_json::from_str(&t).ok()),
    })
}

/// The practice loop's own tables (projects, plan steps, budgets) and
/// the counts its reports need: a handle of their own, so that the
/// practice loop reaches these and nothing else of the store.
#[derive(Clone)]
pub struct PracticeBook(pub(super) SkillStore);

impl SkillStore {
    /// The practice loop's tables.
    pub fn practice(&self) -> PracticeBook {
        PracticeBook(self.clone())
    }
}

impl PracticeBook {
    /// Start `project` for `tenant` (again, if it was completed: its steps
    /// are kept, so finished work is not redone).
    #[instrument(skip(self), err)]
    pub async fn start_project(&self, tenant: &str, project: &str) -> Result<(), StoreError> {
        retry_busy(|| async {
            let mut tx = self.0.write_tx(&format!("practice:{tenant}")).await?;
            let from: i64 = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS s FROM learnings")
                .fetch_one(&mut *tx)
                .await?
                .try_get("s")?;
            sqlx::query(
                "INSERT INTO practice_projects (tenant, project_id, status, started_ms, learnings_from)
                 VALUES ($1, $2, 'active', $3, $4)
                 ON CONFLICT (tenant, project_id) DO UPDATE SET status = 'active', completed_ms = NULL, report = NULL",
            )
            .bind(tenant)
            .bind(project)
            .bind(now_ms())
            .bind(from)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Every project `tenant` has started, oldest first.
    pub async fn practice_projects(&self, tenant: &str) -> Result<Vec<ProjectRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM practice_projects WHERE tenant = $1 ORDER BY started_ms, project_id",
        )
        .bind(tenant)
        .fetch_all(self.0.pool())
        .await?;
        rows.iter().map(project_row).collect()
    }

    /// Tenants with a project that still owes work time (to resume after a
    /// restart).
    pub async fn owed_work(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant, project_id FROM practice_projects WHERE status = 'active' AND budget_ms > 0",
        )
        .fetch_all(self.0.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("tenant")?, r.try_get("project_id")?)))
            .collect()
    }

    /// Set the work time still owed to `project`.
    pub async fn set_budget(
        &self,
        tenant: &str,
        project: &str,
        budget_ms: i64,
    ) -> Result<(), StoreError> {
        retry_busy(|| async {
            sqlx::query(
                "UPDATE practice_projects SET budget_ms = $3 WHERE tenant = $1 AND project_id = $2",
            )
            .bind(tenant)
            .bind(project)
            .bind(budget_ms.max(0))
            .execute(self.0.pool())
            .await?;
            Ok(())
        })
        .await
    }

    /// Record a step's outcome, and the time it took against the budget,
    /// in one transaction.
    #[allow(clippy::too_many_arguments, reason = "one row's columns")]
    pub async fn record_practice_step(
        &self,
        tenant: &str,
        project: &str,
        phase: u8,
        goal: &str,
        status: &str,
        result: &serde_json::Value,
        took_ms: i64,
    ) -> Result<(), StoreError> {
        let result = result.to_string();
        retry_busy(|| async {
            let mut tx = self.0.write_tx(&format!("practice:{tenant}")).await?;
            sqlx::query(
                "INSERT INTO practice_steps (tenant, project_id, phase, goal_id, status, attempts, result, updated_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (tenant, project_id, phase, goal_id) DO UPDATE SET
                   status = excluded.status, result = excluded.result, updated_ms = excluded.updated_ms,
                   attempts = practice_steps.attempts + excluded.attempts",
            )
            .bind(tenant)
            .bind(project)
            .bind(i64::from(phase))
            .bind(goal)
            .bind(status)
            .bind(i64::from(status != "waiting"))
            .bind(&result)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE practice_projects SET worked_ms = worked_ms + $3, budget_ms = CASE WHEN budget_ms > $3 THEN budget_ms - $3 ELSE 0 END
                 WHERE tenant = $1 AND project_id = $2",
            )
            .bind(tenant)
            .bind(project)
            .bind(took_ms.max(0))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// The recorded steps of `project`.
    pub async fn practice_steps(
        &self,
        tenant: &str,
        project: &str,
    ) -> Result<Vec<StepRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT phase, goal_id, status, attempts, result FROM practice_steps
             WHERE tenant = $1 AND project_id = $2 ORDER BY phase, goal_id",
        )
        .bind(tenant)
        .bind(project)
        .fetch_all(self.0.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let result: String = r.try_get("result")?;
                Ok(StepRow {
                    phase: u8::try_from(r.try_get::<i64, _>("phase")?).unwrap_or(0),
                    goal_id: r.try_get("goal_id")?,
                    status: r.try_get("status")?,
                    attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(0),
                    result: serde_json::from_str(&result).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Mark `project` completed with its report.
    pub async fn complete_project(
        &self,
        tenant: &str,
        project: &str,
        report: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let report = report.to_string();
        retry_busy(|| async {
            sqlx::query(
                "UPDATE practice_projects SET status = 'completed', completed_ms = $3, budget_ms = 0, report = $4
                 WHERE tenant = $1 AND project_id = $2",
            )
            .bind(tenant)
            .bind(project)
            .bind(now_ms())
            .bind(&report)
            .execute(self.0.pool())
            .await?;
            Ok(())
        })
        .await
    }

    /// Which of `names` have a published current version.
    pub async fn published_among(
        &self,
        tenant: &str,
        names: &[&str],
    ) -> Result<Vec<String>, StoreError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT v.name FROM skill_versions v
             WHERE v.tenant = $1 AND v.name IN ({})
               AND v.status = 'published'
               AND v.version = (SELECT MAX(version) FROM skill_versions h WHERE h.tenant = v.tenant AND h.name = v.name)",
            placeholders(2, names.len())
        );
        let mut query = sqlx::query(&sql).bind(tenant);
        for name in names {
            query = query.bind(*name);
        }
        let rows = query.fetch_all(self.0.pool()).await?;
        rows.iter().map(|r| Ok(r.try_get("name")?)).collect()
    }

    /// Learnings of `tenant` after seq `after` whose subject is one of
    /// `subjects`.
    pub async fn count_learnings(
        &self,
        tenant: &str,
        after: i64,
        subjects: &[&str],
    ) -> Result<u64, StoreError> {
        if subjects.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "SELECT COUNT(*) AS n FROM learnings WHERE tenant = $1 AND seq > $2 AND subject IN ({})",
            placeholders(3, subjects.len())
        );
        let mut query = sqlx::query(&sql).bind(tenant).bind(after);
        for subject in subjects {
            query = query.bind(*subject);
        }
        let n: i64 = query.fetch_one(self.0.pool()).await?.try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

impl SkillStore {
    /// Store the documentation of a skill version.
    pub async fn put_doc(
        &self,
        tenant: &str,
        id: &crate::skills::SkillId,
        doc: &str,
    ) -> Result<(), StoreError> {
        retry_busy(|| async {
            sqlx::query(
                "INSERT INTO skill_docs (tenant, skill_id, doc, updated_ms) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant, skill_id) DO UPDATE SET doc = excluded.doc, updated_ms = excluded.updated_ms",
            )
            .bind(tenant)
            .bind(id.as_str())
            .bind(doc)
            .bind(now_ms())
            .execute(self.pool())
            .await?;
            Ok(())
        })
        .await
    }

    /// The documentation of a skill version, if written.
    pub async fn doc(
        &self,
        tenant: &str,
        id: &crate::skills::SkillId,
    ) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query("SELECT doc FROM skill_docs WHERE tenant = $1 AND skill_id = $2")
                .bind(tenant)
                .bind(id.as_str())
                .fetch_optional(self.pool())
                .await?
                .map(|r| r.try_get("doc"))
                .transpose()?,
        )
    }
}

/// `$first, $first+1, ...`: `n` placeholders for an `IN (...)` list.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
