//! The application core: running skills by name through the verified-skill
//! cache never serves a stale version.

use std::sync::Arc;

use autolearn::app::{App, RunError};
use autolearn::sandbox::{Determinism, ResourceLimits};
use autolearn::skills::{Example, Kpis, Provenance, SkillManifest, Status};
use autolearn::store::SkillStore;
use serde_json::json;

fn inc(by: i64) -> SkillManifest {
    SkillManifest {
        runtime: Default::default(),
        memoize: false,
        requires: Vec::new(),
        name: "inc".into(),
        description: "Add a constant.".into(),
        input_schema: json!({"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}),
        output_schema: None,
        source: format!("def f(x):\n    \"\"\"Add.\"\"\"\n    return x + {by}\n"),
        entry: "f".into(),
        examples: vec![Example {
            input: json!({"x": 0}),
            output: json!(by),
        }],
    }
}

async fn app(db: &std::path::Path) -> App {
    crate::util::app_for(SkillStore::open(db).await.unwrap())
}

/// An app on a new database in `dir` (its path returned too, for a second
/// handle), with `inc` (x + 1) published.
async fn app_with_inc(dir: &std::path::Path) -> (std::path::PathBuf, App) {
    let db = dir.join("autolearn.db");
    let app = app(&db).await;
    app.skills()
        .add("local", inc(1), Provenance::Authored)
        .await
        .unwrap();
    (db, app)
}

async fn call(app: &App) -> Result<serde_json::Value, RunError> {
    app.calls()
        .run(
            "local",
            "inc",
            &json!({"x": 1}),
            ResourceLimits::default(),
            Determinism::Live,
        )
        .await
        .map(|r| r.value)
}

#[tokio::test]
async fn new_versions_retirements_and_outside_writes_are_seen_at_once() {
    let dir = crate::util::data_dir();
    let (db, app) = app_with_inc(dir.path()).await;
    assert_eq!(call(&app).await.unwrap(), json!(2));
    assert_eq!(call(&app).await.unwrap(), json!(2), "cached path");

    app.skills()
        .add("local", inc(10), Provenance::Authored)
        .await
        .unwrap();
    assert_eq!(
        call(&app).await.unwrap(),
        json!(11),
        "v2 must replace the cached v1"
    );

    // Another process (here: another store handle) publishes v3.
    let other = SkillStore::open(&db).await.unwrap();
    other
        .insert(
            "local",
            &inc(100),
            Provenance::Authored,
            Status::Published,
            &Kpis::default(),
        )
        .await
        .unwrap();
    assert_eq!(call(&app).await.unwrap(), json!(101));

    app.skills().retire("local", "inc").await.unwrap();
    assert!(matches!(
        call(&app).await,
        Err(RunError::NotPublished { .. })
    ));
}

#[tokio::test]
async fn input_is_checked_against_the_schema_before_it_runs() {
    let dir = crate::util::data_dir();
    let app = app(&dir.path().join("autolearn.db")).await;
    app.skills()
        .add("local", inc(1), Provenance::Authored)
        .await
        .unwrap();
    let e = app
        .calls()
        .run(
            "local",
            "inc",
            &json!({"x": "one"}),
            ResourceLimits::default(),
            Determinism::Live,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, RunError::Call(ref c) if c.kind().as_str() == "bad_input"),
        "{e:?}"
    );
    assert!(matches!(call(&app).await, Ok(v) if v == json!(2)));
}

#[tokio::test]
async fn the_cached_catalog_sees_outside_writes_at_once() {
    let dir = crate::util::data_dir();
    let (db, app) = app_with_inc(dir.path()).await;
    let names = |skills: Vec<Arc<autolearn::skills::Skill>>| {
        skills
            .iter()
            .map(|s| s.manifest.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(app.skills().published("local").await.unwrap()),
        ["inc"]
    );
    let first = app.skills().catalog("local").await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &app.skills().catalog("local").await.unwrap()),
        "unchanged skills: the same cached catalog"
    );

    // Another process publishes a skill and retires ours.
    let other = SkillStore::open(&db).await.unwrap();
    let mut shout = inc(2);
    shout.name = "shout_total".into();
    shout.description = "Shout the running total of a ledger.".into();
    other
        .insert(
            "local",
            &shout,
            Provenance::Authored,
            Status::Published,
            &Kpis::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        names(app.skills().published("local").await.unwrap()),
        ["inc", "shout_total"]
    );
    let hits = app
        .skills()
        .search("local", "ledger total", 5)
        .await
        .unwrap();
    assert_eq!(hits[0].0.manifest.name, "shout_total");

    let current = other.latest("local", "inc").await.unwrap();
    other
        .set_status("local", "inc", &current.id, Status::Retired)
        .await
        .unwrap();
    assert_eq!(
        names(app.skills().published("local").await.unwrap()),
        ["shout_total"]
    );
}

async fn run_inc(app: &App, input: serde_json::Value) -> autolearn::app::RunResult {
    app.calls()
        .run(
            "local",
            "inc",
            &input,
            ResourceLimits::default(),
            Determinism::Live,
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_memoized_skill_answers_a_repeated_call_without_running_it() {
    let dir = crate::util::data_dir();
    let app = app(&dir.path().join("autolearn.db")).await;
    let mut m = inc(1);
    m.memoize = true;
    m.input_schema = json!({"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}}, "required": ["x"]});
    m.source = "def f(x, y=0):\n    \"\"\"Add.\"\"\"\n    return x + y + 1\n".into();
    let (_, v) = app
        .skills()
        .add("local", m, Provenance::Authored)
        .await
        .unwrap();
    assert!(v.kpis.deterministic);

    let first = run_inc(&app, json!({"x": 1, "y": 2})).await;
    assert!(!first.cached);
    let again = run_inc(&app, json!({"y": 2, "x": 1})).await;
    assert!(again.cached, "the same input, keys in another order");
    assert_eq!(again.value, json!(4));
    assert!(
        !run_inc(&app, json!({"x": 2, "y": 2})).await.cached,
        "another input"
    );

    // A new version is another skill: its first call runs it.
    let mut v2 = inc(1);
    v2.memoize = true;
    v2.source = "def f(x):\n    \"\"\"Add.\"\"\"\n    return x + 100\n".into();
    v2.examples[0].output = json!(100);
    app.skills()
        .add("local", v2, Provenance::Authored)
        .await
        .unwrap();
    let after = run_inc(&app, json!({"x": 1})).await;
    assert!(!after.cached);
    assert_eq!(after.value, json!(101));
    assert!(run_inc(&app, json!({"x": 1})).await.cached);
}

#[tokio::test]
async fn memoization_is_off_by_default_and_for_skills_not_proven_deterministic() {
    let dir = crate::util::data_dir();
    let (db, app) = app_with_inc(dir.path()).await;
    run_inc(&app, json!({"x": 1})).await;
    assert!(!run_inc(&app, json!({"x": 1})).await.cached, "not opted in");

    // Opted in, but its KPIs do not say it is deterministic.
    let mut m = inc(2);
    m.memoize = true;
    let kpis = Kpis {
        deterministic: false,
        ..Kpis::default()
    };
    SkillStore::open(&db)
        .await
        .unwrap()
        .insert("local", &m, Provenance::Authored, Status::Published, &kpis)
        .await
        .unwrap();
    run_inc(&app, json!({"x": 1})).await;
    assert!(!run_inc(&app, json!({"x": 1})).await.cached);
}

#[tokio::test]
async fn no_tenant_hits_or_sees_another_tenants_memo() {
    // Two tenants publish the same memoizable skill (the same content
    // hash). A call by one must not be a hit for the other: that would
    // tell the other that someone already sent exactly this input.
    let dir = crate::util::data_dir();
    let app = app(&dir.path().join("autolearn.db")).await;
    let mut m = inc(1);
    m.memoize = true;
    for tenant in ["alice", "mallory"] {
        app.skills()
            .add(tenant, m.clone(), Provenance::Authored)
            .await
            .unwrap();
    }
    let run = async |tenant: &str| {
        app.calls()
            .run(
                tenant,
                "inc",
                &json!({"x": 41}),
                ResourceLimits::default(),
                Determinism::Live,
            )
            .await
            .unwrap()
    };
    assert!(!run("alice").await.cached);
    assert!(run("alice").await.cached, "alice's own repeat is a hit");
    let probe = run("mallory").await;
    assert!(!probe.cached, "alice's entry is not mallory's");
    assert_eq!(probe.value, json!(42));
    assert!(run("mallory").await.cached);
}
