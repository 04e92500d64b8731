//! Traces in the store: which trace a step joins, the caps, pruning.

use std::time::Duration;

use autolearn::store::{SkillStore, StepCost, TraceCaps};

use crate::db::TestDb;

crate::on_both_backends!(
    steps_join_the_trace_their_reference_names,
    an_idle_open_trace_closes_and_a_new_one_starts,
    the_oldest_steps_go_past_the_step_and_byte_caps,
    pruning_keeps_each_tenants_newest_traces,
);
use autolearn::trace::{Step, TraceId, TraceRef};
use serde_json::json;

fn step(code: &str, pad: usize) -> Step {
    Step {
        code: code.into(),
        inputs: json!({"pad": "x".repeat(pad)})
            .as_object()
            .cloned()
            .unwrap(),
        value: Some(json!(1)),
        names: vec![],
        bound: Default::default(),
        error: None,
        answer: false,
        runtime: Default::default(),
    }
}

async fn codes_of(store: &SkillStore, id: &TraceId) -> Vec<String> {
    let steps = store.trace_steps("t", id).await.unwrap();
    steps.into_iter().map(|s| s.code).collect()
}

const CAPS: TraceCaps = TraceCaps {
    steps: 256,
    bytes: 4 << 20,
    idle: Duration::from_secs(1800),
};

async fn steps_join_the_trace_their_reference_names(db: TestDb) {
    let store = db.open().await;
    let cost = StepCost::default();
    let a = store
        .record_step("t", &TraceRef::Open, &step("1", 0), cost, CAPS)
        .await
        .unwrap();
    let answered = Step {
        answer: true,
        ..step("2", 0)
    };
    let b = store
        .record_step("t", &TraceRef::Open, &answered, cost, CAPS)
        .await
        .unwrap();
    assert_eq!((a.trace.clone(), a.step, b.step), (b.trace.clone(), 1, 2));
    // Which step the agent reported as its answer is kept.
    let kept = store.trace_steps("t", &a.trace).await.unwrap();
    assert_eq!(
        kept.iter().map(|s| s.answer).collect::<Vec<_>>(),
        [false, true]
    );
    // Another tenant, a session and an explicit id each get their own.
    let other = store
        .record_step("u", &TraceRef::Open, &step("1", 0), cost, CAPS)
        .await
        .unwrap();
    let session = TraceRef::Session("s1".into());
    let s = store
        .record_step("t", &session, &step("1", 0), cost, CAPS)
        .await
        .unwrap();
    let named = TraceRef::Id("mine".parse().unwrap());
    let n = store
        .record_step("t", &named, &step("1", 0), cost, CAPS)
        .await
        .unwrap();
    let ids = [&a.trace, &other.trace, &s.trace, &n.trace];
    for (i, x) in ids.iter().enumerate() {
        for y in &ids[i + 1..] {
            assert_ne!(x, y);
        }
    }
    assert_eq!(n.trace.as_str(), "mine");
    let again = store
        .record_step("t", &session, &step("2", 0), cost, CAPS)
        .await
        .unwrap();
    assert_eq!((again.trace, again.step), (s.trace, 2));
    // Another tenant cannot see or continue "mine".
    assert!(
        store
            .find_trace("u", &named, CAPS.idle)
            .await
            .unwrap()
            .is_none()
    );
}

async fn an_idle_open_trace_closes_and_a_new_one_starts(db: TestDb) {
    let store = db.open().await;
    let idle = TraceCaps {
        idle: Duration::ZERO,
        ..CAPS
    };
    let a = store
        .record_step(
            "t",
            &TraceRef::Open,
            &step("1", 0),
            StepCost::default(),
            idle,
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let b = store
        .record_step(
            "t",
            &TraceRef::Open,
            &step("2", 0),
            StepCost::default(),
            idle,
        )
        .await
        .unwrap();
    assert_ne!(a.trace, b.trace);
    let listed = store.list_traces("t", 10).await.unwrap();
    assert!(listed.iter().find(|t| t.id == a.trace).unwrap().closed);
}

async fn the_oldest_steps_go_past_the_step_and_byte_caps(db: TestDb) {
    let store = db.open().await;
    let caps = TraceCaps {
        steps: 3,
        bytes: 10_000,
        ..CAPS
    };
    let which = TraceRef::Id("capped".parse().unwrap());
    for i in 0..5 {
        store
            .record_step(
                "t",
                &which,
                &step(&i.to_string(), 10),
                StepCost::default(),
                caps,
            )
            .await
            .unwrap();
    }
    let id: TraceId = "capped".parse().unwrap();
    let codes = codes_of(&store, &id).await;
    assert_eq!(codes, ["2", "3", "4"]);
    // Two 6 KB steps do not fit in 10 KB: oldest first, everything before
    // the second goes.
    for big in ["big1", "big2"] {
        store
            .record_step("t", &which, &step(big, 6_000), StepCost::default(), caps)
            .await
            .unwrap();
    }
    let codes = codes_of(&store, &id).await;
    assert_eq!(codes, ["big2"]);
    // A step larger than the cap alone is kept: the newest always stays.
    store
        .record_step(
            "t",
            &which,
            &step("huge", 20_000),
            StepCost::default(),
            caps,
        )
        .await
        .unwrap();
    let codes = codes_of(&store, &id).await;
    assert_eq!(codes, ["huge"]);
}

async fn pruning_keeps_each_tenants_newest_traces(db: TestDb) {
    let store = db.open().await;
    for tenant in ["a", "b"] {
        for i in 0..5 {
            let which = TraceRef::Id(format!("t{i}").parse().unwrap());
            store
                .record_step(tenant, &which, &step("1", 0), StepCost::default(), CAPS)
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let gone = store
        .prune_traces(Duration::from_secs(3600), 2)
        .await
        .unwrap();
    assert_eq!(gone, 6);
    let kept: Vec<String> = store
        .list_traces("a", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id.to_string())
        .collect();
    assert_eq!(kept, ["t4", "t3"]);
    assert!(
        store
            .trace_steps("a", &"t0".parse().unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.prune_traces(Duration::ZERO, 10).await.unwrap(), 4);
}
