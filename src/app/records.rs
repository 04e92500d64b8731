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

    /// Named leases, one holder at a time across replicas.
    pub fn leases(&self) -> Leases {
        self.store.leases()
    }
}
