//! Named leases: one holder at a time across processes and replicas, for
//! work that must not run twice (a tenant's practice worker). A lease
//! expires unless renewed, so a holder that dies frees it by itself.

use std::time::Duration;

use super::{SkillStore, StoreError, traces::now_ms};

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Named leases: a handle of their own ([`SkillStore::leases`]).
#[derive(Clone)]
pub struct Leases(SkillStore);

impl SkillStore {
    /// The named leases.
    pub fn leases(&self) -> Leases {
        Leases(self.clone())
    }
}

impl Leases {
    /// Take (or renew) `name` for `holder` for `ttl`: granted when it is
    /// free, expired, or already `holder`'s.
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "INSERT INTO leases (name, holder, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms \
             WHERE leases.holder = excluded.holder OR leases.expires_ms <= $4",
        )
        .bind(name)
        .bind(holder)
        .bind(now.saturating_add(ms(ttl)))
        .bind(now)
        .execute(self.0.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Take `name` from `old` (a holder known to be dead) for `new`.
    pub async fn take_over_lease(
        &self,
        name: &str,
        old: &str,
        new: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE leases SET holder = $3, expires_ms = $4 WHERE name = $1 AND holder = $2",
        )
        .bind(name)
        .bind(old)
        .bind(new)
        .bind(now_ms().saturating_add(ms(ttl)))
        .execute(self.0.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Give `name` up, if `holder` has it.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(self.0.pool())
            .await?;
        Ok(())
    }

    /// Who holds `name` now, if anyone.
    pub async fn lease_holder(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT holder FROM leases WHERE name = $1 AND expires_ms > $2")
                .bind(name)
                .bind(now_ms())
                .fetch_optional(self.0.pool())
                .await?,
        )
    }
}
