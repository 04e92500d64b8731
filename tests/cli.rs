//! The real `autolearn` binary, in a fresh data dir per test: the exact CLI
//! shape, exit codes 0/1/2, JSON errors on stdout, and persistence across
//! separate processes (each invocation is a restart).

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        Self {
            dir: crate::util::data_dir(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_autolearn"))
            .args(args)
            .env("AUTOLEARN_DATA_DIR", self.dir.path())
            .env("AUTOLEARN_ARTIFACT", crate::util::artifact())
            .env("AUTOLEARN_CACHE_DIR", crate::util::cache_dir())
            .output()
            .unwrap()
    }

    fn file(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    fn add_word_count(&self) -> Output {
        let f = self.file("wc.py", "def count(text):\n    \"\"\"Count words.\"\"\"\n    return {\"words\": len(text.split())}\n");
        self.run(&[
            "skill",
            "add",
            &f,
            "--name",
            "word_count",
            "--entry",
            "count",
            "--description",
            "Count the words in a text.",
            "--examples",
            r#"[{"input": {"text": "a b c"}, "output": {"words": 3}}]"#,
        ])
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn error_of(o: &Output) -> Value {
    let v: Value = serde_json::from_str(stdout(o).lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(o)));
    v["error"].clone()
}

#[test]
fn add_prints_the_id_and_run_prints_the_result() {
    let cli = Cli::new();
    let add = cli.add_word_count();
    assert_eq!(
        add.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let id = stdout(&add);
    assert!(
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );

    let run = cli.run(&[
        "skill",
        "run",
        "word_count",
        "--input",
        r#"{"text": "one two three four"}"#,
    ]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(stdout(&run), r#"{"words": 4}"#);
}

/// `skill add --runtime data`: verified and run on the data runtime (the
/// CLI finds it where `runtime fetch data` put it); on core the same source
/// cannot pass its example.
#[test]
fn a_data_skill_is_added_and_run_from_the_cli() {
    crate::util::data_ready();
    let cli = Cli::new();
    let f = cli.file(
        "means.py",
        "import pandas as pd\n\ndef means(rows):\n    \"\"\"Mean of each numeric column.\"\"\"\n    return pd.DataFrame(rows).mean(numeric_only=True)\n",
    );
    let add = |runtime: &str| {
        cli.run(&[
            "skill",
            "add",
            &f,
            "--name",
            "means",
            "--entry",
            "means",
            "--runtime",
            runtime,
            "--examples",
            r#"[{"input": {"rows": [{"a": 1}, {"a": 3}]}, "output": {"a": 2.0}}]"#,
        ])
    };
    let core = add("core");
    assert_eq!(core.status.code(), Some(1), "{}", stdout(&core));
    assert!(stdout(&core).contains("pandas"), "{}", stdout(&core));
    let data = add("data");
    assert_eq!(data.status.code(), Some(0), "{}", stdout(&data));
    let run = cli.run(&[
        "skill",
        "run",
        "means",
        "--input",
        r#"{"rows": [{"a": 5, "b": 1}, {"a": 7, "b": 3}]}"#,
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stdout(&run));
    assert_eq!(stdout(&run), r#"{"a": 6.0, "b": 2.0}"#);
}

#[test]
fn a_skill_error_exits_1_with_a_json_error() {
    let cli = Cli::new();
    let f = cli.file(
        "div.py",
        "def div(a, b):\n    \"\"\"Divide.\"\"\"\n    return a / b\n",
    );
    let add = cli.run(&[
        "skill",
        "add",
        &f,
        "--name",
        "div",
        "--entry",
        "div",
        "--examples",
        r#"[{"input": {"a": 6, "b": 3}, "output": 2.0}]"#,
    ]);
    assert_eq!(add.status.code(), Some(0), "{}", stdout(&add));
    let run = cli.run(&["skill", "run", "div", "--input", r#"{"a": 1, "b": 0}"#]);
    assert_eq!(run.status.code(), Some(1));
    let err = error_of(&run);
    assert_eq!(err["kind"], "exception");
    assert_eq!(err["error_type"], "ZeroDivisionError");
    assert!(err["traceback"].as_str().unwrap().contains("return a / b"));
}

#[test]
fn input_against_the_schema_is_rejected_before_it_runs() {
    let cli = Cli::new();
    assert_eq!(cli.add_word_count().status.code(), Some(0));
    let run = cli.run(&["skill", "run", "word_count", "--input", r#"{"text": 42}"#]);
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(error_of(&run)["kind"], "bad_input");
}

#[test]
fn usage_errors_exit_2() {
    let cli = Cli::new();
    assert_eq!(cli.add_word_count().status.code(), Some(0));
    let bad_json = cli.run(&["skill", "run", "word_count", "--input", "{not json"]);
    assert_eq!(bad_json.status.code(), Some(2));
    assert_eq!(error_of(&bad_json)["kind"], "usage");
    let unknown = cli.run(&["skill", "run", "nope", "--input", "{}"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(error_of(&unknown)["kind"], "not_found");
    assert_eq!(
        cli.run(&["skill", "run", "word_count"]).status.code(),
        Some(2)
    );
    assert_eq!(cli.run(&["skill", "frobnicate"]).status.code(), Some(2));
}

#[test]
fn a_skill_failing_its_examples_is_not_stored() {
    let cli = Cli::new();
    let f = cli.file(
        "bad.py",
        "def inc(x):\n    \"\"\"Off by one.\"\"\"\n    return x + 2\n",
    );
    let add = cli.run(&[
        "skill",
        "add",
        &f,
        "--name",
        "inc",
        "--entry",
        "inc",
        "--examples",
        r#"[{"input": {"x": 1}, "output": 2}]"#,
    ]);
    assert_eq!(add.status.code(), Some(1));
    let err = error_of(&add);
    assert_eq!(err["kind"], "verification_failed");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("expected 2 but got 3"),
        "{err}"
    );
    assert_eq!(stdout(&cli.run(&["skill", "list", "--json"])), "[]");
}

#[test]
fn list_and_show_describe_stored_skills() {
    let cli = Cli::new();
    let id = stdout(&cli.add_word_count());
    let list: Value =
        serde_json::from_str(&stdout(&cli.run(&["skill", "list", "--json"]))).unwrap();
    assert_eq!(list[0]["name"], "word_count");
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["status"], "published");
    assert_eq!(list[0]["kpis"]["tests_passed"], 1);
    assert!(list[0]["kpis"]["fuel_per_call"].as_u64().unwrap() > 0);
    let show: Value =
        serde_json::from_str(&stdout(&cli.run(&["skill", "show", "word_count"]))).unwrap();
    assert_eq!(show["manifest"]["entry"], "count");
    assert_eq!(
        show["manifest"]["input_schema"]["properties"]["text"]["type"],
        "string"
    );
    assert!(stdout(&cli.run(&["skill", "list"])).contains("word_count"));
}

#[tokio::test]
async fn a_tampered_skill_is_refused_by_the_cli() {
    let cli = Cli::new();
    assert_eq!(cli.add_word_count().status.code(), Some(0));
    tamper(&cli.dir.path().join("autolearn.db")).await;
    let run = cli.run(&["skill", "run", "word_count", "--input", r#"{"text": "a"}"#]);
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(error_of(&run)["kind"], "tampered");
}

async fn tamper(db: &Path) {
    let store = autolearn::store::SkillStore::open(db).await.unwrap();
    sqlx::query(
        "UPDATE skill_versions SET manifest = replace(manifest, 'len(text.split())', '666')",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.pool().close().await;
}

#[test]
fn seeded_runs_are_repeatable_from_the_cli() {
    let cli = Cli::new();
    let f = cli.file("r.py", "import random\n\ndef roll(n):\n    \"\"\"Roll dice.\"\"\"\n    return [random.randint(1, 6) for _ in range(n)]\n");
    assert_eq!(
        cli.run(&[
            "skill",
            "add",
            &f,
            "--name",
            "roll",
            "--entry",
            "roll",
            "--input-schema",
            r#"{"type": "object", "properties": {"n": {"type": "integer"}}}"#
        ])
        .status
        .code(),
        Some(0)
    );
    let a = stdout(&cli.run(&[
        "skill",
        "run",
        "roll",
        "--input",
        r#"{"n": 20}"#,
        "--seed",
        "9",
    ]));
    let b = stdout(&cli.run(&[
        "skill",
        "run",
        "roll",
        "--input",
        r#"{"n": 20}"#,
        "--seed",
        "9",
    ]));
    assert_eq!(a, b);
    assert!(a.starts_with('['), "{a}");
}

/// A deployed binary: copied alone into an empty directory and run from
/// there with a fresh data dir and no `AUTOLEARN_ARTIFACT`, it carries its
/// sandbox (embedded at build time), serves, and runs a skill.
#[test]
fn a_binary_copied_alone_serves_and_runs_a_skill_with_its_embedded_sandbox() {
    use std::io::BufRead;
    let home = crate::util::data_dir();
    let bin = home.path().join("autolearn");
    std::fs::copy(env!("CARGO_BIN_EXE_autolearn"), &bin).unwrap();
    let data = home.path().join("data");
    let run = |args: &[&str]| {
        let mut c = Command::new(&bin);
        c.args(args)
            .current_dir(home.path())
            .env_remove("AUTOLEARN_ARTIFACT")
            .env("HOME", home.path())
            .env("AUTOLEARN_DATA_DIR", &data)
            // The shared precompile cache (keyed by the artifact's sha256)
            // only saves the minute a debug build takes to compile it.
            .env("AUTOLEARN_CACHE_DIR", crate::util::cache_dir())
            .env("AUTOLEARN_LLM", "none");
        c
    };
    let code = home.path().join("wc.py");
    std::fs::write(
        &code,
        "def count(text):\n    \"\"\"Count words.\"\"\"\n    return len(text.split())\n",
    )
    .unwrap();
    let added = run(&[
        "skill",
        "add",
        code.to_str().unwrap(),
        "--name",
        "wc",
        "--entry",
        "count",
        "--description",
        "Count words.",
        "--examples",
        r#"[{"input": {"text": "a b"}, "output": 2}]"#,
    ])
    .output()
    .unwrap();
    assert_eq!(
        added.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    let mut server = crate::util::Reaped(
        run(&["serve", "--addr", "127.0.0.1:0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = std::io::BufReader::new(server.0.stdout.take().unwrap()).lines();
    let mut base = String::new();
    let mut sandbox = String::new();
    for line in lines.by_ref().take(3) {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("autolearn listening on ") {
            base = url.trim_end_matches("/mcp").to_owned();
        }
        if let Some(s) = line.strip_prefix("autolearn sandbox: ") {
            sandbox = s.to_owned();
        }
    }
    assert!(
        sandbox.starts_with("<embedded>"),
        "the sandbox comes from the binary: {sandbox:?}"
    );
    let body: Value = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let r = reqwest::Client::new()
            .post(format!("{base}/api/skills/wc/run"))
            .json(&serde_json::json!({"input": {"text": "one two three"}}))
            .send()
            .await
            .unwrap();
        r.json().await.unwrap_or(Value::Null)
    });
    drop(server);
    assert_eq!(body["result"], 3, "{body}");
}

#[test]
fn review_takes_only_a_draft_and_says_why_not() {
    let cli = Cli::new();
    assert!(cli.add_word_count().status.success());
    let o = cli.run(&["skill", "review", "word_count", "correct"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let e = error_of(&o);
    assert_eq!(e["kind"], "conflict", "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("not a draft"),
        "{e}"
    );
    let o = cli.run(&[
        "skill",
        "review",
        "nope",
        "wrong",
        "--note",
        "no such skill",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert_eq!(error_of(&o)["kind"], "not_found");
    let o = cli.run(&["skill", "review", "word_count", "maybe"]);
    assert_eq!(o.status.code(), Some(2));
}
