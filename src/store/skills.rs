//! Skill versions: insert (with the lifecycle answers), lookups and
//! status changes. Every row is hash-checked when it is decoded.
//! Over 400 lines because every query of the skills table is here, one
//! function each, with the one decoder that checks the hash.

use sqlx::Row;
use tracing::instrument;

use super::{Inserted, Signal, SkillStore, StoreError, retry_busy};
use crate::skills::{Kpis, Provenance, Skill, SkillId, SkillManifest, Status};

impl SkillStore {
    /// Make `manifest` the current version of its name for `tenant`, with
    /// `status`, and say truthfully what changed:
    /// - the current version already has this content and status: nothing
    ///   ([`Inserted::Existing`]);
    /// - the current version has this content but another status (it was
    ///   retired, say): its status is set ([`Inserted::Restored`]);
    /// - an earlier version has this content: it becomes current again as a
    ///   new version ([`Inserted::Restored`]);
    /// - otherwise a new version is stored ([`Inserted::New`]).
    ///
    /// Refused with [`StoreError::Quota`] when it would take the tenant past
    /// its `skills` quota (counted inside the write lock, so exact across
    /// replicas).
    ///
    /// Writers of one tenant take turns ([`SkillStore::write_tx`]), retried
    /// while the database is busy.
    #[instrument(skip_all, fields(tenant, name = %manifest.name), err)]
    pub async fn insert(
        &self,
        tenant: &str,
        manifest: &SkillManifest,
        provenance: Provenance,
        status: Status,
        kpis: &Kpis,
    ) -> Result<Inserted, StoreError> {
        retry_busy(|| self.insert_once(tenant, manifest, provenance, status, kpis)).await
    }

    async fn insert_once(
        &self,
        tenant: &str,
        manifest: &SkillManifest,
        provenance: Provenance,
        status: Status,
        kpis: &Kpis,
    ) -> Result<Inserted, StoreError> {
        let id = manifest.id();
        let mut tx = self.write_tx(&format!("skills:{tenant}")).await?;
        let head = sqlx::query(
            "SELECT id, version, status FROM skill_versions WHERE tenant = $1 AND name = $2 ORDER BY version DESC LIMIT 1",
        )
        .bind(tenant)
        .bind(&manifest.name)
        .fetch_optional(&mut *tx)
        .await?;
        let head: Option<(String, i64, String)> = head
            .map(|r| {
                Ok::<_, sqlx::Error>((
                    r.try_get("id")?,
                    r.try_get("version")?,
                    r.try_get("status")?,
                ))
            })
            .transpose()?;
        let adds_a_live_name = status != Status::Retired
            && head
                .as_ref()
                .is_none_or(|(_, _, s)| s == Status::Retired.as_str());
        if adds_a_live_name {
            let quotas = super::quotas::quotas_in(&mut tx, tenant).await?;
            if let Some(limit) = quotas.skills
                && super::quotas::live_skills_in(&mut tx, tenant).await? >= limit
            {
                return Err(StoreError::Quota(crate::quota::QuotaExceeded {
                    kind: crate::quota::QuotaKind::Skills,
                    limit,
                    retry_after: None,
                }));
            }
        }
        if let Some((head_id, version, head_status)) = &head
            && head_id == id.as_str()
        {
            let changed = head_status != status.as_str();
            let outcome = if !changed {
                Inserted::Existing
            } else {
                sqlx::query("UPDATE skill_versions SET status = $4 WHERE tenant = $1 AND name = $2 AND version = $3")
                    .bind(tenant)
                    .bind(&manifest.name)
                    .bind(version)
                    .bind(status.as_str())
                    .execute(&mut *tx)
                    .await?;
                bump_catalog(&mut *tx, tenant).await?;
                Inserted::Restored
            };
            let skill = version_in(&mut tx, tenant, &manifest.name, *version).await?;
            tx.commit().await?;
            if changed {
                self.changed(Signal::Skills);
            }
            return Ok(outcome(skill));
        }
        let seen_before =
            sqlx::query("SELECT 1 FROM skill_versions WHERE tenant = $1 AND id = $2 LIMIT 1")
                .bind(tenant)
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        let (parent, version) = match head {
            Some((head_id, v, _)) => (Some(head_id), v + 1),
            None => (None, 1),
        };
        let kpis_json = serde_json::to_string(kpis).unwrap_or_else(|_| "{}".into());
        sqlx::query(
            "INSERT INTO skill_versions (tenant, id, name, version, parent_id, manifest, provenance, status, kpis, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(tenant)
        .bind(id.as_str())
        .bind(&manifest.name)
        .bind(version)
        .bind(parent)
        .bind(manifest.canonical_json())
        .bind(provenance.as_str())
        .bind(status.as_str())
        .bind(kpis_json)
        .bind(super::now_rfc3339())
        .execute(&mut *tx)
        .await?;
        for r in &manifest.requires {
            sqlx::query(
                "INSERT INTO skill_requires (tenant, skill_id, name, requires_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(id.as_str())
            .bind(&r.name)
            .bind(r.id.as_str())
            .execute(&mut *tx)
            .await?;
        }
        bump_catalog(&mut *tx, tenant).await?;
        let skill = version_in(&mut tx, tenant, &manifest.name, version).await?;
        tx.commit().await?;
        self.changed(Signal::Skills);
        Ok(if seen_before {
            Inserted::Restored(skill)
        } else {
            Inserted::New(skill)
        })
    }

    /// The skills whose current version builds on `name`: each dependant's
    /// name and the version of `name` it pins.
    #[instrument(skip(self), err)]
    pub async fn dependents(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Vec<(String, SkillId)>, StoreError> {
        let rows = sqlx::query(
            "SELECT v.name AS dependant, r.requires_id AS pinned
             FROM skill_requires r
             JOIN skill_versions v ON v.tenant = r.tenant AND v.id = r.skill_id
             WHERE r.tenant = $1 AND r.name = $2
               AND v.version = (SELECT MAX(version) FROM skill_versions h WHERE h.tenant = v.tenant AND h.name = v.name)
             ORDER BY v.name",
        )
        .bind(tenant)
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let pinned: String = r.try_get("pinned")?;
                let pinned = pinned.parse().map_err(|e: crate::skills::SkillIdError| {
                    StoreError::Corrupt {
                        name: name.to_owned(),
                        reason: e.to_string(),
                    }
                })?;
                Ok((r.try_get("dependant")?, pinned))
            })
            .collect()
    }

    /// The newest version of `name`, whatever its status.
    // Not-found is a caller's question, not a fault: log errors at debug.
    #[instrument(skip(self), err(level = "debug"))]
    pub async fn latest(&self, tenant: &str, name: &str) -> Result<Skill, StoreError> {
        let row = sqlx::query(&format!(
            "{SELECT_COLUMNS} WHERE tenant = $1 AND name = $2 ORDER BY version DESC LIMIT 1"
        ))
        .bind(tenant)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(name.to_owned()))?;
        decode(&row)
    }

    /// Every version of `name`, newest first (at most `limit`).
    #[instrument(skip(self), err(level = "debug"))]
    pub async fn versions(
        &self,
        tenant: &str,
        name: &str,
        limit: usize,
    ) -> Result<Vec<Skill>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_COLUMNS} WHERE tenant = $1 AND name = $2 ORDER BY version DESC LIMIT $3"
        ))
        .bind(tenant)
        .bind(name)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// The id and status of the newest version of `name`: one indexed
    /// lookup, no decoding (the hot path's freshness check).
    pub async fn head(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<(SkillId, Status)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, status FROM skill_versions WHERE tenant = $1 AND name = $2 ORDER BY version DESC LIMIT 1",
        )
        .bind(tenant)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let corrupt = |reason: String| StoreError::Corrupt {
            name: name.to_owned(),
            reason,
        };
        let id = row
            .try_get::<String, _>("id")?
            .parse::<SkillId>()
            .map_err(|e| corrupt(e.to_string()))?;
        let status = row
            .try_get::<String, _>("status")?
            .parse()
            .map_err(corrupt)?;
        Ok(Some((id, status)))
    }

    /// The skill with this id.
    #[instrument(skip(self), err(level = "debug"))]
    pub async fn get(&self, tenant: &str, id: &SkillId) -> Result<Skill, StoreError> {
        let row = sqlx::query(SELECT_BY_ID)
            .bind(tenant)
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        decode(&row)
    }

    /// The newest version of every name of `tenant`, by name. A tampered row
    /// fails the whole listing: a registry with a bad row must be looked at.
    #[instrument(skip(self), err)]
    pub async fn list(&self, tenant: &str) -> Result<Vec<Skill>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_COLUMNS} v WHERE tenant = $1 AND version = \
             (SELECT MAX(version) FROM skill_versions w WHERE w.tenant = v.tenant AND w.name = v.name) \
             ORDER BY name"
        ))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// Set the status of the current version of `name`, if it is still
    /// `expected` (so a retire never hits a version published meanwhile).
    /// Returns the version as it is now.
    #[instrument(skip(self), err)]
    pub async fn set_status(
        &self,
        tenant: &str,
        name: &str,
        expected: &SkillId,
        status: Status,
    ) -> Result<Skill, StoreError> {
        let done = sqlx::query(
            "UPDATE skill_versions SET status = $4 WHERE tenant = $1 AND name = $2 AND id = $3 \
             AND version = (SELECT MAX(version) FROM skill_versions WHERE tenant = $1 AND name = $2)",
        )
        .bind(tenant)
        .bind(name)
        .bind(expected.as_str())
        .bind(status.as_str())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "skill {name:?} changed meanwhile; its current version is not {}",
                expected.short()
            )));
        }
        // After the change, never before: a reader that takes the revision
        // first and the skills second can only pair new skills with an old
        // revision, which its next check corrects.
        bump_catalog(&self.pool, tenant).await?;
        self.changed(Signal::Skills);
        self.latest(tenant, name).await
    }

    /// The tenant's catalog revision: it changes with every write to the
    /// tenant's skills (0 before the first).
    pub async fn catalog_revision(&self, tenant: &str) -> Result<i64, StoreError> {
        let revision: Option<i64> =
            sqlx::query_scalar("SELECT revision FROM skill_catalog WHERE tenant = $1")
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await?;
        Ok(revision.unwrap_or(0))
    }
}

/// Move the tenant's catalog revision on (see `migrations/*/0012_catalog.sql`).
pub(crate) async fn bump_catalog<'e, E>(db: E, tenant: &str) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO skill_catalog (tenant, revision) VALUES ($1, 1) \
         ON CONFLICT (tenant) DO UPDATE SET revision = skill_catalog.revision + 1",
    )
    .bind(tenant)
    .execute(db)
    .await?;
    Ok(())
}

const SELECT_COLUMNS: &str = "SELECT tenant, id, name, version, parent_id, manifest, provenance, status, kpis, created_at FROM skill_versions";
const SELECT_BY_ID: &str = "SELECT tenant, id, name, version, parent_id, manifest, provenance, status, kpis, created_at FROM skill_versions WHERE tenant = $1 AND id = $2 ORDER BY version DESC LIMIT 1";

/// One version of a name, read inside a write transaction.
async fn version_in(
    tx: &mut super::Tx<'_>,
    tenant: &str,
    name: &str,
    version: i64,
) -> Result<Skill, StoreError> {
    let row = sqlx::query(&format!(
        "{SELECT_COLUMNS} WHERE tenant = $1 AND name = $2 AND version = $3"
    ))
    .bind(tenant)
    .bind(name)
    .bind(version)
    .fetch_one(&mut **tx)
    .await?;
    decode(&row)
}

/// Decode a row, checking its content hash first.
fn decode(row: &super::Row) -> Result<Skill, StoreError> {
    let name: String = row.try_get("name")?;
    let id_text: String = row.try_get("id")?;
    let manifest_text: String = row.try_get("manifest")?;
    let actual = SkillId::of_canonical(&manifest_text);
    if actual.as_str() != id_text {
        return Err(StoreError::Tampered {
            name,
            id: id_text,
            actual: actual.to_string(),
        });
    }
    let corrupt = |reason: String| StoreError::Corrupt {
        name: name.clone(),
        reason,
    };
    let manifest: SkillManifest =
        serde_json::from_str(&manifest_text).map_err(|e| corrupt(e.to_string()))?;
    // The text hashed right; it must also be the canonical form of what it
    // decodes to, or two texts could claim one behaviour.
    if manifest.canonical_json() != manifest_text || manifest.name != name {
        return Err(StoreError::Tampered {
            name,
            id: id_text,
            actual: manifest.id().to_string(),
        });
    }
    let parent = row
        .try_get::<Option<String>, _>("parent_id")?
        .map(|p| p.parse::<SkillId>().map_err(|e| corrupt(e.to_string())))
        .transpose()?;
    let version: i64 = row.try_get("version")?;
    Ok(Skill {
        id: actual,
        tenant: row.try_get("tenant")?,
        version: u32::try_from(version).map_err(|e| corrupt(e.to_string()))?,
        parent,
        provenance: row
            .try_get::<String, _>("provenance")?
            .parse()
            .map_err(corrupt)?,
        status: row
            .try_get::<String, _>("status")?
            .parse()
            .map_err(corrupt)?,
        kpis: serde_json::from_str(&row.try_get::<String, _>("kpis")?)
            .map_err(|e| corrupt(e.to_string()))?,
        created_at: row.try_get("created_at")?,
        manifest,
    })
}
