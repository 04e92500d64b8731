//! Tasks: long work a client starts, then polls, answers and may stop,
//! the way the MCP Tasks extension (SEP-2663) describes, and independent of
//! it (the MCP front end maps these types to the wire).
//!
//! - Every task is a row of the store ([`crate::store::TaskBook`]): it
//!   belongs to its tenant (another tenant's id is unknown, not forbidden),
//!   every replica answers for it, and it outlives the client that started
//!   it, which may disconnect and poll later.
//! - The process that starts a task runs it ([`run`]) and beats every
//!   [`HEARTBEAT`]; a task whose holder stopped beating for [`STALE`] (a
//!   crash, a restart) ends `failed` with that reason the next time anyone
//!   looks. A holder shutting down ends its tasks the same way at once.
//!   Nothing ends silently, and nothing stays `working` forever.
//! - Work asks questions through [`TaskContext::ask`]; answers arrive by
//!   [`Tasks::update`] on any replica.
//! - Bounds: [`LIVE_PER_TENANT`] running tasks and [`KEPT_PER_TENANT`]
//!   stored ones per tenant; a finished task is kept for its time to live;
//!   messages and outcomes are capped in size.

mod run;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value, json};

use crate::store::{StoreError, TaskBook, TaskRow, now_ms};
pub use run::TaskContext;

/// How often the holder of a running task proves it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// Silence after which a running task's holder counts as dead.
pub const STALE: Duration = Duration::from_secs(15);
/// Tasks one tenant may have running at once.
pub const LIVE_PER_TENANT: i64 = 8;
/// Tasks kept per tenant; the oldest finished ones go first.
pub const KEPT_PER_TENANT: i64 = 200;
/// The largest outcome stored, serialized.
pub const MAX_OUTCOME_BYTES: usize = 1 << 20;
/// The longest progress message stored.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// JSON-RPC's internal-error code, for the failures of the work itself.
const INTERNAL: i64 = -32603;

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Running.
    Working,
    /// Waiting for answers.
    InputRequired,
    /// Ended with a result (which may report a tool error).
    Completed,
    /// Ended without a result: the error says why.
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl Status {
    fn parse(s: &str) -> Self {
        match s {
            "input_required" => Self::InputRequired,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => Self::Working,
        }
    }

    /// Completed, failed or cancelled.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// A task as a client sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskView {
    /// Its id.
    pub id: String,
    /// Where it stands.
    pub status: Status,
    /// The latest progress, for people.
    pub message: Option<String>,
    /// Created (ms since the epoch).
    pub created_ms: i64,
    /// Last changed.
    pub updated_ms: i64,
    /// Kept this long after creation.
    pub ttl_ms: i64,
    /// Suggested polling interval.
    pub poll_ms: i64,
    /// Outstanding questions by key (when `input_required`).
    pub input_requests: Map<String, Value>,
    /// The result (when `completed`).
    pub result: Option<Value>,
    /// The error, `{code, message, data?}` (when `failed`).
    pub error: Option<Value>,
}

impl TaskView {
    fn of(row: TaskRow) -> Self {
        let status = Status::parse(&row.status);
        let outcome = row.outcome.unwrap_or_default();
        Self {
            id: row.id,
            status,
            message: row.message,
            created_ms: row.created_ms,
            updated_ms: row.updated_ms,
            ttl_ms: row.ttl_ms,
            poll_ms: row.poll_ms,
            input_requests: match (status, row.input_requests) {
                (Status::InputRequired, Some(Value::Object(o))) => o,
                _ => Map::new(),
            },
            result: outcome.get("result").cloned(),
            error: outcome.get("error").cloned(),
        }
    }
}

/// How a piece of work ended without a result: a failure with a JSON-RPC
/// error's code, message and data.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// JSON-RPC error code.
    pub code: i64,
    /// What went wrong.
    pub message: String,
    /// More, if any.
    pub data: Option<Value>,
}

impl Failure {
    /// An internal failure with `message`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            code: INTERNAL,
            message: message.into(),
            data: None,
        }
    }

    fn to_json(&self) -> Value {
        let mut e = json!({"code": self.code, "message": self.message});
        if let Some(d) = &self.data {
            e["data"] = d.clone();
        }
        e
    }
}

/// What a piece of work returns: its result (a tool result, as JSON) or a
/// failure.
pub type Finish = Result<Value, Failure>;

/// The work of a task, given its context.
pub type Work = Box<dyn FnOnce(TaskContext) -> BoxFuture<'static, Finish> + Send>;

/// How to start a task.
#[derive(Debug, Clone)]
pub struct Start {
    /// What runs (a tool's name), for logs.
    pub tool: String,
    /// Keep the task this long after creation.
    pub ttl: Duration,
    /// Suggest polling this often.
    pub poll: Duration,
    /// The first progress message.
    pub message: Option<String>,
}

/// A task request that cannot be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// No such task for this tenant (never was, expired, or another's).
    #[error("unknown task: {0}")]
    Unknown(String),
    /// The tenant runs as many tasks as it may.
    #[error("{0} tasks are running already; wait for one to end or cancel one")]
    Busy(i64),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::fault::Classify for TaskError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Unknown(_) => "unknown_task",
            Self::Busy(_) => "busy",
            Self::Store(e) => e.kind(),
        }
    }
    fn fault(&self) -> crate::fault::Fault {
        match self {
            Self::Store(e) => e.fault(),
            _ => crate::fault::Fault::Caller,
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Busy(_) => Some(Duration::from_secs(10)),
            Self::Store(e) => e.retry_after(),
            Self::Unknown(_) => None,
        }
    }
}

/// The tasks of this process and, through the store, of every replica.
/// Cheap to clone.
#[derive(Clone)]
pub struct Tasks {
    book: TaskBook,
    /// This process, as the holder of the tasks it runs.
    holder: Arc<str>,
    /// The tasks running here: how to stop them and reach their questions.
    local: Arc<Mutex<HashMap<String, run::Local>>>,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Tasks {
    /// The tasks in `book`, run here as `holder`.
    pub fn new(book: TaskBook, holder: &str) -> Self {
        Self {
            book,
            holder: holder.into(),
            local: Arc::default(),
        }
    }

    /// Start `work` as a task of `tenant`: recorded (so `get` finds it)
    /// before this returns, then run here in the background.
    pub async fn start(
        &self,
        tenant: &str,
        start: Start,
        work: Work,
    ) -> Result<TaskView, TaskError> {
        let now = now_ms();
        self.book.forget_expired(now).await?;
        let (live, stored) = self.book.counts(tenant).await?;
        if live >= LIVE_PER_TENANT {
            return Err(TaskError::Busy(live));
        }
        if stored >= KEPT_PER_TENANT {
            self.book
                .forget_oldest_finished(tenant, stored - KEPT_PER_TENANT + 1)
                .await?;
        }
        let id = format!("task-{}", hex::encode(rand::random::<[u8; 16]>()));
        let message = start
            .message
            .as_deref()
            .map(|m| crate::text::truncate(m, MAX_MESSAGE_CHARS));
        self.book
            .insert(&crate::store::NewTaskRow {
                id: &id,
                tenant,
                tool: &start.tool,
                message: message.as_deref(),
                ttl_ms: ms(start.ttl).max(1),
                poll_ms: ms(start.poll).max(1),
                holder: &self.holder,
                now_ms: now,
            })
            .await?;
        run::spawn(self.clone(), id.clone(), work);
        self.get(tenant, &id).await
    }

    /// `tenant`'s task `id` as it stands. A task whose holder died ends
    /// here, as failed with that reason.
    pub async fn get(&self, tenant: &str, id: &str) -> Result<TaskView, TaskError> {
        let row = self.row(tenant, id).await?;
        let status = Status::parse(&row.status);
        let now = now_ms();
        if !status.is_terminal() && row.heartbeat_ms < now - ms(STALE) {
            let why = Failure::internal(
                "the server running this task stopped before it finished (a restart or a crash); \
                 nothing it had not saved survives: start it again",
            );
            self.book
                .fail_abandoned(id, now - ms(STALE), &json!({"error": why.to_json()}), now)
                .await?;
            return Ok(TaskView::of(self.row(tenant, id).await?));
        }
        Ok(TaskView::of(row))
    }

    async fn row(&self, tenant: &str, id: &str) -> Result<TaskRow, TaskError> {
        match self.book.get(tenant, id).await? {
            Some(row) if row.created_ms.saturating_add(row.ttl_ms) > now_ms() => Ok(row),
            _ => Err(TaskError::Unknown(id.to_owned())),
        }
    }

    /// Ask `tenant`'s task `id` to stop. Stopping a task that ended is no
    /// error (nothing changes).
    pub async fn cancel(&self, tenant: &str, id: &str) -> Result<(), TaskError> {
        let row = self.row(tenant, id).await?;
        if Status::parse(&row.status).is_terminal() {
            return Ok(());
        }
        self.book.request_cancel(tenant, id, now_ms()).await?;
        if let Some(local) = self.locked().get(id) {
            local.cancel();
        }
        Ok(())
    }

    /// Answer some of `tenant`'s task `id`'s questions, by key. Keys it is
    /// not waiting on are ignored; the rest reach the work wherever it runs.
    pub async fn update(
        &self,
        tenant: &str,
        id: &str,
        answers: Map<String, Value>,
    ) -> Result<(), TaskError> {
        let row = self.row(tenant, id).await?;
        let open = match row.input_requests {
            Some(Value::Object(o)) if Status::parse(&row.status) == Status::InputRequired => o,
            _ => return Ok(()),
        };
        let answers: Vec<(String, Value)> = answers
            .into_iter()
            .filter(|(k, _)| open.contains_key(k))
            .collect();
        if answers.is_empty() {
            return Ok(());
        }
        let here = self.locked().contains_key(id);
        if here {
            run::deliver(self, id, answers).await?;
        } else {
            // Another replica runs it: leave the answers for its next
            // heartbeat, and show them answered now.
            let mut rest = open;
            for (k, _) in &answers {
                rest.remove(k);
            }
            self.book.deposit_answers(id, &answers).await?;
            self.book
                .set_inputs(id, Some(&Value::Object(rest)), now_ms())
                .await?;
        }
        Ok(())
    }

    /// This process is shutting down: every task it runs ends as failed,
    /// saying so (a client polling another replica reads why).
    pub async fn shutdown(&self) -> Result<u64, TaskError> {
        let why = Failure::internal(
            "the server running this task shut down before it finished: start it again",
        );
        let n = self
            .book
            .fail_held_by(&self.holder, &json!({"error": why.to_json()}), now_ms())
            .await?;
        for (_, local) in self.locked().drain() {
            local.cancel();
        }
        Ok(n)
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, HashMap<String, run::Local>> {
        self.local.lock().unwrap_or_else(|e| e.into_inner())
    }
}
