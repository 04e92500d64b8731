//! The content-hashed store: lineage, dedup, tenants, persistence, tamper
//! detection.

use autolearn::skills::{Example, Kpis, Provenance, SkillManifest, Status};
use autolearn::store::{Inserted, Signal, SkillStore, StoreError};
use serde_json::json;

use crate::db::TestDb;

crate::on_both_backends!(
    versions_form_a_lineage,
    identical_content_is_stored_once,
    tenants_see_only_their_own_skills,
    a_tampered_manifest_is_reported_never_returned,
    a_row_renamed_behind_the_stores_back_is_tampered,
    status_changes_are_stored,
    a_status_change_never_hits_a_version_published_meanwhile,
    republishing_tells_the_truth_about_what_changed,
    skills_survive_a_restart,
    concurrent_writers_on_one_database_all_land,
    every_write_to_a_tenants_skills_moves_its_catalog_revision,
);

fn manifest(name: &str, body: &str) -> SkillManifest {
    SkillManifest {
        runtime: Default::default(),
        memoize: false,
        requires: Vec::new(),
        name: name.into(),
        description: "test skill".into(),
        input_schema: json!({"type": "object", "properties": {"x": {"type": "integer"}}}),
        output_schema: None,
        source: format!("def f(x):\n    return {body}\n"),
        entry: "f".into(),
        examples: vec![Example {
            input: json!({"x": 1}),
            output: json!(2),
        }],
    }
}

/// Retire the current version of `name`.
async fn retire(store: &SkillStore, tenant: &str, name: &str) {
    let current = store.latest(tenant, name).await.unwrap();
    store
        .set_status(tenant, name, &current.id, Status::Retired)
        .await
        .unwrap();
}

async fn put(store: &SkillStore, tenant: &str, m: &SkillManifest) -> Inserted {
    store
        .insert(
            tenant,
            m,
            Provenance::Authored,
            Status::Published,
            &Kpis::default(),
        )
        .await
        .unwrap()
}

async fn versions_form_a_lineage(db: TestDb) {
    let store = db.open().await;
    let v1 = put(&store, "local", &manifest("inc", "x + 1")).await;
    let v2 = put(&store, "local", &manifest("inc", "1 + x")).await;
    let (Inserted::New(v1), Inserted::New(v2)) = (v1, v2) else {
        panic!("expected new versions")
    };
    assert_eq!((v1.version, v2.version), (1, 2));
    assert_eq!(v2.parent.as_ref(), Some(&v1.id));
    assert_eq!(store.latest("local", "inc").await.unwrap().id, v2.id);
    assert_eq!(
        store.get("local", &v1.id).await.unwrap().manifest.source,
        v1.manifest.source
    );
}

async fn identical_content_is_stored_once(db: TestDb) {
    let store = db.open().await;
    let a = put(&store, "local", &manifest("inc", "x + 1")).await;
    let b = put(&store, "local", &manifest("inc", "x + 1")).await;
    assert!(matches!(b, Inserted::Existing(_)));
    assert_eq!(a.skill().id, b.skill().id);
    assert_eq!(store.list("local").await.unwrap().len(), 1);
}

async fn tenants_see_only_their_own_skills(db: TestDb) {
    let store = db.open().await;
    put(&store, "acme", &manifest("inc", "x + 1")).await;
    assert!(matches!(
        store.latest("globex", "inc").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.list("globex").await.unwrap().is_empty());
    assert_eq!(store.list("acme").await.unwrap().len(), 1);
}

async fn skills_survive_a_restart(db: TestDb) {
    let id = {
        let store = db.open().await;
        let id = put(&store, "local", &manifest("inc", "x + 1"))
            .await
            .skill()
            .id
            .clone();
        store.pool().close().await;
        id
    };
    let store = db.open().await;
    assert_eq!(store.latest("local", "inc").await.unwrap().id, id);
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode() {
    let dir = crate::util::data_dir();
    let store = SkillStore::open(&dir.path().join("db/autolearn.db"))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

async fn a_tampered_manifest_is_reported_never_returned(db: TestDb) {
    let store = db.open().await;
    put(&store, "local", &manifest("inc", "x + 1")).await;
    sqlx::query(
        "UPDATE skill_versions SET manifest = replace(manifest, 'x + 1', '__import__(''os'')')",
    )
    .execute(store.pool())
    .await
    .unwrap();
    assert!(matches!(
        store.latest("local", "inc").await,
        Err(StoreError::Tampered { .. })
    ));
    assert!(matches!(
        store.list("local").await,
        Err(StoreError::Tampered { .. })
    ));
}

async fn a_row_renamed_behind_the_stores_back_is_tampered(db: TestDb) {
    let store = db.open().await;
    put(&store, "local", &manifest("inc", "x + 1")).await;
    sqlx::query("UPDATE skill_versions SET name = 'other'")
        .execute(store.pool())
        .await
        .unwrap();
    assert!(matches!(
        store.latest("local", "other").await,
        Err(StoreError::Tampered { .. })
    ));
}

#[tokio::test]
async fn a_rehashed_but_non_canonical_manifest_is_tampered() {
    // An attacker who recomputes the hash still cannot smuggle in a
    // manifest whose text differs from its canonical form.
    let store = SkillStore::in_memory().await.unwrap();
    put(&store, "local", &manifest("inc", "x + 1")).await;
    let text: String = sqlx::query_scalar("SELECT manifest FROM skill_versions")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let spaced = text.replacen('{', "{ ", 1);
    let id = autolearn::skills::SkillId::of_canonical(&spaced);
    sqlx::query("UPDATE skill_versions SET manifest = $1, id = $2")
        .bind(&spaced)
        .bind(id.as_str())
        .execute(store.pool())
        .await
        .unwrap();
    assert!(matches!(
        store.latest("local", "inc").await,
        Err(StoreError::Tampered { .. })
    ));
}

async fn status_changes_are_stored(db: TestDb) {
    let store = db.open().await;
    let id = put(&store, "local", &manifest("inc", "x + 1"))
        .await
        .skill()
        .id
        .clone();
    let retired = store
        .set_status("local", "inc", &id, Status::Retired)
        .await
        .unwrap();
    assert_eq!(retired.status, Status::Retired);
    assert_eq!(
        store.latest("local", "inc").await.unwrap().status,
        Status::Retired
    );
}

async fn a_status_change_never_hits_a_version_published_meanwhile(db: TestDb) {
    let store = db.open().await;
    let old = put(&store, "local", &manifest("inc", "x + 1"))
        .await
        .skill()
        .id
        .clone();
    put(&store, "local", &manifest("inc", "x + 2")).await;
    let err = store
        .set_status("local", "inc", &old, Status::Retired)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(
        store.latest("local", "inc").await.unwrap().status,
        Status::Published
    );
}

async fn republishing_tells_the_truth_about_what_changed(db: TestDb) {
    let store = db.open().await;
    let v1 = manifest("inc", "x + 1");
    let v2 = manifest("inc", "x + 2");
    assert!(matches!(put(&store, "local", &v1).await, Inserted::New(_)));
    assert!(matches!(
        put(&store, "local", &v1).await,
        Inserted::Existing(_)
    ));
    assert!(matches!(put(&store, "local", &v2).await, Inserted::New(_)));
    // An older version comes back as the current one, with a new version
    // number whose parent is the version it replaces.
    let Inserted::Restored(back) = put(&store, "local", &v1).await else {
        panic!("v1 was not restored");
    };
    assert_eq!(back.version, 3);
    assert_eq!(back.id, v1.id());
    assert_eq!(back.parent, Some(v2.id()));
    assert_eq!(store.latest("local", "inc").await.unwrap().id, v1.id());
    // A retired current version is published again.
    store
        .set_status("local", "inc", &v1.id(), Status::Retired)
        .await
        .unwrap();
    let Inserted::Restored(again) = put(&store, "local", &v1).await else {
        panic!("the retired version was not restored");
    };
    assert_eq!((again.version, again.status), (3, Status::Published));
}

async fn concurrent_writers_on_one_database_all_land(db: TestDb) {
    // Two stores on one database are two processes' (or replicas') worth
    // of connections: deferred transactions used to fail at once with
    // "database is locked".
    let a = db.open().await;
    let b = db.open().await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let tenant = if i % 2 == 0 { "ta" } else { "tb" };
        tasks.push(tokio::spawn(async move {
            let m = manifest(&format!("s{}", i % 5), &format!("x + {i}"));
            store
                .insert(
                    tenant,
                    &m,
                    Provenance::Authored,
                    Status::Published,
                    &Kpis::default(),
                )
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("every write lands");
    }
    let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM skill_versions")
        .fetch_one(a.pool())
        .await
        .unwrap();
    assert_eq!(versions, 40);
}

async fn every_write_to_a_tenants_skills_moves_its_catalog_revision(db: TestDb) {
    let store = db.open().await;
    let rev = || store.catalog_revision("a");
    assert_eq!(rev().await.unwrap(), 0);
    let m = manifest("inc", "x + 1");
    put(&store, "a", &m).await;
    let r1 = rev().await.unwrap();
    assert!(r1 > 0, "a new skill");
    put(&store, "a", &m).await;
    assert_eq!(
        rev().await.unwrap(),
        r1,
        "the same content again changes nothing"
    );
    retire(&store, "a", "inc").await;
    let r2 = rev().await.unwrap();
    assert!(r2 > r1, "a status change");
    put(&store, "a", &m).await;
    let r3 = rev().await.unwrap();
    assert!(r3 > r2, "restored");
    store.reset_tenant("a").await.unwrap();
    assert!(rev().await.unwrap() > r3, "a reset");
    assert_eq!(
        store.catalog_revision("b").await.unwrap(),
        0,
        "another tenant's is its own"
    );
    // Another handle on the same database (another process, another
    // replica) reads the same revision.
    let other = db.open().await;
    assert_eq!(
        other.catalog_revision("a").await.unwrap(),
        rev().await.unwrap()
    );
}

#[tokio::test]
async fn every_write_to_tenants_moves_the_sqlite_tenants_signal_and_only_it() {
    let db = TestDb::sqlite();
    let store = db.open().await;
    let other = db.open().await; // another process on the same file
    let skills = other.signal(Signal::Skills);
    let before = other
        .signal(Signal::Tenants)
        .expect("a SQLite file has a signal");
    store.create_tenant("acme").await.unwrap();
    let s1 = other.signal(Signal::Tenants).unwrap();
    assert_ne!(s1, before, "a new tenant and key");
    assert!(store.create_tenant("acme").await.is_err());
    assert_eq!(
        other.signal(Signal::Tenants).unwrap(),
        s1,
        "a refused create"
    );
    let quotas = autolearn::quota::Quotas {
        calls_per_minute: Some(5),
        ..Default::default()
    };
    store.set_tenant_quotas("acme", &quotas).await.unwrap();
    let s2 = other.signal(Signal::Tenants).unwrap();
    assert_ne!(s2, s1, "new quotas");
    store
        .set_tenant_overrides("acme", &Default::default())
        .await
        .unwrap();
    assert_ne!(other.signal(Signal::Tenants).unwrap(), s2, "new limits");
    assert_eq!(
        other.signal(Signal::Skills),
        skills,
        "the skills signal stays"
    );
    let pg = TestDb::postgres().await.open().await;
    assert_eq!(pg.signal(Signal::Tenants), None);
}

#[tokio::test]
async fn every_write_to_skills_moves_the_sqlite_skills_signal_for_every_process() {
    let db = TestDb::sqlite();
    let store = db.open().await;
    let other = db.open().await; // another process on the same file
    let before = store
        .signal(Signal::Skills)
        .expect("a SQLite file has a signal");
    let m = manifest("inc", "x + 1");
    put(&store, "a", &m).await;
    let s1 = other.signal(Signal::Skills).unwrap();
    assert_ne!(s1, before, "a new skill");
    put(&store, "a", &m).await;
    assert_eq!(
        other.signal(Signal::Skills).unwrap(),
        s1,
        "the same content again changes nothing"
    );
    retire(&store, "a", "inc").await;
    let s2 = other.signal(Signal::Skills).unwrap();
    assert_ne!(s2, s1, "a status change");
    store.reset_tenant("a").await.unwrap();
    assert_ne!(other.signal(Signal::Skills).unwrap(), s2, "a reset");

    let memory = SkillStore::in_memory().await.unwrap();
    assert_eq!(
        memory.signal(Signal::Skills),
        None,
        "nothing to share, nothing cached"
    );
    let pg = TestDb::postgres().await.open().await;
    assert_eq!(
        pg.signal(Signal::Skills),
        None,
        "PostgreSQL readers ask the database"
    );
}
