//! The learnings log: append-only, hash-chained with sha256.
//!
//! One chain for the whole database. Each entry's hash covers a domain
//! prefix, its sequence number, tenant, kind, subject, detail and time, and
//! the previous entry's hash (64 zeros for the first). Appends take
//! turns on the `learnings` write lock ([`SkillStore::write_tx`]), so
//! concurrent writers, in one process or on several replicas, keep one
//! valid chain.

use futures_util::TryStreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{SkillStore, StoreError, retry_busy};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Learning {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Whose work it records.
    pub tenant: String,
    /// `attempt`, `candidates`, `failure`, `edge_case`, `repair`, `decision`.
    pub kind: String,
    /// The skill (or trace) it is about.
    pub subject: String,
    /// What happened, as JSON.
    pub detail: serde_json::Value,
    /// When (ms since the Unix epoch).
    pub created_ms: i64,
    /// This entry's hash.
    pub hash: String,
}

fn decode(r: &super::Row) -> Result<Learning, StoreError> {
    let detail: String = r.try_get("detail")?;
    Ok(Learning {
        seq: r.try_get("seq")?,
        tenant: r.try_get("tenant")?,
        kind: r.try_get("kind")?,
        subject: r.try_get("subject")?,
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        created_ms: r.try_get("created_ms")?,
        hash: r.try_get("hash")?,
    })
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenChain {
    /// The first entry whose hash does not follow.
    pub seq: i64,
    /// Why.
    pub reason: String,
}

fn entry_hash(
    prev: &str,
    seq: i64,
    tenant: &str,
    kind: &str,
    subject: &str,
    detail: &str,
    at: i64,
) -> String {
    let mut h = Sha256::new();
    for part in [
        "autolearn-learning-v1",
        prev,
        &seq.to_string(),
        tenant,
        kind,
        subject,
        detail,
        &at.to_string(),
    ] {
        h.update(part.len().to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

impl SkillStore {
    /// Append an entry; returns its sequence number.
    pub async fn append_learning(
        &self,
        tenant: &str,
        kind: &str,
        subject: &str,
        detail: &serde_json::Value,
    ) -> Result<i64, StoreError> {
        let detail = detail.to_string();
        retry_busy(|| async {
            let mut tx = self.write_tx("learnings").await?;
            let last = sqlx::query("SELECT seq, hash FROM learnings ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
            let (seq, prev) = match last {
                Some(r) => (r.try_get::<i64, _>("seq")? + 1, r.try_get::<String, _>("hash")?),
                None => (1, GENESIS.to_owned()),
            };
            let at = super::traces::now_ms();
            let hash = entry_hash(&prev, seq, tenant, kind, subject, &detail, at);
            sqlx::query(
                "INSERT INTO learnings (seq, tenant, kind, subject, detail, created_ms, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(seq)
            .bind(tenant)
            .bind(kind)
            .bind(subject)
            .bind(&detail)
            .bind(at)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(seq)
        })
        .await
    }

    /// The tenant's entries after `after`, oldest first, at most `limit`.
    pub async fn learnings(
        &self,
        tenant: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Learning>, StoreError> {
        // A reset hides what came before it (the chain keeps it).
        let mut conn = self.pool().acquire().await?;
        let after = after.max(super::executions::since_reset(&mut conn, tenant).await?);
        let rows = sqlx::query(
            "SELECT seq, tenant, kind, subject, detail, created_ms, hash FROM learnings \
             WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant)
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// The tenant's newest entries about `subject` (a skill), newest
    /// first, at most `limit`.
    pub async fn learnings_about(
        &self,
        tenant: &str,
        subject: &str,
        limit: usize,
    ) -> Result<Vec<Learning>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let after = super::executions::since_reset(&mut conn, tenant).await?;
        let rows = sqlx::query(
            "SELECT seq, tenant, kind, subject, detail, created_ms, hash FROM learnings \
             WHERE tenant = $1 AND subject = $2 AND seq > $3 ORDER BY seq DESC LIMIT $4",
        )
        .bind(tenant)
        .bind(subject)
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// The tenant's newest `n` entries, oldest first.
    pub async fn recent_learnings(
        &self,
        tenant: &str,
        n: usize,
    ) -> Result<Vec<Learning>, StoreError> {
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT seq FROM learnings WHERE tenant = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2",
        )
        .bind(tenant)
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .fetch_optional(self.pool())
        .await?;
        self.learnings(tenant, last.unwrap_or(0), n).await
    }

    /// Entries of the given `kinds` across tenants (or of one), the
    /// newest `limit` of them, oldest first: the operator's view, which no
    /// reset hides.
    pub async fn learnings_of_kinds(
        &self,
        kinds: &[&str],
        tenant: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Learning>, StoreError> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT seq, tenant, kind, subject, detail, created_ms, hash FROM learnings \
             WHERE ($1 = '' OR tenant = $1) AND kind IN ({}) ORDER BY seq DESC LIMIT $2",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql)
            .bind(tenant.unwrap_or(""))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        for k in kinds {
            q = q.bind(*k);
        }
        let rows = q.fetch_all(self.pool()).await?;
        let mut out: Vec<Learning> = rows.iter().map(decode).collect::<Result<_, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// Walk the whole chain; the first entry that does not follow, if any.
    /// Returns the number of entries checked when the chain holds.
    pub async fn verify_learnings(&self) -> Result<Result<i64, BrokenChain>, StoreError> {
        let mut rows = sqlx::query(
            "SELECT seq, tenant, kind, subject, detail, created_ms, prev_hash, hash FROM learnings ORDER BY seq",
        )
        .fetch(self.pool());
        let mut prev = GENESIS.to_owned();
        let mut expected_seq = 1;
        while let Some(r) = rows.try_next().await? {
            let seq: i64 = r.try_get("seq")?;
            let broken = |reason: &str| {
                Ok(Err(BrokenChain {
                    seq,
                    reason: reason.to_owned(),
                }))
            };
            if seq != expected_seq {
                return broken(&format!("entry {expected_seq} is missing"));
            }
            if r.try_get::<String, _>("prev_hash")? != prev {
                return broken("its previous hash is not the previous entry's hash");
            }
            let hash = entry_hash(
                &prev,
                seq,
                &r.try_get::<String, _>("tenant")?,
                &r.try_get::<String, _>("kind")?,
                &r.try_get::<String, _>("subject")?,
                &r.try_get::<String, _>("detail")?,
                r.try_get("created_ms")?,
            );
            if r.try_get::<String, _>("hash")? != hash {
                return broken("its content does not hash to its recorded hash");
            }
            prev = hash;
            expected_seq += 1;
        }
        Ok(Ok(expected_seq - 1))
    }
}
