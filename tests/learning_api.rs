//! `/api/learning/*` over real HTTP with the recorded fake model and the
//! tiny curriculum: the brief's paths and shapes, refusals a script can act
//! on, work in the background with progress on the live feed, and a real
//! `kill -9` of the binary in the middle of work that the restart resumes,
//! losing no learning.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use autolearn::app::Event;
use autolearn::practice::curriculum::Curriculum;
use autolearn::practice::{Practice, PracticeOptions};
use autolearn::store::SkillStore;
use serde_json::{Value, json};

use crate::fake_llm::{Script, serve};
use crate::practice::{script, tiny_curricula};
use crate::util::Reaped;

async fn send(method: reqwest::Method, url: &str, body: Option<&str>) -> (u16, Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut r = reqwest::Client::new().request(method, url);
    if let Some(b) = body {
        r = r
            .header("content-type", "application/json")
            .body(b.to_owned());
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn get(url: &str) -> (u16, Value) {
    send(reqwest::Method::GET, url, None).await
}

async fn post(url: &str, body: Option<&str>) -> (u16, Value) {
    send(reqwest::Method::POST, url, body).await
}

/// Poll `/progress` until the project's work has stopped.
async fn worked(base: &str, within: Duration) -> Value {
    let until = Instant::now() + within;
    loop {
        let (status, p) = get(&format!("{base}/api/learning/progress")).await;
        assert_eq!(status, 200, "{p}");
        if p["active_project"]["working"] == false {
            return p["active_project"].clone();
        }
        assert!(Instant::now() < until, "work did not stop: {p}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_learning_api_has_the_briefs_paths_and_shapes() {
    let (url, _fake) = serve(Script {
        delay: Duration::from_millis(50),
        ..script(true)
    })
    .await;
    let dir = crate::util::data_dir();
    let store = SkillStore::open(&dir.path().join("db.sqlite"))
        .await
        .unwrap();
    let app = crate::fake_llm::app_on(&url, store).await;
    let practice = Practice::new(
        app.clone(),
        Curriculum::from_dir(tiny_curricula()).unwrap(),
        PracticeOptions {
            candidates: 4,
            repair_rounds: 0,
        },
    );
    let base = crate::util::serve(practice, None).await;
    let api = format!("{base}/api/learning");
    let mut feed = app.subscribe();

    let (status, overview) = get(&format!("{api}/curriculum/overview")).await;
    assert_eq!(status, 200);
    assert_eq!(overview["curriculum"]["total_domains"], 1);
    assert_eq!(overview["curriculum"]["domains_mastered"], 0);
    assert_eq!(overview["curriculum"]["projects_completed"], 0);
    assert_eq!(overview["priority_projects"][0]["project_id"], "proj_tiny");
    assert_eq!(overview["domains"]["testing"]["mastery"], 0.0);
    let (_, priority) = get(&format!("{api}/projects/priority")).await;
    assert_eq!(priority["projects"][0]["status"], "not_started");
    let (_, status_now) = get(&format!("{api}/status")).await;
    assert_eq!(status_now["active_project"], Value::Null);
    assert_eq!(status_now["llm"]["backend"], "openai");

    // Refusals a script can act on.
    for (path, body, code, kind) in [
        ("project/work", Some(r#"{"hours": 1}"#), 409, "no_project"),
        ("project/complete", None, 409, "no_project"),
        (
            "project/start",
            Some(r#"{"project_id": "nope"}"#),
            404,
            "unknown_project",
        ),
        ("project/start", Some("{not json"), 400, "bad_request"),
        (
            "project/start",
            Some(r#"{"project": "x"}"#),
            400,
            "bad_request",
        ),
    ] {
        let (status, e) = post(&format!("{api}/{path}"), body).await;
        assert_eq!(
            (status, e["error"]["kind"].as_str()),
            (code, Some(kind)),
            "{path} {body:?}: {e}"
        );
    }

    // Start with no body, as the brief's curl does: the manager picks.
    let (status, started) = post(&format!("{api}/project/start"), None).await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["started"], true);
    assert_eq!(started["project"]["project_id"], "proj_tiny");
    assert_eq!(started["project"]["domain"], "testing");
    assert_eq!(started["project"]["plan"]["total_phases"], 5);
    let (_, again) = post(&format!("{api}/project/start"), None).await;
    assert_eq!(
        again["started"], false,
        "the project in progress is answered"
    );

    for bad in [
        r#"{"hours": 0}"#,
        r#"{"hours": -1}"#,
        r#"{"hours": 25}"#,
        r#"{"hours": "1"}"#,
        "{}",
        r#"{"hours": 1e999}"#,
    ] {
        let (status, e) = post(&format!("{api}/project/work"), Some(bad)).await;
        assert_eq!(status, 400, "{bad}: {e}");
    }

    // Work runs in the background: 202 at once, with the brief's fields.
    let (status, w) = post(&format!("{api}/project/work"), Some(r#"{"hours": 1}"#)).await;
    assert_eq!(status, 202, "{w}");
    for field in [
        "project_id",
        "progress",
        "iterations",
        "edge_cases_found",
        "solutions_tested",
        "learnings",
    ] {
        assert!(w.get(field).is_some(), "{field} missing: {w}");
    }
    assert_eq!(w["working"], true);
    let (status, e) = post(&format!("{api}/project/work"), Some(r#"{"hours": 1}"#)).await;
    assert_eq!(
        (status, e["error"]["kind"].as_str()),
        (409, Some("working")),
        "{e}"
    );
    let (status, e) = post(&format!("{api}/project/complete"), None).await;
    assert_eq!(
        (status, e["error"]["kind"].as_str()),
        (409, Some("working")),
        "{e}"
    );

    let done = worked(&base.clone(), Duration::from_secs(120)).await;
    assert_eq!(done["progress"], 100.0, "{done}");
    assert_eq!(done["iterations"], 13, "{done}");
    assert_eq!(done["skills_published"], 3, "{done}");
    assert_eq!(done["held_back"], json!({"passed": 8, "total": 8}));

    // Every step reached the live feed (the web UI's WebSocket).
    let (mut steps, mut added) = (Vec::new(), Vec::new());
    loop {
        let e = tokio::time::timeout(Duration::from_secs(10), feed.recv())
            .await
            .expect("work ends with a practice_stopped event")
            .unwrap();
        match &*e.event {
            Event::Practice(n) if n.kind() == Some("practice") => steps.push(n.0.clone()),
            Event::Practice(n) => {
                assert_eq!(n.kind(), Some("practice_stopped"), "{n:?}");
                assert_eq!(n.0["project_id"], "proj_tiny");
                assert_eq!(n.0["error"], Value::Null);
                break;
            }
            Event::SkillAdded { name, .. } => added.push(name.clone()),
            _ => {}
        }
    }
    assert_eq!(steps.len(), 13, "{steps:#?}");
    assert_eq!(
        added.len(),
        3,
        "each published skill is announced: {added:?}"
    );
    assert_eq!(steps.last().unwrap()["progress"], 100.0);
    assert_eq!(steps.last().unwrap()["phase_progress"], 100.0);

    let (status, report) = post(&format!("{api}/project/complete"), None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["project_id"], "proj_tiny");
    assert!(report["trust_score"].as_f64().unwrap() >= 70.0, "{report}");
    for kpi in [
        "code_quality_score",
        "test_coverage",
        "performance_score",
        "documentation_score",
    ] {
        let v = report["kpis"][kpi].as_f64().unwrap_or(-1.0);
        assert!((0.0..=100.0).contains(&v), "{kpi}: {report}");
    }
    assert!(report["learnings_count"].as_u64().unwrap() > 0);
    assert_eq!(report["domain_mastery"], 100.0);
    let (_, overview) = get(&format!("{api}/curriculum/overview")).await;
    assert_eq!(overview["curriculum"]["projects_completed"], 1);
    assert_eq!(overview["curriculum"]["domains_mastered"], 1);
    let (status, e) = post(&format!("{api}/project/start"), None).await;
    assert_eq!(
        (status, e["error"]["kind"].as_str()),
        (409, Some("all_complete"))
    );

    // The doc practice wrote comes with the skill.
    let (_, skill) = get(&format!("{base}/api/skills/tiny_double_capped")).await;
    assert!(
        skill["doc"]
            .as_str()
            .unwrap()
            .contains("Edge cases it was hardened against"),
        "{skill}"
    );
}

/// `autolearn serve` on the tiny curriculum with the fake model.
fn spawn_server(data: &std::path::Path, model: &str) -> (Reaped, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_autolearn"))
        .args(["serve", "--addr", "127.0.0.1:0", "--curricula"])
        .arg(tiny_curricula())
        .env("AUTOLEARN_DATA_DIR", data)
        .env("AUTOLEARN_ARTIFACT", crate::util::artifact())
        .env("AUTOLEARN_CACHE_DIR", crate::util::cache_dir())
        .env("AUTOLEARN_LLM", "openai")
        .env("OPENAI_BASE_URL", model)
        .env("OPENAI_API_KEY", "")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let url = loop {
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        if let Some(rest) = line.strip_prefix("autolearn listening on ") {
            break rest.trim_end_matches("/mcp").to_owned();
        }
    };
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (Reaped(child), url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_of_work_resumes_it_losing_no_learning() {
    // A slow model, so that the kill lands between steps and inside one.
    let (model, _fake) = serve(Script {
        delay: Duration::from_millis(150),
        ..script(true)
    })
    .await;
    let dir = crate::util::data_dir();
    let (first, base) = spawn_server(dir.path(), &model);
    let api = format!("{base}/api/learning");
    let (status, _) = post(&format!("{api}/project/start"), None).await;
    assert_eq!(status, 200);
    let (status, _) = post(&format!("{api}/project/work"), Some(r#"{"hours": 1}"#)).await;
    assert_eq!(status, 202);

    // Kill it once the first implement step is recorded.
    let until = Instant::now() + Duration::from_secs(120);
    let before = loop {
        let (_, p) = get(&format!("{api}/progress")).await;
        if p["active_project"]["iterations"].as_u64().unwrap_or(0) >= 4 {
            break p["active_project"].clone();
        }
        assert!(Instant::now() < until, "no progress: {p}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (_, log) = get(&format!("{base}/api/learnings?limit=1000")).await;
    drop(first); // SIGKILL, as kill -9: no shutdown, no drain
    let logged_before: Vec<Value> = log["learnings"].as_array().unwrap().clone();
    assert!(before["progress"].as_f64().unwrap() < 100.0, "{before}");
    assert!(!logged_before.is_empty());

    // The restart resumes the owed work by itself: nobody asks again.
    let (second, base) = spawn_server(dir.path(), &model);
    let done = worked(&base, Duration::from_secs(180)).await;
    assert_eq!(done["progress"], 100.0, "{done}");
    assert_eq!(done["skills_published"], 3, "{done}");
    assert_eq!(done["held_back"], json!({"passed": 8, "total": 8}));
    assert!(done["iterations"].as_u64().unwrap() >= 13, "{done}");
    assert!(done["learnings"].as_u64().unwrap() >= before["learnings"].as_u64().unwrap());

    // Every learning logged before the kill is still there, unchanged, and
    // the log is still one valid chain.
    let (_, log) = get(&format!("{base}/api/learnings?limit=1000")).await;
    let after = log["learnings"].as_array().unwrap();
    for entry in &logged_before {
        assert!(after.contains(entry), "lost: {entry}");
    }
    drop(second);
    let store = SkillStore::open(&dir.path().join("autolearn.db"))
        .await
        .unwrap();
    assert!(
        store.verify_learnings().await.unwrap().is_ok(),
        "one valid chain"
    );
}
