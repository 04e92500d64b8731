//! The application core: running skills by name through the verified-skill
//! cache never serves a stale version.

use std::sync::Arc;

use autolearn::app::{App, RunError};
use autolearn::sandbox::{Determinism, ResourceLimits, Sandbox, SandboxConfig};
use autolearn::skills::{Example, Kpis, Provenance, SkillManifest, Status};
use autolearn::store::SkillStore;
use serde_json::json;

fn inc(by: i64) -> SkillManifest {
    SkillManifest {
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
    let sandbox = Sandbox::new(&SandboxConfig::new(
        crate::util::artifact(),
        crate::util::cache_dir(),
    ))
    .unwrap();
    App::new(SkillStore::open(db).await.unwrap(), Arc::new(sandbox))
}

async fn call(app: &App) -> Result<serde_json::Value, RunError> {
    app.run_skill(
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
    let db = dir.path().join("autolearn.db");
    let app = app(&db).await;
    app.add_skill("local", inc(1), Provenance::Authored)
        .await
        .unwrap();
    assert_eq!(call(&app).await.unwrap(), json!(2));
    assert_eq!(call(&app).await.unwrap(), json!(2), "cached path");

    app.add_skill("local", inc(10), Provenance::Authored)
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

    app.retire_skill("local", "inc").await.unwrap();
    assert!(matches!(
        call(&app).await,
        Err(RunError::NotPublished { .. })
    ));
}

#[tokio::test]
async fn input_is_checked_against_the_schema_before_it_runs() {
    let dir = crate::util::data_dir();
    let app = app(&dir.path().join("autolearn.db")).await;
    app.add_skill("local", inc(1), Provenance::Authored)
        .await
        .unwrap();
    let e = app
        .run_skill(
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
    let db = dir.path().join("autolearn.db");
    let app = app(&db).await;
    app.add_skill("local", inc(1), Provenance::Authored)
        .await
        .unwrap();
    let names = |skills: Vec<Arc<autolearn::skills::Skill>>| {
        skills
            .iter()
            .map(|s| s.manifest.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(app.published("local").await.unwrap()), ["inc"]);
    let first = app.catalog("local").await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &app.catalog("local").await.unwrap()),
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
        names(app.published("local").await.unwrap()),
        ["inc", "shout_total"]
    );
    let hits = app.search_skills("local", "ledger total", 5).await.unwrap();
    assert_eq!(hits[0].0.manifest.name, "shout_total");

    let current = other.latest("local", "inc").await.unwrap();
    other
        .set_status("local", "inc", &current.id, Status::Retired)
        .await
        .unwrap();
    assert_eq!(
        names(app.published("local").await.unwrap()),
        ["shout_total"]
    );
}
