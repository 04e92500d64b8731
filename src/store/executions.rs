//! The execution log: one row per skill call, newest kept, bounded per
//! tenant. Rows arrive in batches from the app's background writer, so a
//! call never waits for its own log row.

use serde::Serialize;
use sqlx::Row;

use super::{SkillStore, StoreError, retry_busy};

/// Rows kept per tenant; older ones are pruned as new ones arrive (every
/// few hundred rows, so a log may briefly hold a few hundred more).
pub const MAX_EXECUTIONS_PER_TENANT: i64 = 10_000;

/// One skill call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Execution {
    /// Position in the log (0 until stored).
    pub seq: i64,
    /// Whose call.
    pub tenant: String,
    /// When it ended (ms since the Unix epoch).
    pub at_ms: i64,
    /// The skill called.
    pub skill: String,
    /// The version that ran, if one did.
    pub version: Option<u32>,
    /// The input, as JSON, cut to a preview.
    pub input: String,
    /// The result, as JSON, cut to a preview, when it succeeded.
    pub output: Option<String>,
    /// The error kind, when it failed.
    pub error_kind: Option<String>,
    /// The error message, when it failed.
    pub error: Option<String>,
    /// Fuel used.
    pub fuel: u64,
    /// Wall time in microseconds.
    pub elapsed_us: u64,
}

/// What a reset removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResetCounts {
    /// Skill versions deleted.
    pub skills: u64,
    /// Traces deleted (their steps with them).
    pub traces: u64,
    /// Execution rows deleted.
    pub executions: u64,
    /// Learnings hidden from the tenant's view (the chain keeps them).
    pub learnings: u64,
}

/// The seq of `tenant`'s latest `reset` learning (0 if none): its view of
/// the learnings log starts after it.
pub(super) async fn since_reset(
    conn: &mut sqlx::AnyConnection,
    tenant: &str,
) -> Result<i64, StoreError> {
    let seq: Option<i64> =
        sqlx::query_scalar("SELECT MAX(seq) FROM learnings WHERE tenant = $1 AND kind = 'reset'")
            .bind(tenant)
            .fetch_one(conn)
            .await?;
    Ok(seq.unwrap_or(0))
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl SkillStore {
    /// Store a batch of executions in one transaction. Returns their `seq`s.
    pub async fn insert_executions(&self, batch: &[Execution]) -> Result<Vec<i64>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        retry_busy(|| async {
            let mut tx = self.pool().begin().await?;
            let mut seqs = Vec::with_capacity(batch.len());
            for e in batch {
                let seq: i64 = sqlx::query_scalar(
                    "INSERT INTO executions (tenant, at_ms, skill, version, input, output, error_kind, error, fuel, elapsed_us) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq",
                )
                .bind(&e.tenant)
                .bind(e.at_ms)
                .bind(&e.skill)
                .bind(e.version.map(i64::from))
                .bind(&e.input)
                .bind(&e.output)
                .bind(&e.error_kind)
                .bind(&e.error)
                .bind(clamp(e.fuel))
                .bind(clamp(e.elapsed_us))
                .fetch_one(&mut *tx)
                .await?;
                seqs.push(seq);
            }
            tx.commit().await?;
            Ok(seqs)
        })
        .await
    }

    /// Keep only the newest `keep` executions of each of `tenants`. The
    /// query walks a tenant's `keep` newest rows, so writers call it every
    /// few hundred rows, not per row.
    pub async fn prune_executions(&self, tenants: &[&str], keep: i64) -> Result<(), StoreError> {
        retry_busy(|| async {
            let mut tx = self.pool().begin().await?;
            for tenant in tenants {
                sqlx::query(
                    "DELETE FROM executions WHERE tenant = $1 AND seq <= \
                     (SELECT seq FROM executions WHERE tenant = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)",
                )
                .bind(tenant)
                .bind(keep)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// The tenant's executions before `before` (0: the newest), newest
    /// first, at most `limit`.
    pub async fn executions(
        &self,
        tenant: &str,
        before: i64,
        limit: usize,
    ) -> Result<Vec<Execution>, StoreError> {
        let before = if before <= 0 { i64::MAX } else { before };
        let rows = sqlx::query(
            "SELECT seq, tenant, at_ms, skill, version, input, output, error_kind, error, fuel, elapsed_us \
             FROM executions WHERE tenant = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(tenant)
        .bind(before)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Execution {
                    seq: r.try_get("seq")?,
                    tenant: r.try_get("tenant")?,
                    at_ms: r.try_get("at_ms")?,
                    skill: r.try_get("skill")?,
                    version: r
                        .try_get::<Option<i64>, _>("version")?
                        .and_then(|v| u32::try_from(v).ok()),
                    input: r.try_get("input")?,
                    output: r.try_get("output")?,
                    error_kind: r.try_get("error_kind")?,
                    error: r.try_get("error")?,
                    fuel: u64::try_from(r.try_get::<i64, _>("fuel")?).unwrap_or(0),
                    elapsed_us: u64::try_from(r.try_get::<i64, _>("elapsed_us")?).unwrap_or(0),
                })
            })
            .collect()
    }
}
