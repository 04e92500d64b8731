//! Tenants and API keys. A key is 32 random bytes, shown once; the store
//! keeps only its sha256, so a leaked database leaks no usable key.

use rand::Rng;
use sha2::{Digest, Sha256};
use tracing::instrument;

use super::{Signal, SkillStore, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::limits::TenantOverrides;
use crate::quota::Quotas;

/// Prefix that makes AutoLearn keys recognisable (e.g. to secret scanners).
const KEY_PREFIX: &str = "alk_";

fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl SkillStore {
    /// Create a tenant; returns its API key, which is not stored.
    #[instrument(skip(self), err)]
    pub async fn create_tenant(&self, name: &str) -> Result<String, StoreError> {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let key = format!("{KEY_PREFIX}{}", hex::encode(bytes));
        let done = sqlx::query(
            "INSERT INTO tenants (name, key_sha256, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(key_hash(&key))
        .bind(super::now_rfc3339())
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "tenant {name:?} already exists"
            )));
        }
        self.changed(Signal::Tenants);
        Ok(key)
    }

    /// The tenant a key belongs to, if any.
    #[instrument(skip_all, err)]
    pub async fn tenant_for_key(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT name FROM tenants WHERE key_sha256 = $1")
                .bind(key_hash(key))
                .fetch_optional(self.pool())
                .await?,
        )
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
