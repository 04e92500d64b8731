//! The one way a skill enters the store: verified in the sandbox (inside
//! the tenant's share), then stored as published or as a draft, with the
//! rules every source follows (`create_skill`, `skill add`, crystallize,
//! generate, practice):
//!
//! - a draft never replaces a published version of its name;
//! - a quota refusal is counted where it happens;
//! - a new version is announced: live pages hear `skill_added`, and when it
//!   is published, MCP sessions hear their tool list changed.

use serde_json::json;

use super::{AddError, App, Skills};
use crate::fault::Internal;
use crate::learn::{Verification, verify};
use crate::sandbox::ResourceLimits;
use crate::skills::{Kpis, Provenance, SkillManifest, Status};
use crate::store::{Inserted, StoreError};

/// Trust at or above which a generated skill is published; below it, it
/// is kept as a draft. The one place the threshold is decided.
pub const PUBLISH_TRUST: f64 = 70.0;

impl Skills<'_> {
    /// Verify `manifest` in the sandbox, then store it as published. Storing
    /// an identical manifest again returns the existing skill.
    pub async fn add(
        &self,
        tenant: &str,
        manifest: SkillManifest,
        provenance: Provenance,
    ) -> Result<(Inserted, Verification), AddError> {
        self.add_as(tenant, manifest, provenance, Status::Published)
            .await
    }

    /// [`Skills::add`] with a status: a draft is stored but is not a
    /// tool, and never replaces a published version of its name.
    pub async fn add_as(
        &self,
        tenant: &str,
        manifest: SkillManifest,
        provenance: Provenance,
        status: Status,
    ) -> Result<(Inserted, Verification), AddError> {
        let limits = self.app.limits(tenant).await;
        manifest.validate(&limits.skill)?;
        let verification = self.app.verify_in_share(tenant, &manifest).await?;
        if !verification.passed() {
            self.app.learn(
                tenant,
                "decision",
                &manifest.name,
                json!({"source": provenance, "published": false, "problems": verification.problems}),
            )
            .await;
            return Err(AddError::Rejected(Box::new(verification)));
        }
        let inserted = self
            .app
            .store_verified(tenant, &manifest, provenance, status, &verification.kpis)
            .await?
            .ok_or_else(|| {
                AddError::Store(StoreError::Conflict(format!(
                    "a published skill named {:?} exists; a draft must not replace it",
                    manifest.name
                )))
            })?;
        if !matches!(inserted, Inserted::Existing(_)) {
            let s = inserted.skill();
            let detail = match status {
                Status::Draft => {
                    json!({"source": provenance, "published": false, "draft": true, "version": s.version, "trust": s.trust()})
                }
                _ => {
                    json!({"source": provenance, "published": true, "version": s.version, "id": s.id, "trust": s.trust()})
                }
            };
            self.app
                .learn(tenant, "decision", &manifest.name, detail)
                .await;
        }
        Ok((inserted, verification))
    }
}

impl App {
    /// Run the publishing gate on `manifest`: one call at a time, under the
    /// normal per-call limits, inside the tenant's share of the sandbox.
    pub(super) async fn verify_in_share(
        &self,
        tenant: &str,
        manifest: &SkillManifest,
    ) -> Result<Verification, AddError> {
        let limits = self.limits(tenant).await;
        let call = ResourceLimits::default();
        let admission = self.admit(tenant, &limits, call.deadline).await?;
        let deps = self.skills().dependencies(tenant, manifest).await?;
        let (sandbox, scope, m) = (self.sandbox.clone(), tenant.to_owned(), manifest.clone());
        let verification = self
            .offload
            .run(async move { verify(&sandbox, &scope, &m, &deps, &call).await })
            .await
            .map_err(|e| AddError::Internal(Internal::of("the verifier", e)))?;
        drop(admission);
        Ok(verification)
    }

    /// Store a verified manifest with `status`, and announce it. `None`
    /// when it is a draft and a published version of its name exists,
    /// which a draft must never replace.
    pub(super) async fn store_verified(
        &self,
        tenant: &str,
        manifest: &SkillManifest,
        provenance: Provenance,
        status: Status,
        kpis: &Kpis,
    ) -> Result<Option<Inserted>, AddError> {
        if status == Status::Draft
            && matches!(
                self.store.head(tenant, &manifest.name).await?,
                Some((_, Status::Published))
            )
        {
            return Ok(None);
        }
        let inserted = match self
            .store
            .insert(tenant, manifest, provenance, status, kpis)
            .await
        {
            Err(StoreError::Quota(q)) => {
                return Err(StoreError::Quota(self.refused(tenant, q)).into());
            }
            r => r?,
        };
        self.stored(tenant, &inserted);
        if status == Status::Published && !matches!(inserted, Inserted::Existing(_)) {
            self.announce(tenant, &manifest.name);
        }
        Ok(Some(inserted))
    }
}
