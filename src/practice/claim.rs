//! A tenant's practice worker slot: one `work` at a time per tenant,
//! across processes and replicas (a lease in the database, renewed while
//! held, taken over from a dead holder), and a bounded number of workers
//! per process.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Practice, PracticeError};

/// Practice workers one process runs at once, across tenants: each holds
/// the model for minutes at a time, so more would only queue behind it
/// while keeping other tenants' generations waiting.
pub const MAX_WORKERS: usize = 2;

/// Take a worker slot for `tenant` in `working`, if it has none and one is
/// free.
fn admit(
    working: &mut HashSet<String>,
    tenant: &str,
    project: &str,
    max: usize,
) -> Result<(), PracticeError> {
    if working.contains(tenant) {
        return Err(PracticeError::Working(project.to_owned()));
    }
    if working.len() >= max {
        return Err(PracticeError::Saturated(max));
    }
    working.insert(tenant.to_owned());
    Ok(())
}

impl Practice {
    /// Whether work runs for `tenant` in this process.
    pub fn is_working(&self, tenant: &str) -> bool {
        self.working
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(tenant)
    }

    /// Claim the tenant's worker slot: one `work` at a time per tenant,
    /// across processes and replicas (a lease in the database, renewed
    /// while held), and at most [`MAX_WORKERS`] in the process.
    pub(super) async fn claim(
        &self,
        tenant: &str,
        project: &str,
    ) -> Result<WorkClaim, PracticeError> {
        let mut claim = {
            let mut w = self.working.lock().unwrap_or_else(|e| e.into_inner());
            admit(&mut w, tenant, project, MAX_WORKERS)?;
            WorkClaim {
                working: self.working.clone(),
                tenant: tenant.to_owned(),
                lease: None,
            }
        };
        let store = self.app.leases();
        let (name, holder) = (
            format!("practice:{tenant}"),
            lease_holder(self.app.origin()),
        );
        // A refusal drops `claim`, which frees the local slot.
        if !store.take_lease(&name, &holder, LEASE_TTL).await? {
            // A process of this machine that died (killed, say) holds it:
            // its restart takes over now rather than when the lease ends.
            let dead = match store.lease_holder(&name).await? {
                Some(old) if holder_is_dead(&old) => Some(old),
                _ => None,
            };
            let taken = match dead {
                Some(old) => {
                    store
                        .take_over_lease(&name, &old, &holder, LEASE_TTL)
                        .await?
                }
                None => false,
            };
            if !taken {
                return Err(PracticeError::Working(project.to_owned()));
            }
        }
        let renew = {
            let (store, name, holder) = (store.clone(), name.clone(), holder.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(LEASE_TTL / 3).await;
                    if let Err(e) = store.take_lease(&name, &holder, LEASE_TTL).await {
                        tracing::warn!("renewing the practice lease {name}: {e}");
                    }
                }
            })
        };
        claim.lease = Some(Lease {
            store,
            name,
            holder,
            renew,
        });
        Ok(claim)
    }
}

/// This process as a lease holder: `host/pid/origin`.
fn lease_holder(origin: &str) -> String {
    format!("{}/{}/{origin}", host_name(), std::process::id())
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

/// Whether `holder` was a process of this machine that is gone. Holders on
/// other machines are never judged: their leases simply expire.
fn holder_is_dead(holder: &str) -> bool {
    let mut parts = holder.splitn(3, '/');
    let (Some(host), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    let me = host_name();
    !me.is_empty()
        && host == me
        && pid.parse::<u32>().is_ok_and(|p| {
            p != std::process::id() && !std::path::Path::new(&format!("/proc/{p}")).exists()
        })
}

/// How long a practice lease lasts unrenewed: a replica that dies while
/// it works frees the tenant's slot after this long.
const LEASE_TTL: Duration = Duration::from_secs(60);

/// A tenant's worker slot; released when dropped.
pub(super) struct WorkClaim {
    working: Arc<Mutex<HashSet<String>>>,
    tenant: String,
    lease: Option<Lease>,
}

/// The database lease behind a claim, renewed until dropped.
struct Lease {
    store: crate::store::Leases,
    name: String,
    holder: String,
    renew: tokio::task::JoinHandle<()>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renew.abort();
        let (store, name, holder) = (
            self.store.clone(),
            std::mem::take(&mut self.name),
            std::mem::take(&mut self.holder),
        );
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = store.release_lease(&name, &holder).await {
                    tracing::warn!("releasing the practice lease {name}: {e}");
                }
            });
        }
    }
}

impl Drop for WorkClaim {
    fn drop(&mut self) {
        self.working
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_gone_process_of_this_machine_is_a_dead_holder() {
        let me = lease_holder("x");
        assert!(!holder_is_dead(&me), "{me}");
        // Above Linux's largest pid: no such process.
        let gone = format!("{}/4194305/y", host_name());
        assert!(holder_is_dead(&gone));
        assert!(!holder_is_dead("another-host/4194305/y"));
        assert!(!holder_is_dead("garbage"));
    }

    #[test]
    fn one_worker_per_tenant_and_a_bounded_number_in_all() {
        let mut w = HashSet::new();
        assert!(admit(&mut w, "a", "p", 2).is_ok());
        assert!(matches!(
            admit(&mut w, "a", "p", 2),
            Err(PracticeError::Working(_))
        ));
        assert!(admit(&mut w, "b", "p", 2).is_ok());
        assert!(matches!(
            admit(&mut w, "c", "p", 2),
            Err(PracticeError::Saturated(2))
        ));
        w.remove("a");
        assert!(admit(&mut w, "c", "p", 2).is_ok());
    }
}
