//! Per-tenant quotas trip exactly at their number, per tenant, across two
//! replicas (two apps, each with its own pool, on one database), on both
//! backends; refusals are counted in the metrics.

use std::time::Duration;

use autolearn::app::{App, RunError};
use autolearn::quota::{QuotaKind, Quotas};
use autolearn::sandbox::{Determinism, ResourceLimits};
use autolearn::skills::{Example, Provenance, SkillManifest};
use autolearn::store::{SkillStore, StoreError};
use serde_json::json;

use crate::db::TestDb;

crate::on_both_backends!(
    calls_per_minute_trips_at_its_number_per_tenant_across_replicas,
    concurrent_calls_hold_across_replicas,
    fuel_per_day_is_never_overspent,
    the_skills_quota_counts_live_names,
    generations_per_day_trip_at_their_number,
    run_python_cells_count_as_calls,
);

fn skill(name: &str, body: &str) -> SkillManifest {
    SkillManifest {
        runtime: Default::default(),
        memoize: false,
        requires: Vec::new(),
        name: name.into(),
        description: "A quota test skill.".into(),
        input_schema: json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}),
        output_schema: None,
        source: format!("def f(n):\n    \"\"\"Work n times.\"\"\"\n{body}\n"),
        entry: "f".into(),
        examples: vec![Example {
            input: json!({"n": 1}),
            output: json!(1),
        }],
    }
}

/// A "replica": an app on the test database with its own pool and
/// caches, and that pool's store, for what the test reads beneath the app.
struct Replica {
    app: App,
    store: SkillStore,
}

impl std::ops::Deref for Replica {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

/// Two replicas on one database.
async fn replicas(db: &TestDb) -> (Replica, Replica) {
    let sandbox = crate::util::new_sandbox();
    let (sa, sb) = (db.open().await, db.open().await);
    (
        Replica {
            app: App::new(sa.clone(), sandbox.clone()),
            store: sa,
        },
        Replica {
            app: App::new(sb.clone(), sandbox),
            store: sb,
        },
    )
}

async fn tenant_with(r: &Replica, name: &str, quotas: &[(&str, &str)]) {
    r.store.create_tenant(name).await.unwrap();
    let mut q = Quotas::default();
    for (k, v) in quotas {
        q.set(k, v).unwrap();
    }
    r.store.set_tenant_quotas(name, &q).await.unwrap();
}

async fn add(app: &App, tenant: &str, m: SkillManifest) {
    app.skills()
        .add(tenant, m, Provenance::Authored)
        .await
        .unwrap();
}

async fn call(app: &App, tenant: &str, name: &str, n: i64) -> Result<serde_json::Value, RunError> {
    app.calls()
        .run(
            tenant,
            name,
            &json!({"n": n}),
            ResourceLimits::default(),
            Determinism::Seeded(1),
        )
        .await
        .map(|r| r.value)
}

fn quota_kind(r: Result<serde_json::Value, RunError>) -> QuotaKind {
    match r {
        Err(RunError::Quota(q)) => q.kind,
        other => panic!("expected a quota refusal, got {other:?}"),
    }
}

const COUNT: &str = "    return n";

/// Leave at least 20 s of the current UTC minute, so that a window change
/// cannot reset the counters mid-test.
async fn away_from_a_minute_boundary() {
    let now = autolearn::store::now_ms();
    let left = 60_000 - now.rem_euclid(60_000);
    if left < 20_000 {
        tokio::time::sleep(Duration::from_millis(u64::try_from(left).unwrap() + 50)).await;
    }
}

async fn calls_per_minute_trips_at_its_number_per_tenant_across_replicas(db: TestDb) {
    let (a, b) = replicas(&db).await;
    tenant_with(&a, "capped", &[("calls_per_minute", "5")]).await;
    tenant_with(&a, "free", &[]).await;
    add(&a, "capped", skill("count", COUNT)).await;
    add(&a, "free", skill("count", COUNT)).await;
    away_from_a_minute_boundary().await;
    for i in 0..5 {
        let replica = if i % 2 == 0 { &a } else { &b };
        assert_eq!(call(replica, "capped", "count", i).await.unwrap(), json!(i));
    }
    // The sixth, on either replica, is refused, with the window's end.
    for replica in [&a, &b] {
        match call(replica, "capped", "count", 6).await {
            Err(RunError::Quota(q)) => {
                assert_eq!((q.kind, q.limit), (QuotaKind::CallsPerMinute, 5));
                let retry = q.retry_after_secs().unwrap();
                assert!((1..=60).contains(&retry), "{retry}");
            }
            other => panic!("expected a quota refusal, got {other:?}"),
        }
    }
    // Another tenant is not touched by it.
    for i in 0..8 {
        call(&b, "free", "count", i).await.unwrap();
    }
    let used = a.store.quota_usage("capped").await.unwrap();
    assert!(used.contains(&(QuotaKind::CallsPerMinute, 5)), "{used:?}");
    // Refusals are counted, and so are the calls each replica served.
    let metrics = a.render_metrics();
    assert!(
        metrics.contains(
            r#"autolearn_quota_rejections_total{tenant="capped",quota="calls_per_minute"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"autolearn_skill_calls_total{tenant="capped",outcome="ok"} 3"#),
        "{metrics}"
    );
    let metrics = b.render_metrics();
    assert!(metrics.contains(r#"autolearn_skill_calls_total{tenant="free",outcome="ok"} 8"#));
}

async fn concurrent_calls_hold_across_replicas(db: TestDb) {
    let (a, b) = replicas(&db).await;
    tenant_with(&a, "t", &[("concurrent_calls", "1")]).await;
    // Slow enough to be caught running; fast enough for a test.
    add(
        &a,
        "t",
        skill(
            "slow",
            "    s = 0\n    for i in range(n):\n        s += i % 7\n    return n",
        ),
    )
    .await;
    let running = {
        let a = a.clone();
        tokio::spawn(async move { call(&a, "t", "slow", 1_000_000).await })
    };
    // Wait until the first call holds its slot.
    let mut held = false;
    for _ in 0..200 {
        let used = b.store.quota_usage("t").await.unwrap();
        if used.contains(&(QuotaKind::ConcurrentCalls, 1)) {
            held = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(held, "the first call never took its slot");
    assert_eq!(
        quota_kind(call(&b, "t", "slow", 1).await),
        QuotaKind::ConcurrentCalls
    );
    assert_eq!(running.await.unwrap().unwrap(), json!(1_000_000));
    // Its slot is free again: the next call runs.
    assert_eq!(call(&b, "t", "slow", 1).await.unwrap(), json!(1));
    let used = b.store.quota_usage("t").await.unwrap();
    assert!(used.contains(&(QuotaKind::ConcurrentCalls, 0)), "{used:?}");
}

async fn fuel_per_day_is_never_overspent(db: TestDb) {
    let (a, b) = replicas(&db).await;
    a.store.create_tenant("probe").await.unwrap();
    add(&a, "probe", skill("count", COUNT)).await;
    // What one call burns (deterministic: same code, same input, same seed).
    let fuel = |app: App| async move {
        app.calls()
            .run(
                "probe",
                "count",
                &json!({"n": 1}),
                ResourceLimits::default(),
                Determinism::Seeded(1),
            )
            .await
            .unwrap()
            .output
            .fuel_used
    };
    let f = fuel(a.clone()).await;
    assert_eq!(fuel(b.clone()).await, f, "fuel per call is deterministic");

    let day = f * 3 + f / 2;
    tenant_with(&a, "t", &[("fuel_per_day", &day.to_string())]).await;
    add(&a, "t", skill("count", COUNT)).await;
    for (i, replica) in [&a, &b, &a].into_iter().enumerate() {
        call(replica, "t", "count", 1)
            .await
            .unwrap_or_else(|e| panic!("call {i}: {e}"));
    }
    // The fourth has half a call's fuel left: it is stopped by the quota,
    // which it spends exactly; the fifth is refused before it runs.
    assert_eq!(
        quota_kind(call(&b, "t", "count", 1).await),
        QuotaKind::FuelPerDay
    );
    let used = a.store.quota_usage("t").await.unwrap();
    assert!(used.contains(&(QuotaKind::FuelPerDay, day)), "{used:?}");
    assert_eq!(
        quota_kind(call(&a, "t", "count", 1).await),
        QuotaKind::FuelPerDay
    );
    let used = a.store.quota_usage("t").await.unwrap();
    assert!(used.contains(&(QuotaKind::FuelPerDay, day)), "{used:?}");
}

async fn the_skills_quota_counts_live_names(db: TestDb) {
    let (a, b) = replicas(&db).await;
    tenant_with(&a, "t", &[("skills", "2")]).await;
    add(&a, "t", skill("one", COUNT)).await;
    add(&b, "t", skill("two", COUNT)).await;
    let refused = b
        .skills()
        .add("t", skill("three", COUNT), Provenance::Authored)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &refused,
            autolearn::app::AddError::Store(StoreError::Quota(q)) if q.kind == QuotaKind::Skills && q.retry_after.is_none()
        ),
        "{refused}"
    );
    // A new version of a stored name is not a new skill.
    add(&a, "t", skill("two", "    return n + 0")).await;
    // Retiring one makes room.
    a.skills().retire("t", "one").await.unwrap();
    add(&b, "t", skill("three", COUNT)).await;
    assert_eq!(a.store.live_skills("t").await.unwrap(), 2);
    // Other tenants are not counted.
    add(&a, "local", skill("one", COUNT)).await;
}

async fn generations_per_day_trip_at_their_number(db: TestDb) {
    let (a, b) = replicas(&db).await;
    tenant_with(&a, "t", &[("generations_per_day", "3")]).await;
    let quotas = a.store.tenant_quotas("t").await.unwrap();
    for (i, replica) in [&a, &b, &a].into_iter().enumerate() {
        replica
            .store
            .begin_generation("t", &quotas)
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("generation {i}: {e}"));
    }
    let refused = b
        .store
        .begin_generation("t", &quotas)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.kind, QuotaKind::GenerationsPerDay);
    assert!(refused.retry_after_secs().unwrap() <= 86_400);
    // Unlimited tenants are never counted.
    let none = Quotas::default();
    for _ in 0..5 {
        a.store.begin_generation("u", &none).await.unwrap().unwrap();
    }
}

async fn run_python_cells_count_as_calls(db: TestDb) {
    let (a, b) = replicas(&db).await;
    tenant_with(&a, "t", &[("calls_per_minute", "3")]).await;
    away_from_a_minute_boundary().await;
    let cell = |app: App| async move {
        app.traces()
            .run_python(
                "t",
                "1 + 1",
                &json!({}),
                ResourceLimits::default(),
                &autolearn::trace::TraceRef::Open,
            )
            .await
    };
    // A skill call and two cells use up the minute, on either replica.
    add(&a, "t", skill("count", COUNT)).await;
    call(&a, "t", "count", 1).await.unwrap();
    for replica in [&a, &b] {
        let step = cell(replica.app.clone()).await.unwrap();
        assert_eq!(step.outcome.unwrap().value, json!(2));
    }
    match cell(b.app.clone()).await {
        Err(RunError::Quota(q)) => assert_eq!(q.kind, QuotaKind::CallsPerMinute),
        other => panic!(
            "expected a quota refusal, got {:?}",
            other.map(|s| s.outcome)
        ),
    }
    assert_eq!(
        quota_kind(call(&a, "t", "count", 1).await),
        QuotaKind::CallsPerMinute
    );
}
