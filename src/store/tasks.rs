//! Tasks as stored (the MCP Tasks extension; `src/tasks` runs them): one
//! row per task, which every replica reads, and the answers that reached a
//! replica other than the one running the task. Only the holder writes a
//! task's progress and its end; any replica may ask it to stop, answer it,
//! or declare it dead once its holder stopped beating.

use serde_json::Value;
use sqlx::Row;

use super::{SkillStore, StoreError, retry_busy};

/// The statuses in which a task still runs.
const LIVE: &str = "('working', 'input_required')";

/// A task as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    /// Its id.
    pub id: String,
    /// The tenant it belongs to.
    pub tenant: String,
    /// What runs (a tool's name).
    pub tool: String,
    /// `working`, `input_required`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// The latest progress, for people.
    pub message: Option<String>,
    /// When it was created (ms since the epoch).
    pub created_ms: i64,
    /// When it last changed.
    pub updated_ms: i64,
    /// How long after creation it is kept.
    pub ttl_ms: i64,
    /// How often a client should poll.
    pub poll_ms: i64,
    /// The process that runs it.
    pub holder: String,
    /// The holder's last sign of life.
    pub heartbeat_ms: i64,
    /// Someone asked it to stop.
    pub cancel_requested: bool,
    /// Outstanding questions, by key (opaque to the store).
    pub input_requests: Option<Value>,
    /// The end: `{"result": ...}` or `{"error": ...}`.
    pub outcome: Option<Value>,
}

/// A task about to start.
#[derive(Debug, Clone)]
pub struct NewTaskRow<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its tenant.
    pub tenant: &'a str,
    /// What runs.
    pub tool: &'a str,
    /// The first progress message.
    pub message: Option<&'a str>,
    /// Kept this long after creation.
    pub ttl_ms: i64,
    /// Suggested polling interval.
    pub poll_ms: i64,
    /// The process that runs it.
    pub holder: &'a str,
    /// Now.
    pub now_ms: i64,
}

fn json(text: Option<String>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

fn task_row(r: &super::Row) -> Result<TaskRow, StoreError> {
    Ok(TaskRow {
        id: r.try_get("id")?,
        tenant: r.try_get("tenant")?,
        tool: r.try_get("tool")?,
        status: r.try_get("status")?,
        message: r.try_get("message")?,
        created_ms: r.try_get("created_ms")?,
        updated_ms: r.try_get("updated_ms")?,
        ttl_ms: r.try_get("ttl_ms")?,
        poll_ms: r.try_get("poll_ms")?,
        holder: r.try_get("holder")?,
        heartbeat_ms: r.try_get("heartbeat_ms")?,
        cancel_requested: r.try_get::<i64, _>("cancel_requested")? != 0,
        input_requests: json(r.try_get("input_requests")?),
        outcome: json(r.try_get("outcome")?),
    })
}

/// The tasks tables: a handle of their own ([`SkillStore::task_book`]).
#[derive(Clone)]
pub struct TaskBook(SkillStore);

impl SkillStore {
    /// The tasks tables.
    pub fn task_book(&self) -> TaskBook {
        TaskBook(self.clone())
    }
}

impl TaskBook {
    /// Record a new task as `working`, held by its holder.
    pub async fn insert(&self, t: &NewTaskRow<'_>) -> Result<(), StoreError> {
        retry_busy(|| async {
            sqlx::query(
                "INSERT INTO tasks (id, tenant, tool, status, message, created_ms, updated_ms, ttl_ms, poll_ms, holder, heartbeat_ms) \
                 VALUES ($1, $2, $3, 'working', $4, $5, $5, $6, $7, $8, $5)",
            )
            .bind(t.id)
            .bind(t.tenant)
            .bind(t.tool)
            .bind(t.message)
            .bind(t.now_ms)
            .bind(t.ttl_ms)
            .bind(t.poll_ms)
            .bind(t.holder)
            .execute(self.0.pool())
            .await?;
            Ok(())
        })
        .await
    }

    /// `tenant`'s task `id`, if it has one.
    pub async fn get(&self, tenant: &str, id: &str) -> Result<Option<TaskRow>, StoreError> {
        sqlx::query("SELECT * FROM tasks WHERE id = $1 AND tenant = $2")
            .bind(id)
            .bind(tenant)
            .fetch_optional(self.0.pool())
            .await?
            .as_ref()
            .map(task_row)
            .transpose()
    }

    /// How many of `tenant`'s tasks still run, and how many are stored.
    pub async fn counts(&self, tenant: &str) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query(&format!(
            "SELECT COALESCE(SUM(CASE WHEN status IN {LIVE} THEN 1 ELSE 0 END), 0) AS live, COUNT(*) AS stored \
             FROM tasks WHERE tenant = $1"
        ))
        .bind(tenant)
        .fetch_one(self.0.pool())
        .await?;
        Ok((row.try_get("live")?, row.try_get("stored")?))
    }

    /// Forget `tenant`'s `n` oldest finished tasks.
    pub async fn forget_oldest_finished(&self, tenant: &str, n: i64) -> Result<u64, StoreError> {
        retry_busy(|| async {
            let done = sqlx::query(&format!(
                "DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE tenant = $1 AND status NOT IN {LIVE} \
                 ORDER BY created_ms LIMIT $2)"
            ))
            .bind(tenant)
            .bind(n)
            .execute(self.0.pool())
            .await?;
            Ok(done.rows_affected())
        })
        .await
    }

    /// Forget every finished task whose time to live has passed, and the
    /// answers of tasks that are gone.
    pub async fn forget_expired(&self, now_ms: i64) -> Result<u64, StoreError> {
        retry_busy(|| async {
            let done = sqlx::query(&format!(
                "DELETE FROM tasks WHERE status NOT IN {LIVE} AND created_ms + ttl_ms <= $1"
            ))
            .bind(now_ms)
            .execute(self.0.pool())
            .await?;
            sqlx::query("DELETE FROM task_inputs WHERE task_id NOT IN (SELECT id FROM tasks)")
                .execute(self.0.pool())
                .await?;
            Ok(done.rows_affected())
        })
        .await
    }

    /// The holder's news: the latest progress message.
    pub async fn progress(&self, id: &str, message: &str, now_ms: i64) -> Result<(), StoreError> {
        retry_busy(|| async {
            sqlx::query(&format!(
                "UPDATE tasks SET message = $2, updated_ms = $3 WHERE id = $1 AND status IN {LIVE}"
            ))
            .bind(id)
            .bind(message)
            .bind(now_ms)
            .execute(self.0.pool())
            .await?;
            Ok(())
        })
        .await
    }

    /// The outstanding questions (`None` or empty: none, so `working`).
    pub async fn set_inputs(
        &self,
        id: &str,
        requests: Option<&Value>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let open = requests.is_some_and(|r| r.as_object().is_some_and(|o| !o.is_empty()));
        let text = open.then(|| requests.map(Value::to_string)).flatten();
        retry_busy(|| async {
            sqlx::query(&format!(
                "UPDATE tasks SET input_requests = $2, status = $3, updated_ms = $4 WHERE id = $1 AND status IN {LIVE}"
            ))
            .bind(id)
            .bind(text.as_deref())
            .bind(if open { "input_required" } else { "working" })
            .bind(now_ms)
            .execute(self.0.pool())
            .await?;
            Ok(())
        })
        .await
    }

    /// The end: `status` (completed, failed or cancelled) with its
    /// outcome. A task that already ended keeps its end; `false` then.
    pub async fn finish(
        &self,
        id: &str,
        status: &str,
        outcome: &Value,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        Ok(self.end(Ending::Task(id), status, outcome, now_ms).await? == 1)
    }

    /// Ask `tenant`'s task `id` to stop (a no-op once it ended).
    pub async fn request_cancel(
        &self,
        tenant: &str,
        id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        retry_busy(|| async {
            sqlx::query(&format!(
                "UPDATE tasks SET cancel_requested = 1, updated_ms = $3 WHERE id = $1 AND tenant = $2 AND status IN {LIVE}"
            ))
            .bind(id)
            .bind(tenant)
            .bind(now_ms)
            .execute(self.0.pool())
            .await?;
            Ok(())
        })
        .await
    }

    /// Leave answers for the holder of `id` (another replica).
    pub async fn deposit_answers(
        &self,
        id: &str,
        answers: &[(String, Value)],
    ) -> Result<(), StoreError> {
        retry_busy(|| async {
            for (key, response) in answers {
                sqlx::query(
                    "INSERT INTO task_inputs (task_id, key, response) VALUES ($1, $2, $3) ON CONFLICT (task_id, key) DO NOTHING",
                )
                .bind(id)
                .bind(key)
                .bind(response.to_string())
                .execute(self.0.pool())
                .await?;
            }
            Ok(())
        })
        .await
    }

    /// The holder's heartbeat: prove it is alive, and learn whether the
    /// task was asked to stop and which answers were left for it.
    pub async fn beat(
        &self,
        id: &str,
        holder: &str,
        now_ms: i64,
    ) -> Result<(bool, Vec<(String, Value)>), StoreError> {
        retry_busy(|| async {
            let row = sqlx::query(
                "UPDATE tasks SET heartbeat_ms = $3 WHERE id = $1 AND holder = $2 RETURNING cancel_requested",
            )
            .bind(id)
            .bind(holder)
            .bind(now_ms)
            .fetch_optional(self.0.pool())
            .await?;
            let cancel = match row {
                Some(r) => r.try_get::<i64, _>("cancel_requested")? != 0,
                None => true,
            };
            let answers = sqlx::query("DELETE FROM task_inputs WHERE task_id = $1 RETURNING key, response")
                .bind(id)
                .fetch_all(self.0.pool())
                .await?
                .iter()
                .filter_map(|r| {
                    let key: String = r.try_get("key").ok()?;
                    let text: String = r.try_get("response").ok()?;
                    Some((key, serde_json::from_str(&text).ok()?))
                })
                .collect();
            Ok((cancel, answers))
        })
        .await
    }

    /// End `id` as failed with `outcome` if it still runs and its holder
    /// has not beaten since `stale_before_ms` (the holder died).
    pub async fn fail_abandoned(
        &self,
        id: &str,
        stale_before_ms: i64,
        outcome: &Value,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let which = Ending::Abandoned(id, stale_before_ms);
        Ok(self.end(which, "failed", outcome, now_ms).await? == 1)
    }

    /// End every task `holder` still runs as failed with `outcome` (the
    /// holder is shutting down).
    pub async fn fail_held_by(
        &self,
        holder: &str,
        outcome: &Value,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        self.end(Ending::HeldBy(holder), "failed", outcome, now_ms)
            .await
    }

    /// Give the running tasks `which` names their end; how many it ended.
    async fn end(
        &self,
        which: Ending<'_>,
        status: &str,
        outcome: &Value,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let text = outcome.to_string();
        let filter = match which {
            Ending::Task(_) => "id = $4",
            Ending::Abandoned(..) => "id = $4 AND heartbeat_ms < $5",
            Ending::HeldBy(_) => "holder = $4",
        };
        let sql = format!(
            "UPDATE tasks SET status = $1, outcome = $2, input_requests = NULL, updated_ms = $3 \
             WHERE {filter} AND status IN {LIVE}"
        );
        retry_busy(|| async {
            let query = sqlx::query(&sql).bind(status).bind(&text).bind(now_ms);
            let query = match which {
                Ending::Task(id) => query.bind(id),
                Ending::Abandoned(id, before) => query.bind(id).bind(before),
                Ending::HeldBy(holder) => query.bind(holder),
            };
            Ok(query.execute(self.0.pool()).await?.rows_affected())
        })
        .await
    }
}

/// Which running tasks an end is for.
#[derive(Clone, Copy)]
enum Ending<'a> {
    /// This one.
    Task(&'a str),
    /// This one, if its holder has not beaten since then (ms).
    Abandoned(&'a str, i64),
    /// Every one this holder runs.
    HeldBy(&'a str),
}
