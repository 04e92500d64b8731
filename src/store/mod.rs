//! The store: skill versions (`skills`), tenants (`tenants`) and agents'
//! traces (`traces`) in SQLite (WAL) through sqlx.
//!
//! One function per query. Rows are content-addressed: the canonical
//! manifest is stored as text, and every load recomputes its hash. A row
//! whose hash does not match is reported as [`StoreError::Tampered`] and
//! never handed out, so it can never be run.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::skills::Skill;

mod executions;
mod learnings;
mod practice;
mod skills;
mod tenants;
mod traces;

pub use executions::{Execution, MAX_EXECUTIONS_PER_TENANT, ResetCounts};
pub use learnings::{BrokenChain, Learning};
pub use practice::{ProjectRow, StepRow};
pub use traces::{Recorded, StepCost, TraceCaps, now_ms};

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row does not hash to its id.
    #[error(
        "skill {name:?} (id {id}) failed its integrity check: the stored manifest hashes to {actual}; refusing to use it"
    )]
    Tampered {
        /// The row's name column.
        name: String,
        /// The row's id column.
        id: String,
        /// What the manifest hashes to.
        actual: String,
    },
    /// A stored row cannot be decoded.
    #[error("skill {name:?} has a corrupt row: {reason}")]
    Corrupt {
        /// The row's name column.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// No skill by that name.
    #[error("no skill named {0:?}")]
    NotFound(String),
    /// The row already exists, or changed meanwhile.
    #[error("{0}")]
    Conflict(String),
    /// No tenant by that name.
    #[error("no tenant named {0:?}")]
    NoTenant(String),
}

/// Skills of every tenant, in one SQLite database.
#[derive(Clone, Debug)]
pub struct SkillStore {
    pool: SqlitePool,
}

/// Outcome of [`SkillStore::insert`].
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    /// A new version was stored.
    New(Skill),
    /// The current version already had this content and status.
    Existing(Skill),
    /// Content stored before (an earlier version, or the current one under
    /// another status) is current again.
    Restored(Skill),
}

impl Inserted {
    /// The skill, new or not.
    pub fn skill(&self) -> &Skill {
        match self {
            Self::New(s) | Self::Existing(s) | Self::Restored(s) => s,
        }
    }
}

impl SkillStore {
    /// Open (creating if needed) the database at `path`, in WAL mode, and
    /// apply migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Self::from_pool(pool).await
    }

    /// A private in-memory database, for tests and benchmarks.
    pub async fn in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?;
        // One connection: every new in-memory connection is a new database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        Self::from_pool(pool).await
    }

    /// Use an existing pool (as `#[sqlx::test]` provides); migrates it.
    pub async fn from_pool(pool: SqlitePool) -> Result<Self, StoreError> {
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    /// The underlying pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// Retries of a write while the database is busy (another process).
const WRITE_RETRIES: u32 = 5;

/// Run a write, again while the database is busy (another process holds
/// the write lock past the busy timeout), with a growing pause.
pub(crate) async fn retry_busy<T, F, Fut>(mut write: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut attempt = 0;
    loop {
        match write().await {
            Err(StoreError::Database(e)) if is_busy(&e) && attempt < WRITE_RETRIES => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
            }
            other => return other,
        }
    }
}

/// SQLite's "database is locked" / "database table is locked".
fn is_busy(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d)
        if d.code().is_some_and(|c| matches!(c.as_ref(), "5" | "6" | "261" | "517"))
            || d.message().contains("database is locked"))
}
