//! Turns at the language model, fair between tenants. The embedded model
//! decodes one request at a time, and a remote endpoint serves a process
//! only so many at once; with one first-come queue, a tenant that sends
//! twenty generations makes every other tenant wait for all twenty. Here
//! each tenant queues behind its own requests first ([`ModelTurns::new`]'s
//! `per_tenant` at a time), and only then for the model's places, so the
//! model's queue holds at most `per_tenant` requests of any tenant: another
//! tenant waits for at most that many of each tenant's requests, however
//! many the flooder sent. Both queues are first come, first served.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Tenants' queues kept before the idle ones are dropped.
const KEEP_QUEUES: usize = 1024;

/// The model's places and each tenant's queue.
pub(super) struct ModelTurns {
    model: Arc<Semaphore>,
    per_tenant: usize,
    tenants: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// A turn at the model, given back on drop. The model's place goes back
/// before the tenant's, so a waiting tenant is ahead of the same tenant's
/// next request.
pub(super) struct Turn {
    _model: OwnedSemaphorePermit,
    _tenant: OwnedSemaphorePermit,
}

impl ModelTurns {
    /// `places` requests at the model at once, at most `per_tenant` of one
    /// tenant's.
    pub fn new(places: usize, per_tenant: usize) -> Self {
        Self {
            model: Arc::new(Semaphore::new(places.max(1))),
            per_tenant: per_tenant.max(1),
            tenants: Mutex::default(),
        }
    }

    /// Wait for `tenant`'s turn (`None` only if a semaphore were closed,
    /// which none ever is).
    pub async fn turn(&self, tenant: &str) -> Option<Turn> {
        let queue = {
            let mut tenants = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
            if tenants.len() >= KEEP_QUEUES {
                tenants.retain(|_, q| Arc::strong_count(q) > 1);
            }
            tenants
                .entry(tenant.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant)))
                .clone()
        };
        let mine = queue.acquire_owned().await.ok()?;
        let model = self.model.clone().acquire_owned().await.ok()?;
        Some(Turn {
            _model: model,
            _tenant: mine,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[tokio::test]
    async fn a_flooding_tenant_waits_behind_itself_not_others() {
        let turns = Arc::new(ModelTurns::new(1, 1));
        let order = Arc::new(Mutex::new(Vec::new()));
        let first = turns.turn("flood").await;
        let mut waiting = Vec::new();
        for who in ["flood#2", "flood#3", "flood#4", "calm"] {
            let (turns, order) = (turns.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let tenant = who.split('#').next().unwrap();
                let _turn = turns.turn(tenant).await;
                order.lock().unwrap().push(who);
                tokio::task::yield_now().await;
            }));
            // Each is queued before the next is sent.
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
        }
        drop(first);
        for w in waiting {
            w.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        assert_eq!(
            order[0], "calm",
            "served right after the turn it waited for: {order:?}"
        );
        assert_eq!(order.len(), 4);
    }
}
