//! API keys: a tenant holds one or more, each with a public id (what an
//! operator names to revoke it), a label, an optional expiry and the time
//! it was last used. A key is `alk_` and 32 random bytes in hex, shown
//! once; only its sha256 is stored, so a leaked database leaks no usable
//! key. Every write moves the tenants signal, so a revocation reaches every
//! server on the same SQLite file at its next request (PostgreSQL servers
//! read the table on every request).

use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use tracing::instrument;

use super::{Signal, SkillStore, StoreError, now_ms};

/// Prefix that makes AutoLearn keys recognisable (e.g. to secret scanners).
const KEY_PREFIX: &str = "alk_";
/// Longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 64;
/// Most keys one tenant may hold (a rotation needs two).
pub const MAX_KEYS_PER_TENANT: i64 = 32;

pub(super) fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A key just made: the only time its secret is known.
#[derive(Debug, Clone, Serialize)]
pub struct NewKey {
    /// Its public id.
    pub id: String,
    /// The secret, for the tenant's clients.
    pub key: String,
}

/// What is known of a key (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// Its public id.
    pub id: String,
    /// What the operator called it.
    pub label: String,
    /// When it was made (ms since the Unix epoch).
    pub created_ms: i64,
    /// When it stops working, if ever.
    pub expires_ms: Option<i64>,
    /// When it was last used, as recorded (at most once a minute per key).
    pub last_used_ms: Option<i64>,
}

/// Whose a presented key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOwner {
    /// The tenant.
    pub tenant: String,
    /// The key's id.
    pub id: String,
    /// When it stops working, if ever.
    pub expires_ms: Option<i64>,
}

impl KeyOwner {
    /// Whether the key has expired at `now_ms`.
    pub fn expired_at(&self, now_ms: i64) -> bool {
        self.expires_ms.is_some_and(|at| at <= now_ms)
    }
}

/// A tenant, as an operator lists it.
#[derive(Debug, Clone, Serialize)]
pub struct TenantInfo {
    /// Its name.
    pub name: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// Its keys, oldest first.
    pub keys: Vec<KeyInfo>,
}

fn new_secret() -> (String, String) {
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut id);
    rand::rng().fill_bytes(&mut secret);
    (
        format!("key_{}", hex::encode(id)),
        format!("{KEY_PREFIX}{}", hex::encode(secret)),
    )
}

fn check_label(label: &str) -> Result<(), StoreError> {
    if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        return Err(StoreError::Conflict(format!(
            "a key label is at most {MAX_LABEL_CHARS} printable characters"
        )));
    }
    Ok(())
}

/// Insert a key for `tenant` on `conn` (inside the caller's transaction).
pub(super) async fn insert_key(
    conn: &mut sqlx::AnyConnection,
    tenant: &str,
    label: &str,
    expires_ms: Option<i64>,
) -> Result<NewKey, StoreError> {
    check_label(label)?;
    let (id, key) = new_secret();
    // Keys list oldest first by `created_ms`; two keys made within one
    // millisecond (a create then an add) would tie and fall back to their
    // random ids, so a new key is stamped strictly after the tenant's newest.
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(created_ms) FROM tenant_keys WHERE tenant = $1")
            .bind(tenant)
            .fetch_one(&mut *conn)
            .await?;
    let created_ms = newest.map_or(now_ms(), |n| now_ms().max(n + 1));
    sqlx::query(
        "INSERT INTO tenant_keys (id, tenant, key_sha256, label, created_ms, expires_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(tenant)
    .bind(key_hash(&key))
    .bind(label)
    .bind(created_ms)
    .bind(expires_ms)
    .execute(conn)
    .await?;
    Ok(NewKey { id, key })
}

impl SkillStore {
    /// Give `tenant` another key (labelled, expiring at `expires_ms` if
    /// set); its other keys keep working.
    #[instrument(skip(self), err)]
    pub async fn add_key(
        &self,
        tenant: &str,
        label: &str,
        expires_ms: Option<i64>,
    ) -> Result<NewKey, StoreError> {
        // Reads, then writes: a write transaction from the start (see
        // `write_tx`), or SQLite fails it when another writer got in between.
        let mut tx = self.write_tx(&format!("keys:{tenant}")).await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT name FROM tenants WHERE name = $1")
            .bind(tenant)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NoTenant(tenant.to_owned()));
        }
        let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenant_keys WHERE tenant = $1")
            .bind(tenant)
            .fetch_one(&mut *tx)
            .await?;
        if held >= MAX_KEYS_PER_TENANT {
            return Err(StoreError::Conflict(format!(
                "tenant {tenant:?} holds {held} keys, the most allowed; revoke one first"
            )));
        }
        let key = insert_key(&mut tx, tenant, label, expires_ms).await?;
        tx.commit().await?;
        self.changed(Signal::Tenants);
        Ok(key)
    }

    /// Revoke `tenant`'s key `id`: it stops working at every server's next
    /// request. Returns what the key was.
    #[instrument(skip(self), err)]
    pub async fn revoke_key(&self, tenant: &str, id: &str) -> Result<KeyInfo, StoreError> {
        // Reads, then writes (see `add_key`).
        let mut tx = self.write_tx(&format!("keys:{tenant}")).await?;
        let row = sqlx::query(
            "SELECT id, label, created_ms, expires_ms, last_used_ms FROM tenant_keys \
             WHERE tenant = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound(format!("{tenant}/{id}")));
        };
        let info = decode_key(&row)?;
        sqlx::query("DELETE FROM tenant_keys WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.changed(Signal::Tenants);
        Ok(info)
    }

    /// Whose `key` is, if anyone's (expired keys included: the caller
    /// says why it refuses them).
    #[instrument(skip_all, err)]
    pub async fn key_owner(&self, key: &str) -> Result<Option<KeyOwner>, StoreError> {
        let row =
            sqlx::query("SELECT tenant, id, expires_ms FROM tenant_keys WHERE key_sha256 = $1")
                .bind(key_hash(key))
                .fetch_optional(self.pool())
                .await?;
        row.map(|r| {
            Ok(KeyOwner {
                tenant: r.try_get("tenant")?,
                id: r.try_get("id")?,
                expires_ms: r.try_get("expires_ms")?,
            })
        })
        .transpose()
    }

    /// The tenant a key belongs to, if the key exists and has not expired.
    pub async fn tenant_for_key(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .key_owner(key)
            .await?
            .filter(|o| !o.expired_at(now_ms()))
            .map(|o| o.tenant))
    }

    /// Record that key `id` was used at `at_ms`. Not signalled: nothing
    /// cached depends on it.
    pub async fn touch_key(&self, id: &str, at_ms: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE tenant_keys SET last_used_ms = $2 WHERE id = $1")
            .bind(id)
            .bind(at_ms)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every tenant with its keys, by name.
    pub async fn tenants(&self) -> Result<Vec<TenantInfo>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let tenants = sqlx::query("SELECT name, created_at FROM tenants ORDER BY name")
            .fetch_all(&mut *conn)
            .await?;
        let keys = sqlx::query(
            "SELECT tenant, id, label, created_ms, expires_ms, last_used_ms FROM tenant_keys \
             ORDER BY tenant, created_ms, id",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut out: Vec<TenantInfo> = tenants
            .iter()
            .map(|r| {
                Ok(TenantInfo {
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    keys: Vec::new(),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let at: std::collections::HashMap<String, usize> = out
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
        for r in &keys {
            let tenant: String = r.try_get("tenant")?;
            if let Some(&i) = at.get(&tenant) {
                out[i].keys.push(decode_key(r)?);
            }
        }
        Ok(out)
    }
}

fn decode_key(r: &super::Row) -> Result<KeyInfo, StoreError> {
    Ok(KeyInfo {
        id: r.try_get("id")?,
        label: r.try_get("label")?,
        created_ms: r.try_get("created_ms")?,
        expires_ms: r.try_get("expires_ms")?,
        last_used_ms: r.try_get("last_used_ms")?,
    })
}
