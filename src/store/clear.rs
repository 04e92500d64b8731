//! Clearing a tenant's data: a reset (the demo starts over: skills,
//! traces, practice state and executions go; the tenant and its keys stay)
//! and a removal (the tenant, its keys, settings and quota counters too).
//! The learnings log is one hash chain for the whole database, so neither
//! deletes its entries: the caller appends one that marks what happened.

use serde::Serialize;
use tracing::instrument;

use super::{ResetCounts, Signal, SkillStore, StoreError, retry_busy};

/// What removing a tenant deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// Skill versions, traces and executions, as a reset counts them.
    #[serde(flatten)]
    pub cleared: ResetCounts,
    /// Its keys.
    pub keys: u64,
}

impl SkillStore {
    /// Clear `tenant`'s skills, traces and executions in one transaction,
    /// counting the learnings in its view. The learnings log is one hash
    /// chain for the whole database, so its entries are never deleted: the
    /// caller appends a `reset` entry, and the tenant's view of the log
    /// starts after its latest one.
    pub async fn reset_tenant(&self, tenant: &str) -> Result<ResetCounts, StoreError> {
        retry_busy(|| async {
            let mut tx = self.pool().begin().await?;
            let counts = clear_tenant(&mut tx, tenant).await?;
            tx.commit().await?;
            self.changed(Signal::Skills);
            Ok(counts)
        })
        .await
    }

    /// Remove a tenant: its keys (at once, for every server), its skills,
    /// traces, executions, practice state, quota counters and settings, in
    /// one transaction. The learnings log is a hash chain and keeps its
    /// entries; the caller appends one that marks the removal.
    #[instrument(skip(self), err)]
    pub async fn remove_tenant(&self, name: &str) -> Result<Removed, StoreError> {
        let removed = retry_busy(|| async {
            let mut tx = self.pool().begin().await?;
            let gone = sqlx::query("DELETE FROM tenants WHERE name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            if gone.rows_affected() == 0 {
                return Err(StoreError::NoTenant(name.to_owned()));
            }
            let keys = sqlx::query("DELETE FROM tenant_keys WHERE tenant = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            for table in ["quota_usage", "call_slots", "trace_steps"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE tenant = $1"))
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
            }
            let cleared = clear_tenant(&mut tx, name).await?;
            tx.commit().await?;
            Ok(Removed { cleared, keys })
        })
        .await?;
        self.changed(Signal::Tenants);
        self.changed(Signal::Skills);
        Ok(removed)
    }
}

/// Delete `tenant`'s skills, traces, practice state and executions on
/// `conn` (the caller's transaction), counting them and the learnings in its view (which stay).
async fn clear_tenant(
    conn: &mut sqlx::AnyConnection,
    tenant: &str,
) -> Result<ResetCounts, StoreError> {
    let skills = sqlx::query("DELETE FROM skill_versions WHERE tenant = $1")
        .bind(tenant)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    super::skills::bump_catalog(&mut *conn, tenant).await?;
    let traces = sqlx::query("DELETE FROM traces WHERE tenant = $1")
        .bind(tenant)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM trace_patterns WHERE tenant = $1")
        .bind(tenant)
        .execute(&mut *conn)
        .await?;
    for table in [
        "skill_requires",
        "skill_docs",
        "practice_steps",
        "practice_projects",
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE tenant = $1"))
            .bind(tenant)
            .execute(&mut *conn)
            .await?;
    }
    let executions = sqlx::query("DELETE FROM executions WHERE tenant = $1")
        .bind(tenant)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let learnings: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM learnings WHERE tenant = $1 AND seq > $2")
            .bind(tenant)
            .bind(super::executions::since_reset(conn, tenant).await?)
            .fetch_one(&mut *conn)
            .await?;
    Ok(ResetCounts {
        skills,
        traces,
        executions,
        learnings: u64::try_from(learnings).unwrap_or(0),
    })
}
