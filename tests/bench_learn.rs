//! `autolearn bench learn`: the shipped practice set is right, and the
//! benchmark counts what it claims to, against the fake OpenAI endpoint.

use std::process::Command;

use autolearn::bench::learn::{PracticeSet, SHIPPED, check};
use serde_json::{Value, json};

use crate::fake_llm::{Script, serve, temps};

#[tokio::test]
async fn the_shipped_practice_set_is_big_enough_and_its_references_pass() {
    let set = PracticeSet::parse(SHIPPED).unwrap();
    assert!(set.tasks.len() >= 30, "{} tasks", set.tasks.len());
    for domain in ["crm", "ecommerce", "finance", "text", "timeseries", "data"] {
        let n = set.tasks.iter().filter(|t| t.domain == domain).count();
        assert!(n >= 5, "{domain}: {n} tasks");
    }
    assert!(
        set.tasks
            .iter()
            .all(|t| !t.examples.is_empty() && t.tests.len() >= 3)
    );
    let sandbox = crate::util::new_sandbox();
    assert_eq!(check(&sandbox, &set).await, Vec::<String>::new());

    // And the check can fail: a wrong reference and a wrong exception type.
    let mut broken = set.clone();
    broken.tasks[0].reference = broken.tasks[0]
        .reference
        .replace("return e\n", "return e.upper()\n");
    let chunk = broken
        .tasks
        .iter_mut()
        .find(|t| t.id == "de_chunk")
        .unwrap();
    chunk.reference = chunk.reference.replace("ValueError(", "TypeError(");
    let wrong = check(&sandbox, &broken).await;
    assert_eq!(wrong.len(), 2, "{wrong:?}");
    assert!(
        wrong[1].starts_with("de_chunk: the reference passes"),
        "{wrong:?}"
    );
}

/// The unseen sets (`practice/second.json` and `practice/third.json`, each
/// written before any run on it, for measuring rules tuned on the sets
/// before) stay valid: unique ids, every reference passes its own examples
/// and tests, no request repeats one of an earlier set's.
#[tokio::test]
async fn the_unseen_practice_sets_are_valid_and_apart_from_the_earlier_ones() {
    let read = |name: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
        PracticeSet::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let mut earlier = vec![PracticeSet::parse(SHIPPED).unwrap()];
    let sandbox = crate::util::new_sandbox();
    for name in ["practice/second.json", "practice/third.json"] {
        let set = read(name);
        assert!(set.tasks.len() >= 18, "{name}: {} tasks", set.tasks.len());
        for t in &set.tasks {
            assert!(
                earlier
                    .iter()
                    .flat_map(|e| &e.tasks)
                    .all(|s| s.id != t.id && s.request != t.request && s.entry != t.entry),
                "{name}: {} is in an earlier set",
                t.id
            );
        }
        assert_eq!(check(&sandbox, &set).await, Vec::<String>::new(), "{name}");
        earlier.push(set);
    }
}

const DOUBLE: &str = "def double(x):\n    \"\"\"Double x.\"\"\"\n    return 2 * x\n";
const INC: &str = "def inc(x):\n    \"\"\"Add one to x.\"\"\"\n    return x + 1\n";
const INC_TOO: &str = "def inc(x):\n    \"\"\"Add one to x.\"\"\"\n    return 1 + x\n";
const INC_THREE: &str = "def inc(x):\n    \"\"\"Add one to x.\"\"\"\n    y = x\n    return y + 1\n";
/// Off by one: the greedy sample, published as it is by the baseline,
/// dropped by the pipeline (it fails the example).
const INC_OFF: &str = "def inc(x):\n    \"\"\"Add one to x.\"\"\"\n    return x + 2\n";

/// `autolearn bench learn --set SET ARGS --json` against the fake model
/// at `url`: its tables and its JSON report.
async fn bench(
    url: &str,
    dir: &tempfile::TempDir,
    set: &std::path::Path,
    args: &[&str],
) -> (String, Value) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_autolearn"));
    command
        .args(["--llm", "openai", "--openai-base-url", url])
        .args(["bench", "learn", "--set"])
        .arg(set)
        .args(args)
        .arg("--json")
        .env("AUTOLEARN_DATA_DIR", dir.path())
        .env("AUTOLEARN_ARTIFACT", crate::util::artifact())
        .env("AUTOLEARN_CACHE_DIR", crate::util::cache_dir());
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    (stdout, report)
}

fn task(id: &str, request: &str, examples: Value, tests: Value, reference: &str) -> Value {
    json!({"id": id, "domain": "data", "request": request, "examples": examples,
           "tests": tests, "entry": id, "reference": reference})
}

#[tokio::test]
async fn the_benchmark_counts_single_samples_and_published_skills_against_held_back_tests() {
    let (url, _) = serve(Script {
        spec: json!({"name": "ignored", "description": "Arithmetic on x.",
                     "parameters": [{"name": "x", "type": "integer", "description": "A whole number."}],
                     "returns": "integer", "example_inputs": [{"x": 7}]}),
        by_request: vec![
            ("Double the number".into(), temps([DOUBLE; 4])),
            (
                "Add one to".into(),
                temps([INC_OFF, INC, INC_TOO, INC_THREE]),
            ),
        ],
        ..Default::default()
    })
    .await;
    let dir = crate::util::data_dir();
    let set = dir.path().join("set.json");
    let tasks = json!({"format": 1, "tasks": [
        task("double", "Double the number x.",
             json!([{"input": {"x": 2}, "output": 4}, {"input": {"x": 3}, "output": 6}]),
             json!([{"input": {"x": 5}, "output": 10}, {"input": {"x": -1}, "output": -2}, {"input": {"x": 0}, "output": 0}]),
             DOUBLE),
        task("inc", "Add one to the number x.",
             json!([{"input": {"x": 1}, "output": 2}]),
             json!([{"input": {"x": 0}, "output": 1}, {"input": {"x": -5}, "output": -4}, {"input": {"x": 9}, "output": 10.0}]),
             INC),
    ]});
    std::fs::write(&set, tasks.to_string()).unwrap();
    let (stdout, r) = bench(
        &url,
        &dir,
        &set,
        &["--candidates", "4", "--raw", "--ask", "oracle"],
    )
    .await;
    assert!(stdout.contains("single sample"), "{stdout}");

    let all = &r["all"];
    assert_eq!(all["requests"], 2);
    // The halves alternate within a domain: `double` is dev, `inc` held out.
    assert_eq!(r["tasks"][0]["half"], "dev");
    assert_eq!(r["tasks"][1]["half"], "held-out");
    assert_eq!(
        (
            r["dev"]["requests"].clone(),
            r["held_out"]["requests"].clone()
        ),
        (json!(1), json!(1))
    );
    // The raw model's greedy answer: right for `double`, off by one for
    // `inc`.
    assert_eq!(all["raw_correct"], 1);
    assert_eq!(r["held_out"]["raw_correct"], 0);
    // The greedy sample of `inc` is off by one: the baseline passes one
    // request of two. Grading counts the examples too (3 tests + 1).
    assert_eq!(all["single_correct"], 1);
    assert_eq!(all["single_pass_rate"], 50.0);
    assert_eq!(r["tasks"][1]["single"], json!({"passed": 0, "total": 4}));
    // `inc`: the three distinct programs that pass the example agree, so
    // the winner is right, and published; nothing was disputed, so the
    // oracle was asked nothing.
    assert_eq!(r["tasks"][1]["held_back"], json!({"passed": 4, "total": 4}));
    assert_eq!(r["tasks"][1]["published"], true);
    assert_eq!(r["tasks"][1]["questions"], 0);
    // `double`: four samples of one program are one program, with nobody
    // to agree with: right, but kept as a draft. Nothing is disputed, so
    // the oracle was asked to confirm its answers on new inputs (as many
    // as a request may ask), which it did.
    assert_eq!(r["tasks"][0]["questions"], 3);
    assert_eq!(all["questions"], 3);
    assert_eq!(r["tasks"][0]["candidates"], 1);
    assert_eq!(r["tasks"][0]["held_back"], json!({"passed": 5, "total": 5}));
    assert_eq!(r["tasks"][0]["published"], false);
    assert_eq!(all["published"], 1);
    assert_eq!(all["published_correct"], 1);
    assert_eq!(all["precision"], 100.0);
    assert_eq!(all["pipeline_pass_rate"], 50.0);
    assert_eq!(all["draft_rate"], 50.0);
    assert_eq!(all["stored_correct"], 2);
    assert_eq!(all["trust_wrong"], Value::Null);
    assert!(all["trust_correct"].as_f64().unwrap() > 0.0);
    // The calibration puts both stored skills in their trust buckets.
    let stored: u64 = all["calibration"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["skills"].as_u64().unwrap())
        .sum();
    assert_eq!(stored, 2);
    // Every call of the fake reports 100 + 50 tokens.
    let usage = &r["usage"];
    assert_eq!(
        usage["prompt_tokens"].as_u64().unwrap(),
        2 * usage["completion_tokens"].as_u64().unwrap()
    );
    // A remote API measures no decode time of its own.
    assert_eq!(r["decode_tokens_per_sec"], Value::Null);
}

/// Two programs that leave negative numbers as they are, two that clip
/// them; the other four samples of eight do not compile. The split ties,
/// and the tie goes to the earlier sample: a draft, keeping negatives.
const CLIP_KEEPS: &str = "def clip(x):\n    \"\"\"Clip x at zero.\"\"\"\n    return x\n";
const CLIP_KEEPS_TOO: &str = "def clip(x):\n    \"\"\"Clip x at zero.\"\"\"\n    return x + 0\n";
const CLIP: &str = "def clip(x):\n    \"\"\"Clip x at zero.\"\"\"\n    return max(x, 0)\n";
const CLIP_TOO: &str =
    "def clip(x):\n    \"\"\"Clip x at zero.\"\"\"\n    return x if x > 0 else 0\n";

#[tokio::test]
async fn a_follow_up_with_the_oracles_answers_is_reported_beside_the_pipeline() {
    let (url, _) = serve(Script {
        spec: json!({"name": "ignored", "description": "Clip x at zero.",
                     "parameters": [{"name": "x", "type": "integer", "description": "A whole number."}],
                     "returns": "integer", "example_inputs": [{"x": 7}]}),
        by_request: vec![(
            "Clip".into(),
            temps([CLIP_KEEPS, CLIP, CLIP_KEEPS_TOO, CLIP_TOO]),
        )],
        ..Default::default()
    })
    .await;
    let dir = crate::util::data_dir();
    let set = dir.path().join("set.json");
    let tasks = json!({"format": 1, "tasks": [
        task("clip", "Clip the number x at zero: negative numbers become 0.",
             json!([{"input": {"x": 3}, "output": 3}, {"input": {"x": 5}, "output": 5}]),
             json!([{"input": {"x": -4}, "output": 0}, {"input": {"x": 0}, "output": 0}, {"input": {"x": 8}, "output": 8}]),
             CLIP),
    ]});
    std::fs::write(&set, tasks.to_string()).unwrap();
    let (stdout, r) = bench(
        &url,
        &dir,
        &set,
        &["--candidates", "8", "--ask", "follow-up"],
    )
    .await;
    assert!(
        stdout.contains("with answers: correct and published"),
        "{stdout}"
    );
    let clip = &r["tasks"][0];
    // Without a person: the program that keeps negatives wins, as a draft
    // with questions about negative inputs; no question was asked.
    assert_eq!(clip["published"], false, "{clip}");
    assert_eq!(clip["questions"], 0);
    assert_eq!(
        clip["held_back"],
        json!({"passed": 4, "total": 5}),
        "{clip}"
    );
    // The oracle answered them in one follow-up: the clipping program wins.
    let followed = &clip["followed"];
    let answered = followed["questions"].as_u64().unwrap();
    assert!((1..=3).contains(&answered), "{followed}");
    assert_eq!(
        followed["held_back"],
        json!({"passed": 5, "total": 5}),
        "{followed}"
    );
    // The summaries count both columns from the same candidates.
    let all = &r["all"];
    assert_eq!(all["stored_correct"], 0);
    assert_eq!(all["followed"]["stored_correct"], 1, "{all}");
    assert_eq!(all["followed"]["questions"], answered);
    assert_eq!(all["questions"], 0);
}
