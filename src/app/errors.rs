//! What can go wrong in the application's operations: one enum per
//! operation, each variant documented; user faults kept apart from host
//! faults.

use std::time::Duration;

use serde_json::{Map, Value};

use super::Busy;
use crate::fault::{Classify, Fault, Internal};
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
    /// The sandbox's loader failed.
    #[error(transparent)]
    Internal(Internal),
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
    /// The verifier's worker failed (a host fault).
    #[error(transparent)]
    Internal(Internal),
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
    /// The ranking worker failed (a host fault).
    #[error(transparent)]
    Worker(Internal),
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

/// Classify an error by its cause where it has one: `$own` gives the kind
/// of the variants without one (the caller's), `$cause` the variants that
/// wrap another error.
macro_rules! classify_by_cause {
    ($ty:ty) => {
        impl Classify for $ty {
            fn kind(&self) -> &'static str {
                self.cause().map_or_else(|| self.own_kind(), |c| c.kind())
            }
            fn fault(&self) -> Fault {
                self.cause().map_or(Fault::Caller, |c| c.fault())
            }
            fn retry_after(&self) -> Option<Duration> {
                self.cause().and_then(|c| c.retry_after())
            }
            fn detail(&self) -> Map<String, Value> {
                self.cause()
                    .map_or_else(|| self.own_detail(), |c| c.detail())
            }
        }
    };
}

classify_by_cause!(RunError);

impl RunError {
    fn cause(&self) -> Option<&dyn Classify> {
        match self {
            Self::NotFound(_) | Self::NotPublished { .. } => None,
            Self::Store(e) => Some(e),
            Self::Call(e) => Some(e),
            Self::Dependency(e) => Some(e),
            Self::Quota(e) => Some(e),
        }
    }
    fn own_kind(&self) -> &'static str {
        match self {
            Self::NotPublished { .. } => "not_published",
            _ => "not_found",
        }
    }
    fn own_detail(&self) -> Map<String, Value> {
        Map::new()
    }
}

classify_by_cause!(AddError);

impl AddError {
    fn cause(&self) -> Option<&dyn Classify> {
        match self {
            Self::Rejected(_) => None,
            Self::Manifest(e) => Some(e),
            Self::Store(e) => Some(e),
            Self::Busy(e) => Some(e),
            Self::Dependency(e) => Some(e),
            Self::Internal(e) => Some(e),
        }
    }
    fn own_kind(&self) -> &'static str {
        "verification_failed"
    }
    fn own_detail(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if let Self::Rejected(v) = self {
            m.insert("problems".into(), serde_json::json!(v.problems));
            m.insert("findings".into(), serde_json::json!(v.findings));
        }
        m
    }
}

classify_by_cause!(CrystallizeError);

impl CrystallizeError {
    fn cause(&self) -> Option<&dyn Classify> {
        Some(match self {
            Self::Refused(e) => e,
            Self::Add(e) => e,
        })
    }
    fn own_kind(&self) -> &'static str {
        "not_crystallized"
    }
    fn own_detail(&self) -> Map<String, Value> {
        Map::new()
    }
}

impl Classify for OpenError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Store(e) => e.kind(),
            Self::Sandbox(e) => e.kind(),
            Self::Internal(e) => e.kind(),
        }
    }
    fn fault(&self) -> Fault {
        Fault::Host
    }
}

impl Classify for SearchError {
    fn kind(&self) -> &'static str {
        match self {
            Self::QueryTooLong { .. } => "bad_request",
            Self::Store(e) => e.kind(),
            Self::Worker(e) => e.kind(),
        }
    }
    fn fault(&self) -> Fault {
        match self {
            Self::QueryTooLong { .. } => Fault::Caller,
            Self::Store(e) => e.fault(),
            Self::Worker(e) => e.fault(),
        }
    }
}
