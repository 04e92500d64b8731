//! The learnings log: one valid chain under concurrent writers, and any
//! edit or deletion caught at the entry where it happened.

use autolearn::store::SkillStore;
use serde_json::json;

use crate::db::{Backend, TestDb};

crate::on_both_backends!(
    concurrent_writers_keep_one_valid_chain,
    an_edited_or_deleted_entry_is_named,
);

async fn concurrent_writers_keep_one_valid_chain(db: TestDb) {
    // Two handles: two processes, or two replicas on one PostgreSQL.
    let (a, b) = (db.open().await, db.open().await);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            store
                .append_learning(
                    if i % 2 == 0 { "ta" } else { "tb" },
                    "decision",
                    &format!("s{i}"),
                    &json!({"i": i}),
                )
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(a.verify_learnings().await.unwrap(), Ok(40));
    let mine = a.learnings("ta", 0, 100).await.unwrap();
    assert_eq!(mine.len(), 20);
    assert!(mine.iter().all(|l| l.tenant == "ta"));
    let recent = a.recent_learnings("tb", 5).await.unwrap();
    assert_eq!(recent.len(), 5);
    assert!(recent.windows(2).all(|w| w[0].seq < w[1].seq));
}

/// A fresh log of `n` entries (and its database, kept while in use).
async fn log_of(backend: Backend, n: i64) -> (TestDb, SkillStore) {
    let db = TestDb::new(backend).await;
    let store = db.open().await;
    for i in 0..n {
        store
            .append_learning("t", "decision", "s", &json!({"i": i}))
            .await
            .unwrap();
    }
    (db, store)
}

async fn an_edited_or_deleted_entry_is_named(db: TestDb) {
    let (_db, store) = log_of(db.backend, 5).await;
    assert_eq!(store.verify_learnings().await.unwrap(), Ok(5));
    sqlx::query("UPDATE learnings SET detail = '{\"i\": 99}' WHERE seq = 3")
        .execute(store.pool())
        .await
        .unwrap();
    let broken = store.verify_learnings().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 3);
    assert!(broken.reason.contains("does not hash"), "{}", broken.reason);

    let (_db, store) = log_of(db.backend, 5).await;
    sqlx::query("DELETE FROM learnings WHERE seq = 2")
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(store.verify_learnings().await.unwrap().unwrap_err().seq, 3);
    // Rehashing an edited entry does not help: the next entry still points
    // at the old hash.
    let (_db, store) = log_of(db.backend, 3).await;
    sqlx::query("UPDATE learnings SET hash = '0000000000000000000000000000000000000000000000000000000000000001' WHERE seq = 1")
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(store.verify_learnings().await.unwrap().unwrap_err().seq, 1);
}
