//! Traces of `run_python` steps: which trace a step joins, the steps kept
//! within the tenant's step and byte caps, and pruning by age and count.
//!
//! A step is recorded in one write transaction (the tenant's traces lock): resolve (or
//! open) the trace, append the step, drop the oldest steps past the caps.
//! Two concurrent agents with their own trace ids never interleave.
//!
//! Over 400 lines because every query of the traces tables is here, one
//! function each, beside the transaction that keeps their caps.

use std::time::Duration;

use sqlx::Row;
use tracing::instrument;

use super::{SkillStore, StoreError, retry_busy};
use crate::trace::{Step, TraceId, TraceRef, TraceSummary};

/// Caps and timing for recording a step.
#[derive(Debug, Clone, Copy)]
pub struct TraceCaps {
    /// Steps kept per trace.
    pub steps: usize,
    /// Bytes kept per trace.
    pub bytes: usize,
    /// An open (tenant) trace closes after this long without a step.
    pub idle: Duration,
}

/// Where a recorded step went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The trace.
    pub trace: TraceId,
    /// The step's number in it (1, 2, ...).
    pub step: u32,
}

/// Measurements stored with a step.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepCost {
    /// Fuel the cell used.
    pub fuel: u64,
    /// Its wall time, in microseconds.
    pub elapsed_us: u64,
}

/// Milliseconds since the Unix epoch, as the store keeps times.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

use super::Tx;

impl SkillStore {
    /// Append `step` to the trace `which` names (opening one if needed).
    #[instrument(skip(self, step), err)]
    pub async fn record_step(
        &self,
        tenant: &str,
        which: &TraceRef,
        step: &Step,
        cost: StepCost,
        caps: TraceCaps,
    ) -> Result<Recorded, StoreError> {
        retry_busy(|| self.record_once(tenant, which, step, cost, caps)).await
    }

    async fn record_once(
        &self,
        tenant: &str,
        which: &TraceRef,
        step: &Step,
        cost: StepCost,
        caps: TraceCaps,
    ) -> Result<Recorded, StoreError> {
        let now = now_ms();
        let mut tx = self.write_tx(&format!("traces:{tenant}")).await?;
        let trace = match find_in(&mut tx, tenant, which, caps.idle, now).await? {
            Some(id) => id,
            None => create_in(&mut tx, tenant, which, now).await?,
        };
        let bytes = serde_json::to_string(step).map_or(0, |t| t.len());
        let number: i64 = sqlx::query_scalar(
            "UPDATE traces SET next_step = next_step + 1, updated_ms = $3, closed = 0, bytes = bytes + $4 \
             WHERE tenant = $1 AND id = $2 RETURNING next_step - 1",
        )
        .bind(tenant)
        .bind(trace.as_str())
        .bind(now)
        .bind(to_i64(bytes))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO trace_steps (tenant, trace_id, step, code, inputs, value, names, bound, error, fuel, elapsed_us, bytes, created_ms, answer, runtime) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(tenant)
        .bind(trace.as_str())
        .bind(number)
        .bind(&step.code)
        .bind(json(&step.inputs))
        .bind(step.value.as_ref().map(|v| v.to_string()))
        .bind(json(&step.names))
        .bind(json(&step.bound))
        .bind(step.error.as_deref())
        .bind(i64::try_from(cost.fuel).unwrap_or(i64::MAX))
        .bind(i64::try_from(cost.elapsed_us).unwrap_or(i64::MAX))
        .bind(to_i64(bytes))
        .bind(now)
        .bind(i64::from(step.answer))
        .bind(step.runtime.as_str())
        .execute(&mut *tx)
        .await?;
        trim_in(&mut tx, tenant, &trace, caps).await?;
        tx.commit().await?;
        Ok(Recorded {
            trace,
            step: u32::try_from(number).unwrap_or(u32::MAX),
        })
    }

    /// The trace `which` names, if there is one (nothing is created).
    pub async fn find_trace(
        &self,
        tenant: &str,
        which: &TraceRef,
        idle: Duration,
    ) -> Result<Option<TraceId>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let found = find_in(&mut tx, tenant, which, idle, now_ms()).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// The steps kept of a trace, in order.
    #[instrument(skip(self), err)]
    pub async fn trace_steps(&self, tenant: &str, id: &TraceId) -> Result<Vec<Step>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, inputs, value, names, bound, error, answer, runtime FROM trace_steps \
             WHERE tenant = $1 AND trace_id = $2 ORDER BY step",
        )
        .bind(tenant)
        .bind(id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let corrupt = |e: serde_json::Error| StoreError::Corrupt {
                    name: id.to_string(),
                    reason: format!("trace step: {e}"),
                };
                let value: Option<String> = r.try_get("value")?;
                Ok(Step {
                    code: r.try_get("code")?,
                    inputs: serde_json::from_str(&r.try_get::<String, _>("inputs")?)
                        .map_err(corrupt)?,
                    value: value
                        .map(|v| serde_json::from_str(&v))
                        .transpose()
                        .map_err(corrupt)?,
                    names: serde_json::from_str(&r.try_get::<String, _>("names")?)
                        .map_err(corrupt)?,
                    bound: serde_json::from_str(&r.try_get::<String, _>("bound")?)
                        .map_err(corrupt)?,
                    error: r.try_get("error")?,
                    answer: r.try_get::<i64, _>("answer")? != 0,
                    runtime: r
                        .try_get::<String, _>("runtime")?
                        .parse()
                        .map_err(|reason| StoreError::Corrupt {
                            name: id.to_string(),
                            reason,
                        })?,
                })
            })
            .collect()
    }

    /// Close a trace, noting the skill it became.
    pub async fn close_trace(
        &self,
        tenant: &str,
        id: &TraceId,
        skill: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE traces SET closed = 1, skill = COALESCE($3, skill) WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id.as_str())
            .bind(skill)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Traces nobody crystallized that went quiet before `quiet_since_ms`
    /// (or whose session ended), not judged yet, oldest first.
    pub async fn quiet_traces(
        &self,
        quiet_since_ms: i64,
        limit: usize,
    ) -> Result<Vec<(String, TraceId)>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant, id FROM traces WHERE judged = 0 AND closed = 0 \
             AND (updated_ms < $1 OR ended = 1) ORDER BY updated_ms LIMIT $2",
        )
        .bind(quiet_since_ms)
        .bind(to_i64(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let id = id.parse().map_err(|e: String| StoreError::Corrupt {
                    name: id.clone(),
                    reason: e,
                })?;
                Ok((r.try_get("tenant")?, id))
            })
            .collect()
    }

    /// Mark a trace judged (whatever the verdict).
    pub async fn mark_judged(&self, tenant: &str, id: &TraceId) -> Result<(), StoreError> {
        sqlx::query("UPDATE traces SET judged = 1 WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id.as_str())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// One more trace showed the pattern `fingerprint`; how many have.
    pub async fn see_pattern(&self, tenant: &str, fingerprint: &str) -> Result<u32, StoreError> {
        let seen: i64 = sqlx::query_scalar(
            "INSERT INTO trace_patterns (tenant, fingerprint, seen, updated_ms) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (tenant, fingerprint) DO UPDATE SET seen = seen + 1, updated_ms = $3 \
             RETURNING seen",
        )
        .bind(tenant)
        .bind(fingerprint)
        .bind(now_ms())
        .fetch_one(self.pool())
        .await?;
        Ok(u32::try_from(seen).unwrap_or(u32::MAX))
    }

    /// A legacy session ended: its trace is ready to be judged.
    pub async fn end_session(&self, tenant: &str, session: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE traces SET ended = 1 WHERE tenant = $1 AND kind = 'session' AND session = $2",
        )
        .bind(tenant)
        .bind(session)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The tenant's traces, newest first.
    pub async fn list_traces(
        &self,
        tenant: &str,
        limit: usize,
    ) -> Result<Vec<TraceSummary>, StoreError> {
        self.summaries(tenant, None, limit).await
    }

    /// One trace's summary, if the tenant has it.
    pub async fn trace_summary(
        &self,
        tenant: &str,
        id: &TraceId,
    ) -> Result<Option<TraceSummary>, StoreError> {
        Ok(self.summaries(tenant, Some(id), 1).await?.pop())
    }

    async fn summaries(
        &self,
        tenant: &str,
        id: Option<&TraceId>,
        limit: usize,
    ) -> Result<Vec<TraceSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, t.kind, t.created_ms, t.updated_ms, t.closed, t.skill, \
             (SELECT COUNT(*) FROM trace_steps s WHERE s.tenant = t.tenant AND s.trace_id = t.id) AS steps \
             FROM traces t WHERE t.tenant = $1 AND ($3 IS NULL OR t.id = $3) \
             ORDER BY t.updated_ms DESC, t.id LIMIT $2",
        )
        .bind(tenant)
        .bind(to_i64(limit))
        .bind(id.map(TraceId::as_str))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                Ok(TraceSummary {
                    id: id.parse().map_err(|e: String| StoreError::Corrupt {
                        name: id.clone(),
                        reason: e,
                    })?,
                    kind: r.try_get("kind")?,
                    steps: u32::try_from(r.try_get::<i64, _>("steps")?).unwrap_or(0),
                    created_ms: r.try_get("created_ms")?,
                    updated_ms: r.try_get("updated_ms")?,
                    closed: r.try_get::<i64, _>("closed")? != 0,
                    skill: r.try_get("skill")?,
                })
            })
            .collect()
    }

    /// Delete traces idle for longer than `max_age`, and all but each
    /// tenant's newest `per_tenant`. Returns how many went.
    #[instrument(skip(self), err)]
    pub async fn prune_traces(
        &self,
        max_age: Duration,
        per_tenant: usize,
    ) -> Result<u64, StoreError> {
        let cutoff = now_ms().saturating_sub(ms(max_age));
        let old = sqlx::query("DELETE FROM traces WHERE updated_ms < $1")
            .bind(cutoff)
            .execute(self.pool())
            .await?
            .rows_affected();
        // Patterns age out with the traces that showed them.
        sqlx::query("DELETE FROM trace_patterns WHERE updated_ms < $1")
            .bind(cutoff)
            .execute(self.pool())
            .await?;
        let excess = sqlx::query(
            "DELETE FROM traces WHERE (tenant, id) IN (SELECT tenant, id FROM \
             (SELECT tenant, id, ROW_NUMBER() OVER (PARTITION BY tenant ORDER BY updated_ms DESC, id) AS n FROM traces) AS ranked \
             WHERE n > $1)",
        )
        .bind(to_i64(per_tenant))
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(old + excess)
    }
}

/// The trace `which` names: an explicit id as it is; a session's open
/// trace; the tenant's open trace if it had a step within `idle` (older
/// open traces are closed on the way).
async fn find_in(
    tx: &mut Tx<'_>,
    tenant: &str,
    which: &TraceRef,
    idle: Duration,
    now: i64,
) -> Result<Option<TraceId>, StoreError> {
    let id: Option<String> = match which {
        TraceRef::Id(id) => sqlx::query_scalar("SELECT id FROM traces WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id.as_str())
            .fetch_optional(&mut **tx)
            .await?,
        TraceRef::Session(session) => sqlx::query_scalar(
            "SELECT id FROM traces WHERE tenant = $1 AND kind = 'session' AND session = $2 AND closed = 0 \
             ORDER BY updated_ms DESC LIMIT 1",
        )
        .bind(tenant)
        .bind(session)
        .fetch_optional(&mut **tx)
        .await?,
        TraceRef::Open => {
            let fresh = now.saturating_sub(ms(idle));
            sqlx::query("UPDATE traces SET closed = 1 WHERE tenant = $1 AND kind = 'open' AND closed = 0 AND updated_ms < $2")
                .bind(tenant)
                .bind(fresh)
                .execute(&mut **tx)
                .await?;
            sqlx::query_scalar(
                "SELECT id FROM traces WHERE tenant = $1 AND kind = 'open' AND closed = 0 \
                 ORDER BY updated_ms DESC LIMIT 1",
            )
            .bind(tenant)
            .fetch_optional(&mut **tx)
            .await?
        }
    };
    id.map(|i| {
        i.parse()
            .map_err(|e: String| StoreError::Corrupt { name: i, reason: e })
    })
    .transpose()
}

async fn create_in(
    tx: &mut Tx<'_>,
    tenant: &str,
    which: &TraceRef,
    now: i64,
) -> Result<TraceId, StoreError> {
    let (id, kind, session) = match which {
        TraceRef::Id(id) => (id.clone(), "explicit", None),
        TraceRef::Session(s) => (TraceId::random(), "session", Some(s.as_str())),
        TraceRef::Open => (TraceId::random(), "open", None),
    };
    sqlx::query(
        "INSERT INTO traces (tenant, id, kind, session, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(tenant)
    .bind(id.as_str())
    .bind(kind)
    .bind(session)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// Drop the oldest steps while the trace is over a cap (never the newest).
async fn trim_in(
    tx: &mut Tx<'_>,
    tenant: &str,
    id: &TraceId,
    caps: TraceCaps,
) -> Result<(), StoreError> {
    loop {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS b, MIN(step) AS first FROM trace_steps \
             WHERE tenant = $1 AND trace_id = $2",
        )
        .bind(tenant)
        .bind(id.as_str())
        .fetch_one(&mut **tx)
        .await?;
        let (n, b): (i64, i64) = (row.try_get("n")?, row.try_get("b")?);
        if n <= 1 || (n <= to_i64(caps.steps) && b <= to_i64(caps.bytes)) {
            sqlx::query("UPDATE traces SET bytes = $3 WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(id.as_str())
                .bind(b)
                .execute(&mut **tx)
                .await?;
            return Ok(());
        }
        let first: i64 = row.try_get("first")?;
        sqlx::query("DELETE FROM trace_steps WHERE tenant = $1 AND trace_id = $2 AND step = $3")
            .bind(tenant)
            .bind(id.as_str())
            .bind(first)
            .execute(&mut **tx)
            .await?;
    }
}

/// JSON text of a part of a step.
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}
