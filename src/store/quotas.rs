//! Quota counting (src/quota.rs): windowed counters, call slots and the
//! tenant's quota settings. Every decision is made inside the tenant's
//! `quota:` write lock, reading the counters it then writes, so replicas
//! sharing one database agree exactly.

use rand::Rng;
use sqlx::Row;

use super::{SkillStore, StoreError, Tx, retry_busy, traces::now_ms};
use crate::quota::{QuotaExceeded, QuotaKind, Quotas, window_at};

/// A skill call admitted under its tenant's quotas; hand it back to
/// [`SkillStore::end_call`] when the call ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallGrant {
    /// The call's slot (when `concurrent_calls` is set).
    slot: Option<String>,
    /// Fuel reserved for the call, and the day window it was taken from.
    fuel: Option<(u64, i64)>,
}

impl CallGrant {
    /// The most fuel the call may burn: what was reserved, under a fuel
    /// quota; else `wanted`.
    pub fn fuel(&self, wanted: u64) -> u64 {
        self.fuel
            .map_or(wanted, |(reserved, _)| reserved.min(wanted))
    }

    /// Whether the day's fuel quota, not the call's own limit, capped it.
    pub fn fuel_capped(&self, wanted: u64) -> bool {
        self.fuel.is_some_and(|(reserved, _)| reserved < wanted)
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// How long a `concurrent_calls` refusal suggests waiting.
const SLOT_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

impl SkillStore {
    /// Admit one skill call under `quotas`: count it against the minute,
    /// take a slot, reserve up to `fuel_wanted` of the day's fuel, and hold
    /// the slot for at most `hold` (the call's deadline, with a margin).
    /// Nothing is counted when any quota refuses.
    pub async fn begin_call(
        &self,
        tenant: &str,
        quotas: &Quotas,
        fuel_wanted: u64,
        hold: std::time::Duration,
    ) -> Result<Result<CallGrant, QuotaExceeded>, StoreError> {
        retry_busy(|| async {
            let now = now_ms();
            let mut tx = self.write_tx(&format!("quota:{tenant}")).await?;
            // Look first, count after: a refused call uses nothing.
            if let Some(limit) = quotas.concurrent_calls {
                sqlx::query("DELETE FROM call_slots WHERE tenant = $1 AND expires_ms <= $2")
                    .bind(tenant)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let running: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM call_slots WHERE tenant = $1")
                        .bind(tenant)
                        .fetch_one(&mut *tx)
                        .await?;
                if running >= clamp(limit) {
                    return Ok(Err(exceeded(
                        QuotaKind::ConcurrentCalls,
                        limit,
                        Some(SLOT_RETRY),
                    )));
                }
            }
            let mut calls = None;
            if let Some(limit) = quotas.calls_per_minute {
                let (start, left) =
                    window_at(QuotaKind::CallsPerMinute.window().unwrap_or_default(), now);
                if used(&mut tx, tenant, "calls", start).await? >= clamp(limit) {
                    return Ok(Err(exceeded(QuotaKind::CallsPerMinute, limit, Some(left))));
                }
                calls = Some(start);
            }
            let mut fuel = None;
            if let Some(limit) = quotas.fuel_per_day {
                let (start, left) =
                    window_at(QuotaKind::FuelPerDay.window().unwrap_or_default(), now);
                let spent = u64::try_from(used(&mut tx, tenant, "fuel", start).await?).unwrap_or(0);
                if spent >= limit {
                    return Ok(Err(exceeded(QuotaKind::FuelPerDay, limit, Some(left))));
                }
                fuel = Some((fuel_wanted.min(limit - spent), start));
            }
            if let Some(start) = calls {
                add(&mut tx, tenant, "calls", start, 1).await?;
            }
            if let Some((reserved, start)) = fuel {
                add(&mut tx, tenant, "fuel", start, clamp(reserved)).await?;
            }
            let mut slot = None;
            if quotas.concurrent_calls.is_some() {
                let mut bytes = [0u8; 12];
                rand::rng().fill_bytes(&mut bytes);
                let id = hex::encode(bytes);
                sqlx::query("INSERT INTO call_slots (tenant, id, expires_ms) VALUES ($1, $2, $3)")
                    .bind(tenant)
                    .bind(&id)
                    .bind(
                        now.saturating_add(clamp(
                            u64::try_from(hold.as_millis()).unwrap_or(u64::MAX),
                        )),
                    )
                    .execute(&mut *tx)
                    .await?;
                slot = Some(id);
            }
            tx.commit().await?;
            Ok(Ok(CallGrant { slot, fuel }))
        })
        .await
    }

    /// A call admitted by [`SkillStore::begin_call`] ended, having burnt
    /// `fuel_used`: free its slot and give back the fuel it did not burn.
    pub async fn end_call(
        &self,
        tenant: &str,
        grant: &CallGrant,
        fuel_used: u64,
    ) -> Result<(), StoreError> {
        if grant.slot.is_none() && grant.fuel.is_none() {
            return Ok(());
        }
        retry_busy(|| async {
            let mut tx = self.write_tx(&format!("quota:{tenant}")).await?;
            if let Some(id) = &grant.slot {
                sqlx::query("DELETE FROM call_slots WHERE tenant = $1 AND id = $2")
                    .bind(tenant)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some((reserved, start)) = grant.fuel {
                let unburnt = reserved.saturating_sub(fuel_used);
                if unburnt > 0 {
                    add(&mut tx, tenant, "fuel", start, -clamp(unburnt)).await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Count one generation against `generations_per_day`.
    pub async fn begin_generation(
        &self,
        tenant: &str,
        quotas: &Quotas,
    ) -> Result<Result<(), QuotaExceeded>, StoreError> {
        let Some(limit) = quotas.generations_per_day else {
            return Ok(Ok(()));
        };
        retry_busy(|| async {
            let kind = QuotaKind::GenerationsPerDay;
            let (start, left) = window_at(kind.window().unwrap_or_default(), now_ms());
            let mut tx = self.write_tx(&format!("quota:{tenant}")).await?;
            if used(&mut tx, tenant, "generations", start).await? >= clamp(limit) {
                return Ok(Err(exceeded(kind, limit, Some(left))));
            }
            add(&mut tx, tenant, "generations", start, 1).await?;
            tx.commit().await?;
            Ok(Ok(()))
        })
        .await
    }

    /// What the tenant used in the current windows, and calls running:
    /// `calls` (this minute), `fuel` and `generations` (today), and
    /// `concurrent_calls`.
    pub async fn quota_usage(&self, tenant: &str) -> Result<Vec<(QuotaKind, u64)>, StoreError> {
        let now = now_ms();
        let mut out = Vec::new();
        for (kind, column) in [
            (QuotaKind::CallsPerMinute, "calls"),
            (QuotaKind::FuelPerDay, "fuel"),
            (QuotaKind::GenerationsPerDay, "generations"),
        ] {
            let (start, _) = window_at(kind.window().unwrap_or_default(), now);
            let n: Option<i64> = sqlx::query_scalar(
                "SELECT used FROM quota_usage WHERE tenant = $1 AND kind = $2 AND window_start = $3",
            )
            .bind(tenant)
            .bind(column)
            .bind(start)
            .fetch_optional(self.pool())
            .await?;
            out.push((kind, u64::try_from(n.unwrap_or(0)).unwrap_or(0)));
        }
        let running: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM call_slots WHERE tenant = $1 AND expires_ms > $2",
        )
        .bind(tenant)
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        out.push((
            QuotaKind::ConcurrentCalls,
            u64::try_from(running).unwrap_or(0),
        ));
        out.push((QuotaKind::Skills, self.live_skills(tenant).await?));
        Ok(out)
    }

    /// Names of `tenant` whose newest version is not retired.
    pub async fn live_skills(&self, tenant: &str) -> Result<u64, StoreError> {
        let mut conn = self.pool().acquire().await?;
        live_skills_in(&mut conn, tenant).await
    }

    /// Forget counters of windows that ended over a day ago.
    pub async fn prune_quota_usage(&self) -> Result<u64, StoreError> {
        let cutoff = now_ms().saturating_sub(2 * 86_400_000);
        Ok(
            sqlx::query("DELETE FROM quota_usage WHERE window_start < $1")
                .bind(cutoff)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}

/// The tenant's quotas, read inside a transaction.
pub(super) async fn quotas_in(
    conn: &mut sqlx::AnyConnection,
    tenant: &str,
) -> Result<Quotas, StoreError> {
    super::tenants::settings_in(conn, tenant, super::tenants::Settings::Quotas).await
}

pub(super) async fn live_skills_in(
    conn: &mut sqlx::AnyConnection,
    tenant: &str,
) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM skill_versions v WHERE v.tenant = $1 AND v.status <> 'retired' \
         AND v.version = (SELECT MAX(version) FROM skill_versions h WHERE h.tenant = v.tenant AND h.name = v.name)",
    )
    .bind(tenant)
    .fetch_one(conn)
    .await?
    .try_get("n")?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn exceeded(
    kind: QuotaKind,
    limit: u64,
    retry_after: Option<std::time::Duration>,
) -> QuotaExceeded {
    QuotaExceeded {
        kind,
        limit,
        retry_after,
    }
}

async fn used(tx: &mut Tx<'_>, tenant: &str, kind: &str, start: i64) -> Result<i64, StoreError> {
    let n: Option<i64> = sqlx::query_scalar(
        "SELECT used FROM quota_usage WHERE tenant = $1 AND kind = $2 AND window_start = $3",
    )
    .bind(tenant)
    .bind(kind)
    .bind(start)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(n.unwrap_or(0))
}

/// Add `n` (negative: give back) to a counter; it never goes below 0.
async fn add(
    tx: &mut Tx<'_>,
    tenant: &str,
    kind: &str,
    start: i64,
    n: i64,
) -> Result<(), StoreError> {
    let sql = if n >= 0 {
        "INSERT INTO quota_usage (tenant, kind, window_start, used) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant, kind, window_start) DO UPDATE SET used = quota_usage.used + $4"
    } else {
        "UPDATE quota_usage SET used = CASE WHEN used + $4 > 0 THEN used + $4 ELSE 0 END \
         WHERE tenant = $1 AND kind = $2 AND window_start = $3"
    };
    sqlx::query(sql)
        .bind(tenant)
        .bind(kind)
        .bind(start)
        .bind(n)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
