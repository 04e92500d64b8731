//! The rest of what the store keeps, on both backends: executions,
//! tenants, practice state, docs; and migrations, from an empty database
//! and from the previous schema with data in it.

use autolearn::skills::{Kpis, Provenance, Status};
use autolearn::store::{Execution, SkillStore};
use serde_json::json;
use sqlx::migrate::Migrator;

use crate::db::{Backend, TestDb};

crate::on_both_backends!(
    executions_are_kept_newest_first_and_reset_clears_them,
    pruning_keeps_each_named_tenants_newest_executions_only,
    tenants_keys_limits_and_quotas_round_trip,
    keys_are_added_listed_revoked_and_expire,
    removing_a_tenant_deletes_its_data_and_keeps_the_chain,
    practice_state_survives_and_budgets_never_go_negative,
    migrating_from_the_previous_schema_keeps_the_data,
    a_lease_has_one_holder_until_it_expires,
);

async fn pruning_keeps_each_named_tenants_newest_executions_only(db: TestDb) {
    let store = db.open().await;
    let batch: Vec<_> = (0..6)
        .flat_map(|i| [execution("a", "inc", i), execution("b", "other", i)])
        .chain((0..4).map(|i| execution("c", "third", i)))
        .collect();
    let seqs = store.insert_executions(&batch).await.unwrap();
    store.prune_executions(&["a", "b"], 3).await.unwrap();
    let kept = |t: &'static str| {
        let store = store.clone();
        async move {
            let rows = store.executions(t, 0, 100).await.unwrap();
            rows.iter().map(|r| r.seq).collect::<Vec<_>>()
        }
    };
    let newest = |tenant: &str, n: usize| {
        let mut mine: Vec<i64> = batch
            .iter()
            .zip(&seqs)
            .filter(|(e, _)| e.tenant == tenant)
            .map(|(_, s)| *s)
            .rev()
            .collect();
        mine.truncate(n);
        mine
    };
    assert_eq!(kept("a").await, newest("a", 3));
    assert_eq!(kept("b").await, newest("b", 3));
    assert_eq!(kept("c").await.len(), 4, "a tenant not named is left alone");
    store.prune_executions(&["c"], 10).await.unwrap();
    assert_eq!(kept("c").await.len(), 4, "under the cap nothing goes");
}

async fn a_lease_has_one_holder_until_it_expires(db: TestDb) {
    let (a, b) = (db.open().await, db.open().await);
    let ttl = std::time::Duration::from_millis(300);
    assert!(
        a.leases()
            .take_lease("practice:t", "replica-a", ttl)
            .await
            .unwrap()
    );
    assert!(
        !b.leases()
            .take_lease("practice:t", "replica-b", ttl)
            .await
            .unwrap()
    );
    // Renewing is taking it again.
    assert!(
        a.leases()
            .take_lease("practice:t", "replica-a", ttl)
            .await
            .unwrap()
    );
    assert_eq!(
        b.leases()
            .lease_holder("practice:t")
            .await
            .unwrap()
            .as_deref(),
        Some("replica-a")
    );
    // Another name is another lease.
    assert!(
        b.leases()
            .take_lease("practice:u", "replica-b", ttl)
            .await
            .unwrap()
    );
    // A holder that stops renewing loses it.
    tokio::time::sleep(ttl + std::time::Duration::from_millis(50)).await;
    assert_eq!(b.leases().lease_holder("practice:t").await.unwrap(), None);
    assert!(
        b.leases()
            .take_lease("practice:t", "replica-b", ttl)
            .await
            .unwrap()
    );
    // Releasing needs the holder.
    a.leases()
        .release_lease("practice:t", "replica-a")
        .await
        .unwrap();
    assert!(
        !a.leases()
            .take_lease("practice:t", "replica-a", ttl)
            .await
            .unwrap()
    );
    b.leases()
        .release_lease("practice:t", "replica-b")
        .await
        .unwrap();
    assert!(
        a.leases()
            .take_lease("practice:t", "replica-a", ttl)
            .await
            .unwrap()
    );
}

fn execution(tenant: &str, skill: &str, i: i64) -> Execution {
    Execution {
        seq: 0,
        tenant: tenant.into(),
        at_ms: 1_000 + i,
        skill: skill.into(),
        version: Some(1),
        input: format!("{{\"x\": {i}}}"),
        output: (i % 2 == 0).then(|| i.to_string()),
        error_kind: (i % 2 == 1).then(|| "guest_exception".to_owned()),
        error: (i % 2 == 1).then(|| "boom".to_owned()),
        fuel: u64::try_from(i).unwrap() * 10,
        elapsed_us: 5,
    }
}

async fn executions_are_kept_newest_first_and_reset_clears_them(db: TestDb) {
    let store = db.open().await;
    let batch: Vec<_> = (0..5).map(|i| execution("a", "inc", i)).collect();
    let seqs = store.insert_executions(&batch).await.unwrap();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    store
        .insert_executions(&[execution("b", "other", 9)])
        .await
        .unwrap();
    let rows = store.executions("a", 0, 3).await.unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].seq, seqs[4]);
    assert_eq!(rows[0].fuel, 40);
    assert_eq!(rows[1].error_kind.as_deref(), Some("guest_exception"));
    // Paging: before the oldest of the first page.
    let older = store.executions("a", rows[2].seq, 10).await.unwrap();
    assert_eq!(older.len(), 2);
    let m = autolearn::skills::SkillManifest {
        runtime: Default::default(),
        memoize: false,
        requires: Vec::new(),
        name: "inc".into(),
        description: "d".into(),
        input_schema: json!({"type": "object"}),
        output_schema: None,
        source: "def f():\n    return 1\n".into(),
        entry: "f".into(),
        examples: Vec::new(),
    };
    store
        .insert(
            "a",
            &m,
            Provenance::Authored,
            Status::Published,
            &Kpis::default(),
        )
        .await
        .unwrap();
    store
        .append_learning("a", "decision", "inc", &json!({}))
        .await
        .unwrap();
    let counts = store.reset_tenant("a").await.unwrap();
    assert_eq!(
        (counts.skills, counts.executions, counts.learnings),
        (1, 5, 1)
    );
    assert!(store.executions("a", 0, 10).await.unwrap().is_empty());
    assert_eq!(store.executions("b", 0, 10).await.unwrap().len(), 1);
}

async fn tenants_keys_limits_and_quotas_round_trip(db: TestDb) {
    let store = db.open().await;
    let key = store.create_tenant("acme").await.unwrap();
    assert!(store.create_tenant("acme").await.is_err());
    assert_eq!(
        store.tenant_for_key(&key).await.unwrap().as_deref(),
        Some("acme")
    );
    assert_eq!(store.tenant_for_key("alk_nope").await.unwrap(), None);
    assert_eq!(store.tenant_count().await.unwrap(), 1);
    let mut o = autolearn::limits::TenantOverrides::default();
    o.set("concurrent_calls", "9").unwrap();
    store.set_tenant_overrides("acme", &o).await.unwrap();
    assert_eq!(store.tenant_overrides("acme").await.unwrap(), o);
    let mut q = autolearn::quota::Quotas::default();
    q.set("skills", "3").unwrap();
    store.set_tenant_quotas("acme", &q).await.unwrap();
    assert_eq!(store.tenant_quotas("acme").await.unwrap(), q);
    assert!(store.set_tenant_quotas("nobody", &q).await.is_err());
}

async fn keys_are_added_listed_revoked_and_expire(db: TestDb) {
    let store = db.open().await;
    let first = store.create_tenant("acme").await.unwrap();
    let second = store.add_key("acme", "ci", None).await.unwrap();
    let soon = store
        .add_key("acme", "short", Some(autolearn::store::now_ms() - 1))
        .await
        .unwrap();
    assert!(second.key.starts_with("alk_") && second.id.starts_with("key_"));
    assert_ne!(first, second.key);
    for key in [&first, &second.key] {
        assert_eq!(
            store.tenant_for_key(key).await.unwrap().as_deref(),
            Some("acme")
        );
    }
    // An expired key is known (so it can be refused as expired), not live.
    assert_eq!(store.tenant_for_key(&soon.key).await.unwrap(), None);
    let owner = store.key_owner(&soon.key).await.unwrap().unwrap();
    assert!(owner.expired_at(autolearn::store::now_ms()));
    let listed = store.tenants().await.unwrap();
    let labels: Vec<&str> = listed[0].keys.iter().map(|k| k.label.as_str()).collect();
    assert_eq!(labels, ["default", "ci", "short"]);
    let text = serde_json::to_string(&listed).unwrap();
    assert!(
        !text.contains(&first[4..]) && !text.contains(&second.key[4..]),
        "no key listed"
    );
    store.touch_key(&second.id, 42).await.unwrap();
    let revoked = store.revoke_key("acme", &second.id).await.unwrap();
    assert_eq!(revoked.last_used_ms, Some(42));
    assert_eq!(store.tenant_for_key(&second.key).await.unwrap(), None);
    assert_eq!(
        store.tenant_for_key(&first).await.unwrap().as_deref(),
        Some("acme"),
        "the other key still works"
    );
    assert!(store.revoke_key("acme", &second.id).await.is_err(), "gone");
    assert!(store.add_key("nobody", "", None).await.is_err());
    assert!(store.add_key("acme", &"x".repeat(65), None).await.is_err());
    assert!(store.add_key("acme", "bad\nlabel", None).await.is_err());
}

async fn removing_a_tenant_deletes_its_data_and_keeps_the_chain(db: TestDb) {
    let store = db.open().await;
    let key = store.create_tenant("gone").await.unwrap();
    let kept = store.create_tenant("kept").await.unwrap();
    store
        .insert_executions(&[execution("gone", "inc", 1), execution("kept", "inc", 1)])
        .await
        .unwrap();
    store
        .append_learning("gone", "decision", "inc", &json!({}))
        .await
        .unwrap();
    let removed = store.remove_tenant("gone").await.unwrap();
    assert_eq!((removed.keys, removed.cleared.executions), (1, 1));
    assert_eq!(store.tenant_for_key(&key).await.unwrap(), None);
    assert_eq!(store.tenant_for_name("gone").await.unwrap(), None);
    assert!(store.executions("gone", 0, 10).await.unwrap().is_empty());
    assert_eq!(store.executions("kept", 0, 10).await.unwrap().len(), 1);
    assert_eq!(
        store.tenant_for_key(&kept).await.unwrap().as_deref(),
        Some("kept")
    );
    assert_eq!(
        store.verify_learnings().await.unwrap(),
        Ok(1),
        "the chain keeps it"
    );
    assert!(store.remove_tenant("gone").await.is_err());
}

async fn practice_state_survives_and_budgets_never_go_negative(db: TestDb) {
    let store = db.open().await;
    store.practice().start_project("t", "proj").await.unwrap();
    store
        .practice()
        .set_budget("t", "proj", 1_000)
        .await
        .unwrap();
    assert_eq!(
        store.practice().owed_work().await.unwrap(),
        vec![("t".to_owned(), "proj".to_owned())]
    );
    store
        .practice()
        .record_practice_step("t", "proj", 1, "goal_a", "done", &json!({"trust": 80}), 400)
        .await
        .unwrap();
    store
        .practice()
        .record_practice_step("t", "proj", 1, "goal_a", "done", &json!({"trust": 90}), 900)
        .await
        .unwrap();
    let p = &store.practice().practice_projects("t").await.unwrap()[0];
    assert_eq!((p.budget_ms, p.worked_ms), (0, 1_300));
    assert!(store.practice().owed_work().await.unwrap().is_empty());
    let steps = store.practice().practice_steps("t", "proj").await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(
        (steps[0].attempts, steps[0].result["trust"].clone()),
        (2, json!(90))
    );
    store
        .practice()
        .complete_project("t", "proj", &json!({"trust_score": 50}))
        .await
        .unwrap();
    let p = &store.practice().practice_projects("t").await.unwrap()[0];
    assert_eq!(p.status, "completed");
    assert_eq!(p.report, Some(json!({"trust_score": 50})));
    assert_eq!(
        store.practice().count_learnings("t", 0, &[]).await.unwrap(),
        0
    );
    assert!(
        store
            .practice()
            .published_among("t", &["x", "y"])
            .await
            .unwrap()
            .is_empty()
    );
}

/// The migrations directory of a backend.
fn migrations(backend: Backend) -> std::path::PathBuf {
    let dir = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dir)
}

async fn migrating_from_the_previous_schema_keeps_the_data(db: TestDb) {
    // The schema before the four newest migrations (tenant keys, answer
    // steps, tasks, step runtimes), applied to an empty database, with data
    // written in it.
    let all = migrations(db.backend);
    let previous = tempfile::tempdir().unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&all)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let newest = files.pop().unwrap();
    files.pop().unwrap();
    files.pop().unwrap();
    files.pop().unwrap();
    for f in &files {
        std::fs::copy(f, previous.path().join(f.file_name().unwrap())).unwrap();
    }
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    Migrator::new(previous.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO tenants (name, key_sha256, created_at) VALUES ($1, $2, $3)")
        .bind("old")
        // sha256("alk_old"): the key the tenant had.
        .bind("550e3935a9376b8dbb8862ed1edbf767b9387603708ba67a5e4619b2501a4c00")
        .bind("2026-01-01T00:00:00.000Z")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO executions (tenant, at_ms, skill, version, input, output, fuel, elapsed_us) \
         VALUES ('old', 5, 'inc', 1, '{}', '1', 7, 3)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO traces (tenant, id, kind, created_ms, updated_ms, next_step) \
         VALUES ('old', 't1', 'explicit', 1, 1, 2)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO trace_steps (tenant, trace_id, step, code, inputs, value, names, bound, fuel, elapsed_us, bytes, created_ms) \
         VALUES ('old', 't1', 1, '1 + 1', '{}', '2', '[]', '{}', 5, 1, 10, 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    // Opening the store applies the newest migration over it.
    let store: SkillStore = db.open().await;
    assert_eq!(
        store.tenant_for_name("old").await.unwrap().as_deref(),
        Some("old")
    );
    let rows = store.executions("old", 0, 10).await.unwrap();
    assert_eq!((rows.len(), rows[0].fuel), (1, 7));
    // What the newest migration added works beside the old rows.
    assert_eq!(store.task_book().counts("old").await.unwrap(), (0, 0));
    assert_eq!(
        store.tenant_quotas("old").await.unwrap(),
        Default::default(),
        "{}",
        newest.display()
    );
    // The key it had is its first key now, dated from the tenant.
    assert_eq!(
        store.tenant_for_key("alk_old").await.unwrap().as_deref(),
        Some("old")
    );
    let listed = store.tenants().await.unwrap();
    assert_eq!(listed[0].keys.len(), 1);
    assert_eq!(listed[0].keys[0].label, "first");
    assert_eq!(listed[0].keys[0].created_ms, 1_767_225_600_000);
    // An old step was no reported answer, and ran on the core runtime.
    let steps = store
        .trace_steps("old", &"t1".parse().unwrap())
        .await
        .unwrap();
    assert_eq!((steps.len(), steps[0].answer), (1, false));
    assert_eq!(steps[0].runtime, autolearn::runtime::Runtime::Core);
    assert_eq!(steps[0].value, Some(json!(2)));
    // And from empty: a second database, all migrations at once.
    let empty = TestDb::new(db.backend).await;
    assert_eq!(empty.open().await.tenant_count().await.unwrap(), 0);
}

/// Work cancelled while its `BEGIN IMMEDIATE` waits for the write lock
/// (a client gone, a task cancelled) must not leave its connection inside
/// a transaction that holds the lock once it gets it: every later writer
/// would fail with "database is locked".
#[tokio::test]
async fn a_write_cancelled_while_waiting_for_the_lock_leaves_it_free() {
    use sqlx::{Connection, Executor};
    let db = TestDb::new(Backend::Sqlite).await;
    let store = db.open().await;
    let mut holder = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    holder.execute("BEGIN IMMEDIATE").await.unwrap();
    let waiting = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        store.practice().start_project("t", "p"),
    )
    .await;
    assert!(
        waiting.is_err(),
        "the write waited for the lock and was dropped"
    );
    holder.execute("ROLLBACK").await.unwrap();
    // Another writer (another process) gets the lock in time.
    let other = db.open().await;
    tokio::time::timeout(
        std::time::Duration::from_secs(4),
        other.practice().start_project("t", "q"),
    )
    .await
    .expect("the abandoned transaction still holds the write lock")
    .unwrap();
    // And this store's pool still writes.
    store.practice().start_project("t", "r").await.unwrap();
}
