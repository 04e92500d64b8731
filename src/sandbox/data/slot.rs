//! The data runtime as the [`Sandbox`](super::super::Sandbox) holds it:
//! loaded once, in the background, the first time it is wanted (or at
//! start when it is fetched), so a server starts at once and a first start
//! after a fetch, which compiles the snapshot, blocks no one else.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;

use super::{DataConfig, DataRuntime, fetch};
use crate::sandbox::CallError;

/// The data runtime, loading or loaded.
pub struct DataSlot {
    config: DataConfig,
    cell: Arc<OnceCell<Result<Arc<DataRuntime>, String>>>,
}

impl DataSlot {
    /// A slot for the runtime `config` names; nothing is loaded yet.
    pub fn new(config: DataConfig) -> Self {
        Self {
            config,
            cell: Arc::new(OnceCell::new()),
        }
    }

    /// Whether the runtime is fetched (it may still be loading).
    pub fn fetched(&self) -> bool {
        fetch::installed(&self.config.dir).is_some()
    }

    /// Start loading in the background if it is fetched and a tokio runtime
    /// is there to load it on; returns at once.
    pub fn warm(&self) {
        if self.fetched() && tokio::runtime::Handle::try_current().is_ok() {
            drop(self.spawn_load());
        }
    }

    /// The loaded runtime, waiting at most `wait` for a load under way.
    pub async fn get(&self, wait: Duration) -> Result<Arc<DataRuntime>, CallError> {
        if let Some(loaded) = self.cell.get() {
            return loaded.clone().map_err(CallError::Host);
        }
        if !self.fetched() {
            return Err(CallError::Host(format!(
                "the data runtime (numpy, pandas) is not installed on this server: run `autolearn runtime fetch data` (it looked in {})",
                self.config.dir.display()
            )));
        }
        // The load runs in a task of its own: a caller that gives up (its
        // deadline) does not cancel it for everyone else.
        match tokio::time::timeout(wait, self.spawn_load()).await {
            Ok(Ok(loaded)) => loaded.map_err(CallError::Host),
            Ok(Err(e)) => Err(CallError::Host(format!("loading the data runtime: {e}"))),
            Err(_) => Err(CallError::Host(
                "the data runtime is still being prepared (the first start after `autolearn runtime fetch data` compiles it, a few minutes); try again shortly".into(),
            )),
        }
    }

    fn spawn_load(&self) -> tokio::task::JoinHandle<Result<Arc<DataRuntime>, String>> {
        let (cell, config) = (self.cell.clone(), self.config.clone());
        tokio::spawn(async move {
            cell.get_or_init(async || {
                DataRuntime::new(&config).await.map(Arc::new).map_err(|e| {
                    tracing::error!("the data runtime failed to load: {e}");
                    format!("the data runtime failed to load: {e}")
                })
            })
            .await
            .clone()
        })
    }
}
