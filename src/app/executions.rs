//! The execution log's writer: skill calls queue their rows here and one
//! background task stores them in batches, so a call never waits on the
//! database for its log row. The queue is bounded: when the database
//! cannot keep up, rows are dropped and counted, never buffered without
//! limit. It is bounded per tenant too ([`TENANT_QUEUE`]): a flood of calls
//! by one tenant drops that tenant's rows, never another's.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{mpsc, oneshot};

use super::events::{Event, Events};
use crate::store::{Execution, MAX_EXECUTIONS_PER_TENANT, SkillStore};

/// Rows waiting to be written, at most.
const QUEUE: usize = 4096;
/// Rows of one tenant waiting to be written, at most.
pub(crate) const TENANT_QUEUE: usize = QUEUE / 4;
/// Rows per transaction, at most.
const BATCH: usize = 256;
/// Rows stored between two prunes of the tenants they belong to. A
/// tenant's log may pass its cap by fewer than this plus [`BATCH`] rows; in
/// exchange the prune query, which walks the tenant's newest rows (10,000
/// of them once the log is full), runs once per this many calls instead of
/// once per call.
const PRUNE_EVERY: usize = 512;

enum Job {
    Row(Box<Execution>),
    Flush(oneshot::Sender<()>),
}

/// The queue; cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct ExecutionLog {
    queue: Arc<OnceLock<mpsc::Sender<Job>>>,
    dropped: Arc<AtomicU64>,
    /// Rows queued, by tenant.
    queued: Queued,
}

/// Rows queued, by tenant; each is counted when queued and uncounted when
/// the writer takes it.
#[derive(Clone, Default)]
struct Queued(Arc<Mutex<HashMap<String, usize>>>);

impl Queued {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Count a row of `tenant`, unless it has its share queued already.
    fn take(&self, tenant: &str) -> bool {
        let mut q = self.lock();
        let n = q.entry(tenant.to_owned()).or_default();
        if *n >= TENANT_QUEUE {
            return false;
        }
        *n += 1;
        true
    }

    fn give_back(&self, tenant: &str) {
        let mut q = self.lock();
        if let Some(n) = q.get_mut(tenant) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                q.remove(tenant);
            }
        }
    }
}

impl ExecutionLog {
    fn sender(&self, store: &SkillStore, events: &Events) -> &mpsc::Sender<Job> {
        self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(write(
                rx,
                store.clone(),
                events.clone(),
                self.queued.clone(),
            ));
            tx
        })
    }

    /// Queue `row`; dropped (and counted) when the queue is full.
    pub fn record(&self, row: Execution, store: &SkillStore, events: &Events) {
        let tenant = row.tenant.clone();
        let queued = self.queued.take(&tenant)
            && match self.sender(store, events).try_send(Job::Row(Box::new(row))) {
                Ok(()) => true,
                Err(_) => {
                    self.queued.give_back(&tenant);
                    false
                }
            };
        if !queued {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!("execution log queue full: {n} rows dropped so far");
            }
        }
    }

    /// Wait until every row queued so far is stored.
    pub async fn flush(&self) {
        let Some(tx) = self.queue.get() else {
            return;
        };
        let (done, wait) = oneshot::channel();
        if tx.send(Job::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write(mut rx: mpsc::Receiver<Job>, store: SkillStore, events: Events, queued: Queued) {
    let mut jobs = Vec::with_capacity(BATCH);
    // The first batch after a start prunes, so restarts do not skip it.
    let mut since_prune = PRUNE_EVERY;
    let mut to_prune = BTreeSet::new();
    while rx.recv_many(&mut jobs, BATCH).await > 0 {
        let mut rows = Vec::new();
        let mut flushes = Vec::new();
        for job in jobs.drain(..) {
            match job {
                Job::Row(r) => {
                    queued.give_back(&r.tenant);
                    rows.push(*r);
                }
                Job::Flush(done) => flushes.push(done),
            }
        }
        since_prune += rows.len();
        to_prune.extend(rows.iter().map(|r| r.tenant.clone()));
        match store.insert_executions(&rows).await {
            Ok(seqs) => {
                for (mut row, seq) in rows.into_iter().zip(seqs) {
                    row.seq = seq;
                    let tenant = row.tenant.clone();
                    events.send(&tenant, Event::SkillExecuted(row));
                }
            }
            Err(e) => tracing::error!("storing {} execution rows: {e}", rows.len()),
        }
        if since_prune >= PRUNE_EVERY && !to_prune.is_empty() {
            let tenants: Vec<&str> = to_prune.iter().map(String::as_str).collect();
            match store
                .prune_executions(&tenants, MAX_EXECUTIONS_PER_TENANT)
                .await
            {
                Ok(()) => {
                    to_prune.clear();
                    since_prune = 0;
                }
                Err(e) => tracing::error!("pruning the execution log: {e}"),
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tenant_at_its_share_leaves_room_for_others() {
        let q = Queued::default();
        for _ in 0..TENANT_QUEUE {
            assert!(q.take("flood"));
        }
        assert!(!q.take("flood"), "the flooder's rows are dropped");
        assert!(q.take("calm"), "another tenant's row still queues");
        q.give_back("flood");
        assert!(q.take("flood"), "a written row frees a place");
        for _ in 0..TENANT_QUEUE {
            q.give_back("flood");
        }
        q.give_back("calm");
        assert!(q.lock().is_empty(), "counts of drained tenants are dropped");
    }
}
