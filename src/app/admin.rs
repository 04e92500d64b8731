//! What an operator does to tenants: create them, give and revoke keys,
//! remove them with their data, change their quotas and limits; and the
//! audit trail of all of it. Every change is recorded in the hash-chained
//! learnings log as an `admin` entry (who did it, what changed; never a
//! key), so `autolearn audit` shows who did what to whom, and `audit
//! verify` shows nobody rewrote it. Resets, which the web UI can make,
//! are in the same trail as `reset` entries.
//!
//! Works on a store alone, so the CLI needs no sandbox for it; the app
//! composes one for the server's own resets and removals.

use crate::fault::{Classify, Fault};
use std::time::Duration;

use serde_json::{Value, json};

use crate::limits::TenantOverrides;
use crate::quota::Quotas;
use crate::store::{
    KeyInfo, Learning, NewKey, Removed, SkillStore, StoreError, TenantInfo, now_ms,
};

/// The log kinds the audit trail shows.
pub const AUDIT_KINDS: &[&str] = &["admin", "reset"];

/// Longest tenant name, in bytes.
pub const MAX_TENANT_NAME: usize = 64;

/// An operator's change failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The name, label or duration given is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// No such tenant.
    #[error("no tenant named {0:?}")]
    NoTenant(String),
    /// No such key of that tenant.
    #[error("tenant {tenant:?} has no key {id:?}")]
    NoKey {
        /// The tenant.
        tenant: String,
        /// The key id asked for.
        id: String,
    },
    /// It exists already, or a bound is reached.
    #[error("{0}")]
    Conflict(String),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl Classify for AdminError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "usage",
            Self::NoTenant(_) | Self::NoKey { .. } => "not_found",
            Self::Conflict(_) => "conflict",
            Self::Store(e) => e.kind(),
        }
    }
    fn fault(&self) -> Fault {
        match self {
            Self::Store(e) => e.fault(),
            _ => Fault::Caller,
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoTenant(t) => Self::NoTenant(t),
            StoreError::Conflict(m) => Self::Conflict(m),
            e => Self::Store(e),
        }
    }
}

/// Check a tenant name: 1 to 64 letters, digits, `_` and `-`.
pub fn check_tenant_name(name: &str) -> Result<(), AdminError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_TENANT_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!(
            "tenant names are 1 to {MAX_TENANT_NAME} letters, digits, '_' and '-'"
        )))
    }
}

/// When a key made now and valid for `valid_for` expires.
fn expiry(valid_for: Option<Duration>) -> Result<Option<i64>, AdminError> {
    valid_for
        .map(|d| {
            let ms = i64::try_from(d.as_millis())
                .ok()
                .filter(|ms| *ms > 0)
                .ok_or_else(|| {
                    AdminError::Invalid("the expiry must be a positive duration".into())
                })?;
            Ok(now_ms().saturating_add(ms))
        })
        .transpose()
}

/// The operator's operations on one store; cheap to clone.
#[derive(Clone)]
pub struct Admin {
    store: SkillStore,
    actor: String,
}

impl Admin {
    /// Operations on `store`, recorded as done by `actor` (say `cli:alice`).
    pub fn new(store: SkillStore, actor: impl Into<String>) -> Self {
        Self {
            store,
            actor: actor.into(),
        }
    }

    /// Every tenant with its keys (ids, labels, times; never a key).
    pub async fn tenants(&self) -> Result<Vec<TenantInfo>, AdminError> {
        Ok(self.store.tenants().await?)
    }

    /// Create `name` with a first key.
    pub async fn create_tenant(
        &self,
        name: &str,
        label: &str,
        valid_for: Option<Duration>,
    ) -> Result<NewKey, AdminError> {
        check_tenant_name(name)?;
        let expires_ms = expiry(valid_for)?;
        let key = self
            .store
            .create_tenant_with_key(name, label, expires_ms)
            .await?;
        self.record(
            name,
            "tenant_created",
            json!({"key": key.id, "label": label, "expires_ms": expires_ms}),
        )
        .await;
        Ok(key)
    }

    /// Make sure `name` exists, creating it without a key (a tenant whose
    /// callers bring OAuth access tokens), recorded when created.
    pub async fn ensure_keyless_tenant(&self, name: &str) -> Result<(), AdminError> {
        check_tenant_name(name)?;
        if self.store.create_tenant_keyless(name).await? {
            self.record(name, "tenant_created", json!({"keys": 0}))
                .await;
        }
        Ok(())
    }

    /// Give `tenant` another key.
    pub async fn add_key(
        &self,
        tenant: &str,
        label: &str,
        valid_for: Option<Duration>,
    ) -> Result<NewKey, AdminError> {
        let expires_ms = expiry(valid_for)?;
        let key = self.store.add_key(tenant, label, expires_ms).await?;
        self.record(
            tenant,
            "key_added",
            json!({"key": key.id, "label": label, "expires_ms": expires_ms}),
        )
        .await;
        Ok(key)
    }

    /// Revoke `tenant`'s key `id`, at once for every server.
    pub async fn revoke_key(&self, tenant: &str, id: &str) -> Result<KeyInfo, AdminError> {
        let info = match self.store.revoke_key(tenant, id).await {
            Ok(info) => info,
            Err(StoreError::NotFound(_)) => {
                return Err(AdminError::NoKey {
                    tenant: tenant.to_owned(),
                    id: id.to_owned(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        self.record(
            tenant,
            "key_revoked",
            json!({"key": info.id, "label": info.label}),
        )
        .await;
        Ok(info)
    }

    /// Remove `tenant` and its data; its learnings stay in the chain, after
    /// an entry that marks the removal.
    pub async fn remove_tenant(&self, tenant: &str) -> Result<Removed, AdminError> {
        let removed = self.store.remove_tenant(tenant).await?;
        self.record(tenant, "tenant_removed", json!(removed)).await;
        Ok(removed)
    }

    /// Change `tenant`'s quotas with `change`; returns them as stored.
    pub async fn set_quotas(
        &self,
        tenant: &str,
        change: impl FnOnce(&mut Quotas) -> Result<(), String>,
    ) -> Result<Quotas, AdminError> {
        self.exists(tenant).await?;
        let before = self.store.tenant_quotas(tenant).await?;
        let mut quotas = before;
        change(&mut quotas).map_err(AdminError::Invalid)?;
        if quotas != before {
            self.store.set_tenant_quotas(tenant, &quotas).await?;
            self.record(
                tenant,
                "quotas_set",
                json!({"before": before, "after": quotas}),
            )
            .await;
        }
        Ok(quotas)
    }

    /// Change `tenant`'s limit overrides with `change`.
    pub async fn set_limits(
        &self,
        tenant: &str,
        change: impl FnOnce(&mut TenantOverrides) -> Result<(), String>,
    ) -> Result<TenantOverrides, AdminError> {
        self.exists(tenant).await?;
        let before = self.store.tenant_overrides(tenant).await?;
        let mut overrides = before.clone();
        change(&mut overrides).map_err(AdminError::Invalid)?;
        if overrides != before {
            self.store.set_tenant_overrides(tenant, &overrides).await?;
            self.record(
                tenant,
                "limits_set",
                json!({"before": before, "after": overrides}),
            )
            .await;
        }
        Ok(overrides)
    }

    /// The newest `limit` entries of the trail (of one tenant, or all),
    /// oldest first.
    pub async fn audit(
        &self,
        tenant: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Learning>, AdminError> {
        Ok(self
            .store
            .learnings_of_kinds(AUDIT_KINDS, tenant, limit)
            .await?)
    }

    async fn exists(&self, tenant: &str) -> Result<(), AdminError> {
        match self.store.tenant_for_name(tenant).await? {
            Some(_) => Ok(()),
            None => Err(AdminError::NoTenant(tenant.to_owned())),
        }
    }

    /// Append `action` on `tenant` to the trail. The change is made, so a
    /// failure to record it is logged loudly, not returned.
    async fn record(&self, tenant: &str, action: &str, mut detail: Value) {
        detail["actor"] = self.actor.clone().into();
        if let Err(e) = self
            .store
            .append_learning(tenant, "admin", action, &detail)
            .await
        {
            tracing::error!("recording {action} of {tenant} in the audit trail: {e}");
        }
    }
}
