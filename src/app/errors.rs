//! What can go wrong in the application's operations: one enum per
//! operation, each variant documented; user faults kept apart from host
//! faults.

use super::Busy;
use crate::learn::Verification;
use crate::sandbox::{CallError, SandboxError};
use crate::skills::{ManifestError, Status};
use crate::store::StoreError;

/// Crystallizing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrystallizeError {
    /// The trace is not worth a skill, and why.
    #[error(transparent)]
    Refused(#[from] crate::learn::crystallize::Refusal),
    /// The composed skill could not be added.
    #[error(transparent)]
    Add(#[from] AddError),
}

/// Opening the app failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The sandbox.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
}

/// Adding a skill failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AddError {
    /// The manifest is malformed.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Verification found problems; the skill was not stored.
    #[error("the skill failed verification:\n- {}", .0.problems.join("\n- "))]
    Rejected(Box<Verification>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The tenant's share of the sandbox stayed busy.
    #[error(transparent)]
    Busy(#[from] Busy),
    /// A pinned prerequisite cannot be loaded.
    #[error(transparent)]
    Dependency(#[from] super::DependencyError),
}

/// Searching failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// The query is over the tenant's `query_bytes`.
    #[error("the query is {size} bytes, over the {limit} byte limit")]
    QueryTooLong {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The ranking worker failed.
    #[error("search worker failed: {0}")]
    Worker(String),
}

impl From<super::CatalogError> for SearchError {
    fn from(e: super::CatalogError) -> Self {
        match e {
            super::CatalogError::Store(e) => Self::Store(e),
            super::CatalogError::Worker(e) => Self::Worker(e),
        }
    }
}

/// Running a skill failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// No such skill for this tenant.
    #[error("no skill named {0:?}")]
    NotFound(String),
    /// The newest version is not published.
    #[error("skill {name:?} is {status}, not published")]
    NotPublished {
        /// The skill.
        name: String,
        /// Its status.
        status: Status,
    },
    /// The store failed or the row is tampered.
    #[error(transparent)]
    Store(StoreError),
    /// The call failed in the sandbox (or its input was rejected).
    #[error(transparent)]
    Call(#[from] CallError),
    /// A pinned prerequisite cannot be loaded.
    #[error(transparent)]
    Dependency(#[from] super::DependencyError),
    /// The tenant used one of its quotas.
    #[error(transparent)]
    Quota(#[from] crate::quota::QuotaExceeded),
}

impl RunError {
    /// A stable name for the kind of failure (execution log, metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::NotPublished { .. } => "not_published",
            Self::Store(_) => "store",
            Self::Dependency(_) => "dependency",
            Self::Call(c) => c.kind().as_str(),
            Self::Quota(_) => "quota_exceeded",
        }
    }
}
