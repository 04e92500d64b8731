//! Tenants: their names and settings (limits, quotas). Their keys are in
//! `keys.rs`; clearing and removing one in `clear.rs`.

use tracing::instrument;

use super::{Signal, SkillStore, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::limits::TenantOverrides;
use crate::quota::Quotas;

impl SkillStore {
    /// Create a tenant with a first key (labelled `default`); returns that
    /// key, which is not stored.
    #[instrument(skip(self), err)]
    pub async fn create_tenant(&self, name: &str) -> Result<String, StoreError> {
        Ok(self
            .create_tenant_with_key(name, "default", None)
            .await?
            .key)
    }

    /// Create a tenant with no key (its callers authenticate otherwise: by
    /// OAuth access tokens). Creating one that exists is a no-op; returns
    /// whether it was created.
    #[instrument(skip(self), err)]
    pub async fn create_tenant_keyless(&self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO tenants (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(super::now_rfc3339())
        .execute(self.pool())
        .await?;
        self.changed(Signal::Tenants);
        Ok(done.rows_affected() == 1)
    }

    /// Create a tenant with a first key labelled `label`, expiring at
    /// `expires_ms` if set.
    #[instrument(skip(self), err)]
    pub async fn create_tenant_with_key(
        &self,
        name: &str,
        label: &str,
        expires_ms: Option<i64>,
    ) -> Result<super::NewKey, StoreError> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "INSERT INTO tenants (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(super::now_rfc3339())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "tenant {name:?} already exists"
            )));
        }
        let key = super::keys::insert_key(&mut tx, name, label, expires_ms).await?;
        tx.commit().await?;
        self.changed(Signal::Tenants);
        Ok(key)
    }

    /// The tenant's name if it exists.
    pub async fn tenant_for_name(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT name FROM tenants WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// How many tenants are configured.
    pub async fn tenant_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
            .fetch_one(self.pool())
            .await?)
    }

    /// The tenant's overrides of the host limits (none if it has none or
    /// does not exist).
    #[instrument(skip(self), err)]
    pub async fn tenant_overrides(&self, name: &str) -> Result<TenantOverrides, StoreError> {
        self.settings(name, Settings::Limits).await
    }

    /// Replace the tenant's overrides.
    #[instrument(skip(self), err)]
    pub async fn set_tenant_overrides(
        &self,
        name: &str,
        overrides: &TenantOverrides,
    ) -> Result<(), StoreError> {
        self.set_settings(name, Settings::Limits, overrides).await
    }

    /// The tenant's quotas (none when it has none, or does not exist).
    pub async fn tenant_quotas(&self, name: &str) -> Result<Quotas, StoreError> {
        self.settings(name, Settings::Quotas).await
    }

    /// Replace the tenant's quotas.
    #[instrument(skip(self), err)]
    pub async fn set_tenant_quotas(&self, name: &str, quotas: &Quotas) -> Result<(), StoreError> {
        self.set_settings(name, Settings::Quotas, quotas).await
    }

    async fn settings<T: DeserializeOwned + Default>(
        &self,
        name: &str,
        which: Settings,
    ) -> Result<T, StoreError> {
        let mut conn = self.pool().acquire().await?;
        settings_in(&mut conn, name, which).await
    }

    async fn set_settings<T: Serialize>(
        &self,
        name: &str,
        which: Settings,
        value: &T,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string(value).unwrap_or_else(|_| "{}".into());
        let done = sqlx::query(&format!(
            "UPDATE tenants SET {} = $2 WHERE name = $1",
            which.column()
        ))
        .bind(name)
        .bind(text)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoTenant(name.to_owned()));
        }
        self.changed(Signal::Tenants);
        Ok(())
    }
}

/// A tenant's settings, each a JSON column of `tenants`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Settings {
    /// [`TenantOverrides`].
    Limits,
    /// [`Quotas`].
    Quotas,
}

impl Settings {
    fn column(self) -> &'static str {
        match self {
            Self::Limits => "limits",
            Self::Quotas => "quotas",
        }
    }
}

/// A tenant's settings, read on `conn` (inside a transaction, say); the
/// defaults when the tenant does not exist.
pub(super) async fn settings_in<T: DeserializeOwned + Default>(
    conn: &mut sqlx::AnyConnection,
    name: &str,
    which: Settings,
) -> Result<T, StoreError> {
    let text: Option<String> = sqlx::query_scalar(&format!(
        "SELECT {} FROM tenants WHERE name = $1",
        which.column()
    ))
    .bind(name)
    .fetch_optional(conn)
    .await?;
    match text {
        None => Ok(T::default()),
        Some(t) => serde_json::from_str(&t).map_err(|e| StoreError::Corrupt {
            name: name.to_owned(),
            reason: format!("tenant {}: {e}", which.column()),
        }),
    }
}
