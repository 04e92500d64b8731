//! The store: skill versions (`skills`), tenants (`tenants`), agents'
//! traces (`traces`), executions, the learnings log and practice state,
//! in SQLite (WAL; the embedded default) or PostgreSQL (the hosted
//! deployment, shared by replicas), through sqlx's `Any` driver.
//!
//! One function per query, one SQL text for both backends wherever the
//! dialects agree (`$N` placeholders, `ON CONFLICT`, `RETURNING`); where
//! they differ the store asks [`Backend`]. Rows are content-addressed: the
//! canonical manifest is stored as text, and every load recomputes its
//! hash. A row whose hash does not match is reported as
//! [`StoreError::Tampered`] and never handed out, so it can never be run.

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};

use crate::fault::{Classify, Fault};
use crate::skills::Skill;

mod clear;
mod events;
mod executions;
mod keys;
mod learnings;
mod leases;
mod practice;
mod quotas;
mod secrets;
mod signal;
mod skills;
mod tasks;
mod tenants;
mod traces;

pub use clear::Removed;
pub use events::{EventListener, Heard, MAX_PAYLOAD as MAX_EVENT_PAYLOAD};
pub use executions::{Execution, MAX_EXECUTIONS_PER_TENANT, ResetCounts};
pub use keys::{KeyInfo, KeyOwner, MAX_KEYS_PER_TENANT, MAX_LABEL_CHARS, NewKey, TenantInfo};
pub use learnings::{BrokenChain, Learning};
pub use leases::Leases;
pub use practice::{PracticeBook, ProjectRow, StepRow};
pub use quotas::CallGrant;
pub use signal::Signal;
pub use tasks::{NewTaskRow, TaskBook, TaskRow};
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
    /// The write would exceed one of the tenant's quotas.
    #[error(transparent)]
    Quota(#[from] crate::quota::QuotaExceeded),
}

impl Classify for StoreError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Database(_) | Self::Migrate(_) | Self::Corrupt { .. } => "store",
            Self::Tampered { .. } => "tampered",
            Self::NotFound(_) | Self::NoTenant(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::Quota(q) => q.kind(),
        }
    }
    fn fault(&self) -> Fault {
        match self {
            Self::Database(_) | Self::Migrate(_) | Self::Corrupt { .. } | Self::Tampered { .. } => {
                Fault::Host
            }
            _ => Fault::Caller,
        }
    }
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            // A database that is away for a moment (a restart, a failover).
            Self::Database(_) => Some(std::time::Duration::from_secs(1)),
            Self::Quota(q) => q.retry_after(),
            _ => None,
        }
    }
    fn detail(&self) -> serde_json::Map<String, serde_json::Value> {
        match self {
            Self::Quota(q) => q.detail(),
            _ => serde_json::Map::new(),
        }
    }
}

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One file, one process (or a few on one machine).
    Sqlite,
    /// A server shared by replicas.
    Postgres,
}

/// Where a store lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file (created, with its directory, when missing).
    File(std::path::PathBuf),
    /// A database URL: `postgres://...` or `sqlite://...`.
    Url(String),
}

/// A row, whichever the backend.
pub(crate) type Row = sqlx::any::AnyRow;
/// A transaction, whichever the backend.
pub(crate) type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// Skills of every tenant, in one database.
#[derive(Clone, Debug)]
pub struct SkillStore {
    pool: AnyPool,
    backend: Backend,
    /// The server's URL (PostgreSQL), for connections outside the pool
    /// (`LISTEN`).
    url: Option<std::sync::Arc<str>>,
    /// SQLite files: the sidecars of the change signals (see `signal.rs`).
    signals: Option<std::sync::Arc<signal::Sidecars>>,
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

/// Connections a PostgreSQL pool keeps at most (per replica).
const PG_CONNECTIONS: u32 = 16;
/// How long a caller waits for a pooled connection before failing cleanly
/// (the database is down, or every connection is busy).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl SkillStore {
    /// Connect to `url` and apply migrations: `postgres://...` (or
    /// `postgresql://`) for PostgreSQL, `sqlite://...` for SQLite.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let options: AnyConnectOptions = url.parse()?;
        match options.database_url.scheme() {
            "postgres" | "postgresql" => {
                // One connection first, so that an unreachable server says
                // why ("connection refused") rather than "pool timed out".
                let first = tokio::time::timeout(ACQUIRE_TIMEOUT, options.connect()).await;
                match first {
                    Ok(conn) => conn?.close().await?,
                    Err(_) => return Err(StoreError::Database(sqlx::Error::PoolTimedOut)),
                }
                let pool = AnyPoolOptions::new()
                    .max_connections(PG_CONNECTIONS)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await?;
                let mut store = Self::migrated(pool, Backend::Postgres).await?;
                store.url = Some(url.into());
                Ok(store)
            }
            "sqlite" => {
                let file = url
                    .parse::<SqliteConnectOptions>()
                    .ok()
                    .map(|o| o.get_filename().to_path_buf())
                    .filter(|f| !f.as_os_str().is_empty() && f.as_os_str() != ":memory:")
                    .filter(|_| !url.contains("mode=memory"));
                let mut store = Self::sqlite(options, 8).await?;
                store.signals = file.map(|f| std::sync::Arc::new(signal::Sidecars::of(&f)));
                Ok(store)
            }
            other => Err(StoreError::Database(sqlx::Error::Configuration(
                format!("unsupported database {other:?}: use postgres://... or sqlite://...")
                    .into(),
            ))),
        }
    }

    /// Open the store at `location`.
    pub async fn open_at(location: &Location) -> Result<Self, StoreError> {
        match location {
            Location::File(path) => Self::open(path).await,
            Location::Url(url) => Self::connect(url).await,
        }
    }

    /// Open (creating if needed) the SQLite database at `path`, in WAL
    /// mode, and apply migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        let url = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .to_url_lossy();
        Self::connect(url.as_str()).await
    }

    /// A private in-memory SQLite database, for tests and benchmarks.
    pub async fn in_memory() -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        // One connection, never recycled: every new in-memory connection is
        // a new, empty database.
        Self::sqlite("sqlite://?mode=memory&cache=private".parse()?, 1).await
    }

    async fn sqlite(options: AnyConnectOptions, connections: u32) -> Result<Self, StoreError> {
        let pool = AnyPoolOptions::new()
            .max_connections(connections)
            .min_connections(connections.min(1))
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // The `Any` driver opens SQLite from a URL, which cannot
                    // say these; every connection sets them itself. The busy
                    // timeout first: a connection the pool opens while another
                    // writes would otherwise fail on the journal-mode pragma
                    // at once ("database is locked") instead of waiting.
                    conn.execute(
                        "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                         PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Self::migrated(pool, Backend::Sqlite).await
    }

    async fn migrated(pool: AnyPool, backend: Backend) -> Result<Self, StoreError> {
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        Ok(Self {
            pool,
            backend,
            url: None,
            signals: None,
        })
    }

    /// The underlying pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Begin a write transaction that holds `lock` until it ends, so that
    /// writers of the same thing (the learnings chain, one skill name, one
    /// tenant's traces) take turns, across processes and replicas. SQLite
    /// has one writer at a time anyway (`BEGIN IMMEDIATE`: a deferred
    /// transaction that reads, then writes, fails at once when another
    /// writer got in between); PostgreSQL takes a transaction-scoped
    /// advisory lock on the name's hash.
    pub(crate) async fn write_tx(&self, lock: &str) -> Result<Tx<'_>, StoreError> {
        match self.backend {
            Backend::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind(lock)
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }
}

/// Now, as the store writes times of day (RFC 3339, milliseconds, UTC).
pub(crate) fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
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

/// SQLite's "database is locked" / "database table is locked";
/// PostgreSQL's serialization failure and deadlock.
fn is_busy(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d)
        if d.code().is_some_and(|c| matches!(c.as_ref(), "5" | "6" | "261" | "517" | "40001" | "40P01"))
            || d.message().contains("database is locked"))
}
