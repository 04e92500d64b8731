//! Sandbox and model work off the I/O threads, and its end.
//!
//! Wasm compute between awaits must not stall the runtime's I/O workers
//! (and so other requests), so such work runs on a blocking-pool thread
//! that drives it with its own `block_on`. Two things then need care:
//!
//! - a caller that goes away (a closed connection, a cancelled task)
//!   stops its work at the work's next await: left alone it would hold a
//!   thread, a tenant's share and the model for minutes nobody waits for;
//! - a server that shuts down stops what is left and waits for it
//!   ([`Offload::halt`]): work still polling when the runtime's timers and
//!   sockets are gone panics, and the runtime's end would wait for it.

use std::time::Duration;

use tokio::task::JoinError;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Why offloaded work gave no result.
#[derive(Debug, thiserror::Error)]
pub enum OffloadError {
    /// The server is shutting down and stopped it.
    #[error("the server is shutting down")]
    Halted,
    /// The work panicked.
    #[error(transparent)]
    Panicked(#[from] JoinError),
}

/// The work of one app; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Offload {
    running: TaskTracker,
    halt: CancellationToken,
}

impl Offload {
    /// Run `work` on a blocking-pool thread and wait for its output.
    /// Dropping the returned future stops `work` at its next await.
    pub async fn run<F>(&self, work: F) -> Result<F::Output, OffloadError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = tokio::runtime::Handle::current();
        let stop = self.halt.child_token();
        let _stop_when_dropped = stop.clone().drop_guard();
        let counted = self.running.token();
        let out = tokio::task::spawn_blocking(move || {
            let _counted = counted;
            handle.block_on(async move {
                tokio::select! {
                    // Stopping wins over a result ready at the same time:
                    // nothing may poll the work once the server ends.
                    biased;
                    () = stop.cancelled() => None,
                    out = work => Some(out),
                }
            })
        })
        .await?;
        out.ok_or(OffloadError::Halted)
    }

    /// Stop all work and wait up to `grace` for it to end; false if some
    /// was still running then (a wasm call between two awaits ends by its
    /// own deadline).
    pub async fn halt(&self, grace: Duration) -> bool {
        self.halt.cancel();
        self.running.close();
        tokio::time::timeout(grace, self.running.wait())
            .await
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use super::{Offload, OffloadError};

    /// Sets its flag when dropped: the work was stopped.
    struct Dropped(Arc<AtomicBool>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    fn endless(flag: &Arc<AtomicBool>) -> impl Future<Output = ()> + Send + 'static {
        let guard = Dropped(flag.clone());
        async move {
            let _guard = guard;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }

    impl Offload {
        async fn run_owned<F>(self, work: F) -> Result<F::Output, OffloadError>
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
        {
            self.run(work).await
        }
    }

    async fn until(flag: &AtomicBool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !flag.load(Ordering::SeqCst) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        flag.load(Ordering::SeqCst)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_goes_away_stops_its_work() {
        let offload = Offload::default();
        let stopped = Arc::new(AtomicBool::new(false));
        let caller = tokio::spawn(offload.clone().run_owned(endless(&stopped)));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!stopped.load(Ordering::SeqCst));
        caller.abort();
        assert!(until(&stopped).await, "the work ran on without its caller");
        // Nothing is left for a shutdown to wait for.
        assert!(offload.halt(Duration::from_secs(5)).await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn halting_stops_running_work_and_waits_for_it() {
        let offload = Offload::default();
        let stopped = Arc::new(AtomicBool::new(false));
        let caller = tokio::spawn(offload.clone().run_owned(endless(&stopped)));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(offload.halt(Duration::from_secs(5)).await);
        assert!(stopped.load(Ordering::SeqCst));
        assert!(matches!(caller.await.unwrap(), Err(OffloadError::Halted)));
        // Work offered after the halt does not run.
        let late = Arc::new(AtomicBool::new(false));
        let ran = offload
            .run({
                let late = late.clone();
                async move { late.store(true, Ordering::SeqCst) }
            })
            .await;
        assert!(matches!(ran, Err(OffloadError::Halted)));
        assert!(!late.load(Ordering::SeqCst));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_that_ends_gives_its_output() {
        let offload = Offload::default();
        assert_eq!(offload.run(async { 6 * 7 }).await.unwrap(), 42);
    }
}
