//! Tasks (what MCP's Tasks extension runs): they belong to their tenant,
//! answer from any replica, end with a reason when their server dies or
//! shuts down, stop when cancelled, and are bounded per tenant; on both
//! backends. Two `Tasks` on two pools of one database are two replicas.

use std::time::Duration;

use autolearn::store::{NewTaskRow, SkillStore, now_ms};
use autolearn::tasks::{Failure, LIVE_PER_TENANT, Start, Status, TaskError, TaskView, Tasks, Work};
use futures_util::FutureExt;
use serde_json::{Map, Value, json};

use crate::db::TestDb;

crate::on_both_backends!(
    a_task_belongs_to_its_tenant,
    a_task_whose_server_died_fails_with_the_reason,
    shutting_down_ends_running_tasks_with_the_reason,
    cancel_stops_the_work_and_is_idempotent,
    questions_are_answered_through_any_replica,
    a_tenant_runs_a_bounded_number_of_tasks,
    a_panic_in_the_work_is_a_failed_task,
    progress_is_written_while_the_work_holds_the_write_lock,
);

fn start() -> Start {
    Start {
        tool: "test".into(),
        ttl: Duration::from_secs(3600),
        poll: Duration::from_secs(1),
        message: None,
    }
}

fn work<F>(f: F) -> Work
where
    F: FnOnce(
            autolearn::tasks::TaskContext,
        ) -> futures_util::future::BoxFuture<'static, Result<Value, Failure>>
        + Send
        + 'static,
{
    Box::new(f)
}

fn forever() -> Work {
    work(|_| std::future::pending::<Result<Value, Failure>>().boxed())
}

async fn replica(db: &TestDb, name: &str) -> (SkillStore, Tasks) {
    let store = db.open().await;
    let tasks = Tasks::new(store.task_book(), name);
    (store, tasks)
}

/// Poll until `done` holds (20 s at most).
async fn until(
    tasks: &Tasks,
    tenant: &str,
    id: &str,
    done: impl Fn(&TaskView) -> bool,
) -> TaskView {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let view = tasks.get(tenant, id).await.unwrap();
        if done(&view) {
            return view;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "task stuck at {view:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_task_belongs_to_its_tenant(db: TestDb) {
    let (_s, tasks) = replica(&db, "one").await;
    let view = tasks
        .start(
            "alice",
            start(),
            work(|_| async { Ok::<_, Failure>(json!({"content": []})) }.boxed()),
        )
        .await
        .unwrap();
    for probe in [
        tasks.get("bob", &view.id).await.map(|_| ()),
        tasks.cancel("bob", &view.id).await,
        tasks.update("bob", &view.id, Map::new()).await,
    ] {
        assert!(matches!(probe, Err(TaskError::Unknown(_))), "{probe:?}");
    }
    let done = until(&tasks, "alice", &view.id, |v| v.status.is_terminal()).await;
    assert_eq!(done.status, Status::Completed);
    assert_eq!(done.result, Some(json!({"content": []})));
    assert!(matches!(
        tasks.get("alice", "task-nope").await,
        Err(TaskError::Unknown(_))
    ));
}

async fn a_task_whose_server_died_fails_with_the_reason(db: TestDb) {
    // What a crash leaves behind: a running task whose holder stopped
    // beating a minute ago.
    let (store, tasks) = replica(&db, "survivor").await;
    let then = now_ms() - 60_000;
    store
        .task_book()
        .insert(&NewTaskRow {
            id: "task-orphan",
            tenant: "alice",
            tool: "generate_skill",
            message: Some("candidate 3 sampled"),
            ttl_ms: 3_600_000,
            poll_ms: 1000,
            holder: "crashed",
            now_ms: then,
        })
        .await
        .unwrap();
    let view = tasks.get("alice", "task-orphan").await.unwrap();
    assert_eq!(view.status, Status::Failed, "{view:?}");
    let error = view.error.unwrap();
    assert_eq!(error["code"], -32603);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("stopped before it finished"),
        "{error}"
    );
    assert_eq!(view.result, None);
    // A live task of a live holder is left alone.
    let live = tasks.start("alice", start(), forever()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        tasks.get("alice", &live.id).await.unwrap().status,
        Status::Working
    );
}

async fn shutting_down_ends_running_tasks_with_the_reason(db: TestDb) {
    let (_s, going) = replica(&db, "going").await;
    let (_t, staying) = replica(&db, "staying").await;
    let view = going.start("alice", start(), forever()).await.unwrap();
    assert_eq!(going.shutdown().await.unwrap(), 1);
    // Another replica reads the reason at once.
    let seen = staying.get("alice", &view.id).await.unwrap();
    assert_eq!(seen.status, Status::Failed);
    assert!(
        seen.error.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("shut down"),
    );
}

async fn cancel_stops_the_work_and_is_idempotent(db: TestDb) {
    let (_s, tasks) = replica(&db, "one").await;
    let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel::<()>();
    let view = tasks
        .start(
            "alice",
            start(),
            work(move |_| {
                async move {
                    // Dropped (not finished) when cancelled: the sender goes.
                    let _tell = dropped_tx;
                    tokio::time::sleep(Duration::from_secs(600)).await;
                    Ok::<_, Failure>(json!({}))
                }
                .boxed()
            }),
        )
        .await
        .unwrap();
    tasks.cancel("alice", &view.id).await.unwrap();
    let done = until(&tasks, "alice", &view.id, |v| v.status.is_terminal()).await;
    assert_eq!(done.status, Status::Cancelled);
    assert!(dropped_rx.await.is_err(), "the work stopped");
    tasks.cancel("alice", &view.id).await.unwrap();
    assert_eq!(
        tasks.get("alice", &view.id).await.unwrap().status,
        Status::Cancelled
    );
    assert!(matches!(
        tasks.cancel("alice", "task-nope").await,
        Err(TaskError::Unknown(_))
    ));
}

async fn questions_are_answered_through_any_replica(db: TestDb) {
    let (_s, holder) = replica(&db, "holder").await;
    let (_t, other) = replica(&db, "other").await;
    let view = holder
        .start(
            "alice",
            start(),
            work(|ctx| {
                async move {
                    let wait = Duration::from_secs(60);
                    let (a, b) = tokio::join!(
                        ctx.ask("name", json!({"q": "name?"}), wait),
                        ctx.ask("sure", json!({"q": "sure?"}), wait),
                    );
                    Ok::<_, Failure>(json!({"name": a, "sure": b}))
                }
                .boxed()
            }),
        )
        .await
        .unwrap();
    let asked = until(&other, "alice", &view.id, |v| v.input_requests.len() == 2).await;
    assert_eq!(asked.status, Status::InputRequired);
    assert_eq!(asked.input_requests["sure"], json!({"q": "sure?"}));
    // One answer through the other replica, plus a key nobody asked.
    let mut answers = Map::new();
    answers.insert("name".into(), json!("Ada"));
    answers.insert("unasked".into(), json!(1));
    other.update("alice", &view.id, answers).await.unwrap();
    let rest = other.get("alice", &view.id).await.unwrap();
    assert_eq!(rest.status, Status::InputRequired);
    assert_eq!(rest.input_requests.keys().collect::<Vec<_>>(), ["sure"]);
    // The other through the holder.
    let mut answers = Map::new();
    answers.insert("sure".into(), json!(true));
    holder.update("alice", &view.id, answers).await.unwrap();
    let done = until(&other, "alice", &view.id, |v| v.status.is_terminal()).await;
    assert_eq!(done.status, Status::Completed, "{done:?}");
    assert_eq!(done.result, Some(json!({"name": "Ada", "sure": true})));
}

async fn a_tenant_runs_a_bounded_number_of_tasks(db: TestDb) {
    let (_s, tasks) = replica(&db, "one").await;
    let mut ids = Vec::new();
    for _ in 0..LIVE_PER_TENANT {
        ids.push(tasks.start("greedy", start(), forever()).await.unwrap().id);
    }
    let refused = tasks.start("greedy", start(), forever()).await;
    assert!(
        matches!(refused, Err(TaskError::Busy(n)) if n == LIVE_PER_TENANT),
        "{refused:?}"
    );
    // Another tenant is not held up.
    tasks.start("modest", start(), forever()).await.unwrap();
    // A cancelled task frees its place.
    tasks.cancel("greedy", &ids[0]).await.unwrap();
    until(&tasks, "greedy", &ids[0], |v| v.status.is_terminal()).await;
    tasks.start("greedy", start(), forever()).await.unwrap();
    tasks.shutdown().await.unwrap();
}

fn explode() -> Result<Value, Failure> {
    panic!("a bug in the work")
}

async fn a_panic_in_the_work_is_a_failed_task(db: TestDb) {
    let (_s, tasks) = replica(&db, "one").await;
    let view = tasks
        .start("alice", start(), work(|_| async { explode() }.boxed()))
        .await
        .unwrap();
    let done = until(&tasks, "alice", &view.id, |v| v.status.is_terminal()).await;
    assert_eq!(done.status, Status::Failed);
    assert_eq!(done.error.as_ref().unwrap()["code"], -32603);
    // The process goes on: a new task runs.
    let next = tasks
        .start(
            "alice",
            start(),
            work(|_| async { Ok::<_, Failure>(json!(1)) }.boxed()),
        )
        .await
        .unwrap();
    assert_eq!(
        until(&tasks, "alice", &next.id, |v| v.status.is_terminal())
            .await
            .status,
        Status::Completed
    );
}

/// The work may hold the database's write lock (one writer, on SQLite)
/// while it reports progress: the runner's own writes must not stop the
/// work from going on, or each waits for the other until the busy timeout.
async fn progress_is_written_while_the_work_holds_the_write_lock(db: TestDb) {
    let (store, tasks) = replica(&db, "one").await;
    let pool = store.pool().clone();
    let started = std::time::Instant::now();
    let view = tasks
        .start(
            "alice",
            start(),
            work(move |ctx| {
                async move {
                    let mut tx = pool.begin().await.unwrap();
                    sqlx::query("INSERT INTO server_secrets (name, value) VALUES ('held', 'x')")
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    ctx.progress("holding the write lock");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    tx.commit().await.unwrap();
                    Ok::<_, Failure>(json!("done"))
                }
                .boxed()
            }),
        )
        .await
        .unwrap();
    let done = until(&tasks, "alice", &view.id, |v| v.status.is_terminal()).await;
    assert_eq!(done.status, Status::Completed, "{done:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the work waited on the runner: {:?}",
        started.elapsed()
    );
}
