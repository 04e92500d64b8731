//! The records a module built on the core keeps in the store through the
//! app: the practice loop's book (projects, plan steps, budgets) and the
//! named leases that keep one worker per tenant across replicas. Each is a
//! handle of the store that reaches its own tables only.

use super::App;
use crate::store::{Leases, PracticeBook};

impl App {
    /// The practice loop's tables.
    pub fn practice_book(&self) -> PracticeBook {
        self.store.practice()
    }

    /// Long work clients poll, answer and stop (MCP tasks), run here and
    /// kept in the store.
    pub fn tasks(&self) -> &crate::tasks::Tasks {
        &self.tasks
    }

    /// The secret `name` every replica shares (made once, kept in the
    /// store): what seals state handed to clients.
    pub async fn shared_secret(&self, name: &str) -> Result<String, crate::store::StoreError> {
        self.store.shared_secret(name).await
    }

    /// Named leases, one holder at a time across replicas.
    pub fn leases(&self) -> Leases {
        self.store.leases()
    }
}
