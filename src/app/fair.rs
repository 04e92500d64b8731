//! Fair sharing: each tenant gets a share of the sandbox, and its limits.
//!
//! The instance pool is one (see [`crate::sandbox::SandboxConfig`]), so a
//! tenant that floods it would make every other tenant wait. Each tenant
//! may have at most [`crate::limits::Limits::concurrent_calls`] sandbox operations running
//! or queued for a slot; the rest of the pool stays free for others. The
//! time spent waiting here counts against the caller's deadline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::cache::{Ages, Cache};
use crate::limits::{Limits, TenantOverrides};
use crate::sandbox::{CallError, ResourceLimits};

/// Gates kept before idle ones (nobody holding a place) are dropped.
const MAX_GATES: usize = 4_096;

/// Tenants whose overrides are kept: one entry each.
const OVERRIDES: crate::lru::Bounds = crate::lru::Bounds {
    entries: 4_096,
    bytes: 4_096 * 1024,
    partition_entries: 1,
    partition_bytes: 1024,
    entry_bytes: 1024,
};

/// A tenant's share was busy for the whole wait.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error(
    "this tenant already has {share} sandbox operations running; none finished within {} ms",
    .waited.as_millis()
)]
pub struct Busy {
    /// The tenant's share.
    pub share: usize,
    /// How long the caller waited.
    pub waited: Duration,
}

impl crate::fault::Classify for Busy {
    fn kind(&self) -> &'static str {
        "busy"
    }
    fn retry_after(&self) -> Option<Duration> {
        Some(Duration::from_secs(1))
    }
}

/// A place in a tenant's share, held for one operation.
pub struct Admission {
    _permit: OwnedSemaphorePermit,
    /// How long admission took (to be taken off the caller's deadline).
    pub waited: Duration,
}

type Gate = (usize, Arc<Semaphore>);

/// Per-tenant gates and cached limits.
pub(super) struct Shares {
    gates: Mutex<HashMap<String, Gate>>,
    /// Each tenant's overrides: a change made with the CLI reaches a
    /// running server within two seconds (`cache.rs`, lagging).
    overrides: Cache<(), TenantOverrides, u64>,
}

impl Default for Shares {
    fn default() -> Self {
        Self {
            gates: Mutex::default(),
            overrides: Cache::new(OVERRIDES, Ages::LAGGING, super::cache::small),
        }
    }
}

impl Shares {
    /// Wait up to `wait` for a place in `tenant`'s share of size `share`.
    pub async fn admit(
        &self,
        tenant: &str,
        share: usize,
        wait: Duration,
    ) -> Result<Admission, Busy> {
        let share = share.max(1);
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
            if gates.len() >= MAX_GATES && !gates.contains_key(tenant) {
                // Bounded: a gate nobody holds a place in carries no state.
                gates.retain(|_, (size, g)| g.available_permits() < *size);
            }
            let entry = gates
                .entry(tenant.to_owned())
                .or_insert_with(|| (share, Arc::new(Semaphore::new(share))));
            // A changed share gets a new gate; holders of the old one
            // finish under the old share.
            if entry.0 != share {
                *entry = (share, Arc::new(Semaphore::new(share)));
            }
            entry.1.clone()
        };
        let started = Instant::now();
        match tokio::time::timeout(wait, gate.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Admission {
                _permit: permit,
                waited: started.elapsed(),
            }),
            Ok(Err(_)) | Err(_) => Err(Busy {
                share,
                waited: started.elapsed(),
            }),
        }
    }
}

impl super::App {
    /// The same app with other server-wide limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = Arc::new(limits);
        self
    }

    /// `tenant`'s limits: the server's, with the tenant's overrides (read
    /// from the store at most every two seconds).
    pub async fn limits(&self, tenant: &str) -> Limits {
        // Without an answer, the server's limits, which are the safe ones.
        let load = async || self.store.tenant_overrides(tenant).await;
        let o = self
            .shares
            .overrides
            .setting(&self.store, tenant, "limits", load)
            .await;
        self.limits.with(&o)
    }

    /// A place in `tenant`'s share of the sandbox, waiting at most `wait`.
    pub async fn admit(
        &self,
        tenant: &str,
        limits: &Limits,
        wait: Duration,
    ) -> Result<Admission, Busy> {
        self.shares
            .admit(tenant, limits.concurrent_calls, wait)
            .await
    }

    /// Admission for one call under `call`; the wait is taken off its
    /// deadline, and a wait that uses it all up is a timeout.
    pub(super) async fn admit_call(
        &self,
        tenant: &str,
        limits: &Limits,
        call: &mut ResourceLimits,
    ) -> Result<Admission, CallError> {
        let admission = self
            .admit(tenant, limits, call.deadline)
            .await
            .map_err(|_| CallError::Timeout {
                limit: call.deadline,
            })?;
        call.deadline = call.deadline.saturating_sub(admission.waited);
        Ok(admission)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[tokio::test]
    async fn a_full_share_blocks_only_its_own_tenant() {
        let shares = Shares::default();
        let wait = Duration::from_millis(50);
        let a1 = shares.admit("a", 2, wait).await.unwrap();
        let _a2 = shares.admit("a", 2, wait).await.unwrap();
        let busy = shares.admit("a", 2, wait).await.err().unwrap();
        assert_eq!(busy.share, 2);
        assert!(
            shares.admit("b", 2, wait).await.is_ok(),
            "b is not blocked by a"
        );
        drop(a1);
        assert!(shares.admit("a", 2, wait).await.is_ok());
    }

    #[tokio::test]
    async fn a_flood_of_tenants_keeps_the_gates_bounded_and_held_ones() {
        let shares = Shares::default();
        let wait = Duration::from_millis(50);
        let held = shares.admit("busy", 1, wait).await.unwrap();
        for i in 0..3 * MAX_GATES {
            drop(shares.admit(&format!("t{i}"), 1, wait).await.unwrap());
        }
        let gates = shares.gates.lock().unwrap().len();
        assert!(gates <= MAX_GATES, "{gates} gates");
        // The held place still counts: its tenant's share is full.
        assert!(shares.admit("busy", 1, wait).await.is_err());
        drop(held);
        assert!(shares.admit("busy", 1, wait).await.is_ok());
    }
}
