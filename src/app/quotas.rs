//! Quotas in the app: each tenant's quotas (cached briefly), and skill
//! calls admitted under them. The counting itself is the store's
//! ([`crate::store::SkillStore::begin_call`]), so replicas agree.

use std::time::Duration;

use super::cache::{Ages, Cache, small};
use super::{App, RunError};
use crate::quota::{QuotaExceeded, QuotaKind, Quotas};
use crate::sandbox::{CallError, ResourceLimits};
use crate::store::{CallGrant, SkillStore};

/// Tenants whose quotas are kept: one entry each. `tenant set-quota`
/// reaches every running replica within two seconds (`cache.rs`,
/// lagging); the counters are never cached.
const QUOTAS: crate::lru::Bounds = crate::lru::Bounds {
    entries: 4_096,
    bytes: 4_096 * 256,
    partition_entries: 1,
    partition_bytes: 256,
    entry_bytes: 256,
};

/// How long past its deadline a call's slot may outlive a replica that
/// died holding it.
const SLOT_MARGIN: Duration = Duration::from_secs(5);

/// Cached quotas per tenant.
pub(super) struct QuotaCache(Cache<(), Quotas, u64>);

impl Default for QuotaCache {
    fn default() -> Self {
        Self(Cache::new(QUOTAS, Ages::LAGGING, small))
    }
}

/// A skill call admitted under its tenant's quotas. [`QuotaCall::finish`]
/// gives back the fuel it did not burn; dropped unfinished (the request
/// was cancelled), it is charged all it reserved.
pub(super) struct QuotaCall {
    store: SkillStore,
    tenant: String,
    grant: Option<CallGrant>,
    wanted_fuel: u64,
    /// The tenant's `fuel_per_day`, when it has one.
    fuel_per_day: Option<u64>,
}

impl QuotaCall {
    /// The call failed with `e`: was it the day's fuel quota that stopped
    /// it (its fuel was capped by the quota, and it ran out)?
    pub fn stopped_by_quota(&self, e: &CallError) -> Option<QuotaExceeded> {
        let capped = self
            .grant
            .as_ref()
            .is_some_and(|g| g.fuel_capped(self.wanted_fuel));
        if !capped || !matches!(e, CallError::OutOfFuel { .. }) {
            return None;
        }
        let (_, left) = crate::quota::window_at(
            QuotaKind::FuelPerDay.window().unwrap_or_default(),
            crate::store::now_ms(),
        );
        Some(QuotaExceeded {
            kind: QuotaKind::FuelPerDay,
            limit: self.fuel_per_day?,
            retry_after: Some(left),
        })
    }

    /// The call ended, having burnt `fuel`.
    pub async fn finish(mut self, fuel: u64) {
        if let Some(grant) = self.grant.take()
            && let Err(e) = self.store.end_call(&self.tenant, &grant, fuel).await
        {
            tracing::warn!(tenant = %self.tenant, "ending a call under quotas: {e}");
        }
    }
}

impl Drop for QuotaCall {
    fn drop(&mut self) {
        if let Some(grant) = self.grant.take() {
            let (store, tenant) = (self.store.clone(), std::mem::take(&mut self.tenant));
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = store.end_call(&tenant, &grant, u64::MAX).await;
                });
            }
        }
    }
}

impl App {
    /// `tenant`'s quotas (read from the store at most every two seconds;
    /// none when the store cannot say, logged).
    pub(crate) async fn quotas(&self, tenant: &str) -> Quotas {
        let load = async || self.store.tenant_quotas(tenant).await;
        self.quota_cache
            .0
            .setting(&self.store, tenant, "quotas", load)
            .await
    }

    /// Admit one skill call under `tenant`'s quotas, capping its fuel at
    /// what is left of the day's.
    pub(super) async fn begin_quota_call(
        &self,
        tenant: &str,
        call: &mut ResourceLimits,
    ) -> Result<QuotaCall, RunError> {
        let quotas = self.quotas(tenant).await;
        let mut admitted = QuotaCall {
            store: self.store.clone(),
            tenant: tenant.to_owned(),
            grant: None,
            wanted_fuel: call.fuel,
            fuel_per_day: quotas.fuel_per_day,
        };
        if !quotas.limits_calls() {
            return Ok(admitted);
        }
        let hold = call.deadline + SLOT_MARGIN;
        match self
            .store
            .begin_call(tenant, &quotas, call.fuel, hold)
            .await
        {
            Ok(Ok(grant)) => {
                call.fuel = grant.fuel(call.fuel);
                admitted.grant = Some(grant);
                Ok(admitted)
            }
            Ok(Err(e)) => Err(self.refused(tenant, e).into()),
            Err(e) => Err(RunError::Store(e)),
        }
    }

    /// Count a refusal, and hand it on.
    pub(crate) fn refused(&self, tenant: &str, e: QuotaExceeded) -> QuotaExceeded {
        self.metrics.quota_rejected(tenant, e.kind);
        e
    }

    /// Count one generation against `tenant`'s `generations_per_day`.
    pub(crate) async fn begin_generation(
        &self,
        tenant: &str,
    ) -> Result<(), super::GenerateSkillError> {
        let quotas = self.quotas(tenant).await;
        match self.store.begin_generation(tenant, &quotas).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(self.refused(tenant, e).into()),
            Err(e) => Err(super::AddError::Store(e).into()),
        }
    }
}
