//! Places in something the process has a fixed number of (live feeds, web
//! chats, practice workers), shared by tenants: at most `total` in all and
//! at most `per_tenant` for any one tenant. A global cap alone lets one
//! tenant take every place and turn every other tenant away; with both, a
//! tenant that fills its share is refused while others are still served.
//!
//! A place is held by a [`Slot`] and given back when it is dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Why no place was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Full {
    /// The tenant holds its share already (the caller's doing: wait for one
    /// of its own to end).
    #[error("this tenant already holds its {0} places")]
    Tenant(usize),
    /// Every place of the process is taken (by several tenants).
    #[error("all {0} places of this server are taken")]
    Server(usize),
}

struct Counts {
    total: usize,
    by_tenant: HashMap<String, usize>,
}

/// The places; cheap to clone.
#[derive(Clone)]
pub struct TenantSlots {
    total: usize,
    per_tenant: usize,
    counts: Arc<Mutex<Counts>>,
}

/// One place, given back on drop.
pub struct Slot {
    tenant: String,
    counts: Arc<Mutex<Counts>>,
}

impl TenantSlots {
    /// `total` places, at most `per_tenant` of them for one tenant.
    pub fn new(total: usize, per_tenant: usize) -> Self {
        Self {
            total,
            per_tenant: per_tenant.min(total),
            counts: Arc::new(Mutex::new(Counts {
                total: 0,
                by_tenant: HashMap::new(),
            })),
        }
    }

    /// A place for `tenant`, if its share and the server have one.
    pub fn take(&self, tenant: &str) -> Result<Slot, Full> {
        let mut counts = lock(&self.counts);
        let held = counts.by_tenant.get(tenant).copied().unwrap_or(0);
        if held >= self.per_tenant {
            return Err(Full::Tenant(self.per_tenant));
        }
        if counts.total >= self.total {
            return Err(Full::Server(self.total));
        }
        counts.total += 1;
        *counts.by_tenant.entry(tenant.to_owned()).or_default() += 1;
        Ok(Slot {
            tenant: tenant.to_owned(),
            counts: self.counts.clone(),
        })
    }

    /// Places held, by `tenant` or in all.
    pub fn held(&self, tenant: Option<&str>) -> usize {
        let counts = lock(&self.counts);
        match tenant {
            None => counts.total,
            Some(t) => counts.by_tenant.get(t).copied().unwrap_or(0),
        }
    }

    /// The share of one tenant.
    pub fn per_tenant(&self) -> usize {
        self.per_tenant
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.by_tenant.get_mut(&self.tenant) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.by_tenant.remove(&self.tenant);
            }
        }
    }
}

fn lock(m: &Mutex<Counts>) -> MutexGuard<'_, Counts> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_at_its_share_leaves_places_for_others() {
        let slots = TenantSlots::new(10, 3);
        let mine: Vec<Slot> = (0..3).filter_map(|_| slots.take("a").ok()).collect();
        assert_eq!(mine.len(), 3);
        assert_eq!(slots.take("a").err(), Some(Full::Tenant(3)));
        let other = slots.take("b");
        assert!(other.is_ok(), "another tenant is served");
        drop(mine);
        assert_eq!(slots.held(Some("a")), 0);
        assert_eq!(slots.held(None), 1);
        assert!(slots.take("a").is_ok(), "places come back on drop");
    }

    #[test]
    fn the_server_cap_holds_across_tenants() {
        let slots = TenantSlots::new(4, 2);
        let held: Vec<Slot> = ["a", "a", "b", "b"]
            .iter()
            .filter_map(|t| slots.take(t).ok())
            .collect();
        assert_eq!(held.len(), 4);
        assert_eq!(slots.take("c").err(), Some(Full::Server(4)));
    }
}
