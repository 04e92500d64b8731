//! Running a task here: the work, its heartbeat, its questions, its end.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, oneshot, watch};

use super::{Failure, HEARTBEAT, MAX_MESSAGE_CHARS, MAX_OUTCOME_BYTES, Tasks, Work};
use crate::store::{StoreError, now_ms};

/// A task running in this process, as [`Tasks`] reaches it.
pub(super) struct Local {
    cancel: watch::Sender<bool>,
    /// Questions waiting for an answer, by key.
    waiting: HashMap<String, oneshot::Sender<Value>>,
    /// The same questions as the store shows them.
    asked: Map<String, Value>,
    /// One write of the questions at a time, so the store ends with the
    /// latest set.
    writes: Arc<tokio::sync::Mutex<()>>,
}

impl Local {
    pub(super) fn cancel(&self) {
        self.cancel.send_replace(true);
    }
}

/// The latest progress message, for the runner to write.
#[derive(Default)]
struct News {
    latest: Mutex<Option<String>>,
    ready: Notify,
}

/// What running work can do with its task. Cheap to clone.
#[derive(Clone)]
pub struct TaskContext {
    tasks: Tasks,
    id: Arc<str>,
    cancel: watch::Receiver<bool>,
    news: Arc<News>,
    writes: Arc<tokio::sync::Mutex<()>>,
}

impl TaskContext {
    /// The task's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Tell pollers what is happening now (the store keeps the latest).
    pub fn progress(&self, message: impl Into<String>) {
        let message = crate::text::truncate(&message.into(), MAX_MESSAGE_CHARS);
        *self.news.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
        self.news.ready.notify_one();
    }

    /// Ask the client `request` under `key` (unique within the task) and
    /// wait up to `wait` for the answer; `None` when the task was cancelled
    /// first or nobody answered in time (the question is withdrawn).
    /// While any question waits, the task is `input_required`.
    pub async fn ask(&self, key: &str, request: Value, wait: Duration) -> Option<Value> {
        let (tx, rx) = oneshot::channel();
        {
            let _write = self.writes.lock().await;
            let asked = {
                let mut local = self.tasks.locked();
                let entry = local.get_mut(&*self.id)?;
                entry.waiting.insert(key.to_owned(), tx);
                entry.asked.insert(key.to_owned(), request);
                Value::Object(entry.asked.clone())
            };
            if let Err(e) = self
                .tasks
                .book
                .set_inputs(&self.id, Some(&asked), now_ms())
                .await
            {
                tracing::warn!(task = %self.id, "recording a task's question failed: {e}");
            }
        }
        let mut cancel = self.cancel.clone();
        tokio::select! {
            answer = rx => answer.ok(),
            () = stopped(&mut cancel) => None,
            () = tokio::time::sleep(wait) => {
                if let Err(e) = settle(&self.tasks, &self.id, vec![(key.to_owned(), None)]).await {
                    tracing::warn!(task = %self.id, "withdrawing a task's question failed: {e}");
                }
                None
            }
        }
    }

    /// Resolves once the task was asked to stop.
    pub async fn cancelled(&self) {
        stopped(&mut self.cancel.clone()).await;
    }
}

/// Resolves once `cancel` turns true (or its sender is gone). The watch's
/// guard is dropped here, so callers' futures stay `Send`.
async fn stopped(cancel: &mut watch::Receiver<bool>) {
    let _ = cancel.wait_for(|c| *c).await;
}

/// Hand `answers` to the questions of `id`, which runs here.
pub(super) async fn deliver(
    tasks: &Tasks,
    id: &str,
    answers: Vec<(String, Value)>,
) -> Result<(), StoreError> {
    settle(
        tasks,
        id,
        answers.into_iter().map(|(k, v)| (k, Some(v))).collect(),
    )
    .await
}

/// Close questions of `id`: answered (`Some`) or withdrawn (`None`).
async fn settle(
    tasks: &Tasks,
    id: &str,
    answers: Vec<(String, Option<Value>)>,
) -> Result<(), StoreError> {
    let Some(writes) = tasks.locked().get(id).map(|l| l.writes.clone()) else {
        return Ok(());
    };
    let _write = writes.lock().await;
    let asked = {
        let mut local = tasks.locked();
        let Some(entry) = local.get_mut(id) else {
            return Ok(());
        };
        for (key, answer) in answers {
            entry.asked.remove(&key);
            if let (Some(tx), Some(answer)) = (entry.waiting.remove(&key), answer) {
                // The work may have stopped waiting (cancelled): fine.
                let _ = tx.send(answer);
            }
        }
        Value::Object(entry.asked.clone())
    };
    tasks.book.set_inputs(id, Some(&asked), now_ms()).await
}

/// Run `work` as task `id` (already stored) in the background.
pub(super) fn spawn(tasks: Tasks, id: String, work: Work) {
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let writes = Arc::new(tokio::sync::Mutex::new(()));
    tasks.locked().insert(
        id.clone(),
        Local {
            cancel: cancel_tx,
            waiting: HashMap::new(),
            asked: Map::new(),
            writes: writes.clone(),
        },
    );
    let news = Arc::new(News::default());
    let ctx = TaskContext {
        tasks: tasks.clone(),
        id: id.as_str().into(),
        cancel: cancel_rx.clone(),
        news: news.clone(),
        writes,
    };
    tokio::spawn(async move {
        let end = drive(&tasks, &id, work(ctx), cancel_rx, &news).await;
        let (status, outcome) = match end {
            None => ("cancelled", json!({})),
            Some(Ok(result)) if result.to_string().len() > MAX_OUTCOME_BYTES => (
                "failed",
                json!({"error": Failure::internal(format!(
                    "the result is larger than the {MAX_OUTCOME_BYTES} bytes a task keeps"
                )).to_json()}),
            ),
            Some(Ok(result)) => ("completed", json!({"result": result})),
            Some(Err(failure)) => ("failed", json!({"error": failure.to_json()})),
        };
        // The end must be written: a task left `working` would only fail
        // later, as abandoned, with the wrong reason.
        for attempt in 0..5u32 {
            match tasks.book.finish(&id, status, &outcome, now_ms()).await {
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(task = %id, attempt, "recording a task's end failed: {e}");
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
            }
        }
        tasks.locked().remove(&id);
    });
}

/// Run the work until it ends or is cancelled (`None`), beating and
/// writing progress meanwhile.
///
/// The work runs as a task of its own: this loop's store writes
/// (progress, heartbeats) must never stop it from being polled, since the
/// work may hold the database's write lock (SQLite has one writer) and
/// would then wait on the loop while the loop waits on it.
async fn drive(
    tasks: &Tasks,
    id: &str,
    work: futures_util::future::BoxFuture<'static, super::Finish>,
    mut cancel: watch::Receiver<bool>,
    news: &News,
) -> Option<super::Finish> {
    let mut work = tokio::spawn(AssertUnwindSafe(work).catch_unwind());
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            out = &mut work => {
                return Some(match out {
                    Ok(Ok(finish)) => finish,
                    // A panic (caught) or an aborted runtime task.
                    _ => Err(Failure::internal(
                        "the work stopped on a bug in AutoLearn (a panic); the server logs say where",
                    )),
                });
            }
            () = stopped(&mut cancel) => {
                // Stops it at its current await; what it was writing in a
                // transaction is rolled back.
                work.abort();
                return None;
            }
            () = news.ready.notified() => {
                let latest = news.latest.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(message) = latest
                    && let Err(e) = tasks.book.progress(id, &message, now_ms()).await
                {
                    tracing::warn!(task = %id, "recording a task's progress failed: {e}");
                }
            }
            _ = beat.tick() => match tasks.book.beat(id, &tasks.holder, now_ms()).await {
                Ok((stop, answers)) => {
                    if stop && let Some(local) = tasks.locked().get(id) {
                        local.cancel();
                    }
                    if !answers.is_empty()
                        && let Err(e) = deliver(tasks, id, answers).await
                    {
                        tracing::warn!(task = %id, "delivering a task's answers failed: {e}");
                    }
                }
                Err(e) => tracing::warn!(task = %id, "a task's heartbeat failed: {e}"),
            },
        }
    }
}
