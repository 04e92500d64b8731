//! The practice loop against the local OpenAI fake with recorded answers:
//! start → work → complete on a tiny curriculum
//! (tests/fixtures/practice/tiny.json), every reported number checked
//! against what the records imply.

use std::collections::HashMap;
use std::time::Duration;

use autolearn::app::App;
use autolearn::practice::curriculum::Curriculum;
use autolearn::practice::kpis::{project_kpis, project_trust};
use autolearn::practice::{Practice, PracticeOptions};
use autolearn::skills::{Requirement, Skill};
use autolearn::store::SkillStore;
use serde_json::{Value, json};

use crate::fake_llm::{Script, serve, temps};

const GOALS: [&str; 3] = ["tiny_double", "tiny_clamp", "tiny_double_capped"];

/// The recorded model (tests/fixtures/practice_recorded.json); with
/// `double_right` false, every candidate for `tiny_double` is wrong.
pub fn script(double_right: bool) -> Script {
    let recorded: Value =
        serde_json::from_str(include_str!("fixtures/practice_recorded.json")).unwrap();
    let pairs = |key: &str| -> Vec<(String, Value)> {
        recorded[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().to_owned(), p[1].clone()))
            .collect()
    };
    let mut by_request: Vec<(String, HashMap<String, String>)> = pairs("candidates")
        .into_iter()
        .map(|(needle, codes)| (needle, serde_json::from_value(codes).unwrap()))
        .collect();
    if !double_right {
        let wrong =
            |body: &str| format!("def tiny_double(x):\n    \"\"\"Recorded.\"\"\"\n    {body}\n");
        let codes = [
            "return 3 * x",
            "return x * 3",
            "return x + x + x",
            "return x",
        ];
        let (_, table) = by_request
            .iter_mut()
            .find(|(needle, _)| needle == "Double the integer x.")
            .unwrap();
        *table = temps(codes.map(wrong).each_ref().map(String::as_str));
    }
    Script {
        specs_by_request: pairs("specs"),
        // The dependant first: its prompt may quote the others' requests.
        by_request,
        ..Script::default()
    }
}

/// The tiny curriculum's directory.
pub fn tiny_curricula() -> &'static std::path::Path {
    std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/practice"
    ))
}

async fn practice(url: &str, db: &std::path::Path) -> Practice {
    let app = crate::fake_llm::app_on(url, SkillStore::open(db).await.unwrap()).await;
    let curriculum = Curriculum::from_dir(tiny_curricula()).unwrap();
    Practice::new(
        app,
        curriculum,
        PracticeOptions {
            candidates: 4,
            repair_rounds: 0,
        },
    )
}

/// The learnings log's entries about the project and its goals.
async fn logged(app: &App) -> Vec<autolearn::store::Learning> {
    let mut subjects: Vec<&str> = GOALS.to_vec();
    subjects.push("proj_tiny");
    app.learnings()
        .after("local", 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| subjects.contains(&l.subject.as_str()))
        .collect()
}

#[tokio::test]
async fn start_work_complete_reports_what_the_recorded_run_implies() {
    let (url, _fake) = serve(script(true)).await;
    let dir = crate::util::data_dir();
    let p = practice(&url, &dir.path().join("autolearn.db")).await;
    let app = p.app().clone();

    let overview = p.overview("local").await.unwrap();
    assert_eq!(
        overview["curriculum"],
        json!({"total_domains": 1, "domains_mastered": 0, "projects_completed": 0, "total_projects": 1, "total_goals": 3, "goals_trusted": 0})
    );
    let started = p.start("local", None).await.unwrap();
    assert_eq!(started["started"], true);
    assert_eq!(started["project"]["project_id"], "proj_tiny");
    assert_eq!(started["project"]["plan"]["total_phases"], 5);
    // 3 research + 3 implement + 3 test + 3 document + the KPIs.
    assert_eq!(started["project"]["plan"]["total_steps"], 13);
    let before = p.progress("local").await.unwrap();
    assert_eq!(before["active_project"]["progress"], 0.0);
    assert_eq!(
        before["active_project"]["waiting"],
        json!(["tiny_double_capped"])
    );

    let worked = p
        .work("local", Duration::from_secs(3600), None)
        .await
        .unwrap();
    assert_eq!(worked["progress"], 100.0, "{worked}");
    assert_eq!(worked["iterations"], 13, "one run per step, no retries");
    let steps = app
        .practice_book()
        .practice_steps("local", "proj_tiny")
        .await
        .unwrap();
    assert_eq!(
        worked["solutions_tested"], 12,
        "4 distinct programs per goal: {steps:#?}"
    );
    assert_eq!(worked["skills_published"], 3);
    // Correct code passes every held-back test: 3 + 2 + 3.
    assert_eq!(worked["held_back"], json!({"passed": 8, "total": 8}));
    let log = logged(&app).await;
    let edge_cases = log.iter().filter(|l| l.kind == "edge_case").count();
    assert_eq!(worked["edge_cases_found"], edge_cases);

    // The dependant pins the prerequisite it imports.
    let double = app.skills().get("local", "tiny_double").await.unwrap();
    let capped = app
        .skills()
        .get("local", "tiny_double_capped")
        .await
        .unwrap();
    assert_eq!(
        capped.manifest.requires,
        vec![Requirement {
            name: "tiny_double".into(),
            id: double.id.clone()
        }]
    );
    let doc = app
        .skills()
        .doc("local", &capped.id)
        .await
        .unwrap()
        .unwrap();
    assert!(doc.contains("## Builds on"), "{doc}");
    assert!(doc.contains("Edge cases it was hardened against"), "{doc}");

    let report = p.complete("local").await.unwrap();
    let mut skills: Vec<Skill> = Vec::new();
    for g in GOALS {
        skills.push(app.skills().get("local", g).await.unwrap());
    }
    let refs: Vec<&Skill> = skills.iter().collect();
    assert_eq!(report["trust_score"], json!(project_trust(&refs, 3)));
    assert_eq!(
        report["kpis"],
        serde_json::to_value(project_kpis(&refs)).unwrap()
    );
    assert!(report["trust_score"].as_f64().unwrap() >= 70.0, "{report}");
    assert_eq!(report["domain_mastery"], 100.0);
    // Every entry about the project since it started, the completion's own
    // entry excepted (it is written with the report).
    let counted = logged(&app).await.len() - 1;
    assert_eq!(report["learnings_count"], counted);
    assert_eq!(
        report["held_back"],
        json!({"passed": 8, "total": 8, "pass_rate": 100.0})
    );

    let overview = p.overview("local").await.unwrap();
    assert_eq!(overview["curriculum"]["projects_completed"], 1);
    assert_eq!(overview["curriculum"]["domains_mastered"], 1);
    assert!(
        SkillStore::open(&dir.path().join("autolearn.db"))
            .await
            .unwrap()
            .verify_learnings()
            .await
            .unwrap()
            .is_ok(),
        "the log is one valid chain"
    );
}

#[tokio::test]
async fn a_goal_whose_prerequisite_is_not_trusted_waits_and_is_never_attempted() {
    let (url, _fake) = serve(script(false)).await;
    let dir = crate::util::data_dir();
    let p = practice(&url, &dir.path().join("autolearn.db")).await;
    p.start("local", Some("proj_tiny")).await.unwrap();
    let worked = p
        .work("local", Duration::from_secs(3600), None)
        .await
        .unwrap();
    assert_eq!(worked["skills_published"], 1, "{worked}");
    assert_eq!(worked["goals_attempted"], 2, "{worked}");
    // 3 research + 3 attempts at tiny_double + tiny_clamp's implement,
    // test and document + the KPIs.
    assert_eq!(worked["iterations"], 10, "{worked}");
    assert_eq!(worked["progress"], 100.0, "nothing else can ever run");
    let log = logged(p.app()).await;
    assert!(
        !log.iter()
            .any(|l| l.subject == "tiny_double_capped" && l.kind == "attempt"),
        "the dependant must never be generated"
    );
    assert_eq!(
        log.iter()
            .filter(|l| l.subject == "tiny_double" && l.kind == "attempt")
            .count(),
        3
    );
    assert_eq!(worked["held_back"], json!({"passed": 2, "total": 2}));
}

#[tokio::test]
async fn every_shipped_reference_solution_passes_its_own_tests_in_the_sandbox() {
    crate::util::data_ready();
    let curriculum = Curriculum::shipped().unwrap();
    let wrong = autolearn::practice::curriculum::check(crate::util::sandbox(), &curriculum).await;
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(curriculum.goals().count(), 86);
}
