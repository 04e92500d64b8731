//! What a load balancer and the operator ask of the core: whether it can
//! serve (the database answers, the sandbox is loaded), its metrics, and
//! the periodic housekeeping that keeps the database bounded.

use std::time::Duration;

use super::App;
use crate::sandbox::ArtifactInfo;
use crate::store::StoreError;

/// Whether the app can serve now.
#[derive(Debug, Clone)]
pub struct Readiness {
    /// The database answered in time, or why not.
    pub database: Result<(), String>,
    /// The sandbox artifact loaded.
    pub artifact: ArtifactInfo,
}

/// What housekeeping removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Traces past the age and count limits.
    pub traces: u64,
    /// Quota counters of windows long past.
    pub quota_rows: u64,
}

impl App {
    /// Ask the database (waiting at most `timeout`) and the sandbox.
    pub async fn readiness(&self, timeout: Duration) -> Readiness {
        let database = match tokio::time::timeout(timeout, self.store.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {timeout:?}")),
        };
        Readiness {
            database,
            artifact: self.sandbox.artifact().clone(),
        }
    }

    /// `/metrics`: the text exposition, with the database pool as of now.
    pub fn render_metrics(&self) -> String {
        let pool = self.store.pool();
        self.metrics.render(crate::metrics::PoolState {
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        })
    }

    /// Delete traces past the age and count limits, and quota counters of
    /// windows long past. A server runs it at start and every ten minutes.
    pub async fn prune(&self) -> Result<Pruned, StoreError> {
        let l = &self.limits;
        Ok(Pruned {
            traces: self
                .store
                .prune_traces(l.trace_max_age, l.traces_kept)
                .await?,
            quota_rows: self.store.prune_quota_usage().await?,
        })
    }
}
