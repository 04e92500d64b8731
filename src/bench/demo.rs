//! `autolearn bench demo`: the demo's story as numbers. Each smart example
//! (examples/demo/examples.json, and with `--further` the ten tasks of
//! examples/demo/further.json) is asked three times of the consumer agent
//! on a scratch AutoLearn: first (nothing learned: it reasons with
//! run_python, then crystallizes a draft), again (the skill path), and with
//! new data. Between the first two the bench plays the person: it confirms
//! the draft when the first answer was right and rejects it when it was
//! wrong, so a wrong answer never becomes a tool. The baseline is the first
//! run, measured in the same process: the report gives each run's path,
//! whether its answer is right, time, model calls and tokens, and the
//! second run's speed-up over the first.
//!
//! An answer is right when it holds every value of the expected one
//! (strings, object keys, numbers to 2 decimals, as a multiset) and not
//! many more: the tasks fix what to compute, and a small model's choice of
//! nesting is not what is measured.

use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use serde_json::{Value, json};

use super::Scratch;
use crate::agent::{AgentError, AgentOptions, Host};
use crate::config::Paths;
use crate::llm::Llm;

/// The examples, as shipped.
const EXAMPLES: &str = include_str!("../../examples/demo/examples.json");
/// Ten further multi-step tasks with data.
const FURTHER: &str = include_str!("../../examples/demo/further.json");

/// `autolearn bench demo ...`
#[derive(Debug, Args)]
pub struct DemoBenchArgs {
    /// Only these examples (ids, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Also the ten further tasks (examples/demo/further.json).
    #[arg(long)]
    pub further: bool,
    /// Only each example's first run (nothing learned yet: what the agent
    /// itself can do), as when comparing models or runtimes.
    #[arg(long)]
    pub first_only: bool,
    /// Most run_python steps per run.
    #[arg(long, default_value_t = 6)]
    pub max_steps: usize,
    /// Candidate codes per step (0: the agent's default).
    #[arg(long, default_value_t = 0)]
    pub samples: usize,
    /// The runtime the agent's steps run on (`core` or `data`).
    #[arg(long, default_value = "core")]
    pub runtime: crate::runtime::Runtime,
    /// Print one JSON object as the last line.
    #[arg(long)]
    pub json: bool,
}

/// One run of one example.
#[derive(Debug, Clone, Serialize)]
struct RunRow {
    example: String,
    /// `first`, `again` or `new_data`.
    run: &'static str,
    /// `skill`, `reasoning`, or `failed`.
    path: String,
    ms: f64,
    llm_calls: u64,
    llm_tokens: u64,
    answer: Value,
    /// Whether the answer holds the expected one (`None`: no expected
    /// answer, or no answer).
    correct: Option<bool>,
    error: Option<String>,
}

fn prompt(example: &Value, variant: bool) -> String {
    let data = example[if variant { "variant" } else { "data" }]
        .as_str()
        .unwrap_or("");
    format!(
        "{}\n\n```{}\n{data}```\n",
        example["task"].as_str().unwrap_or(""),
        example["lang"].as_str().unwrap_or("")
    )
}

/// Run the bench; print a table, and JSON with `--json`.
pub async fn demo(paths: &Paths, llm: Llm, args: &DemoBenchArgs) -> anyhow::Result<()> {
    let all: Value = serde_json::from_str(EXAMPLES).context("the shipped examples")?;
    let further: Value = serde_json::from_str(FURTHER).context("the further tasks")?;
    let mut examples: Vec<Value> = all["examples"].as_array().cloned().unwrap_or_default();
    if args.further {
        examples.extend(further["examples"].as_array().cloned().unwrap_or_default());
    }
    let examples: Vec<Value> = examples
        .into_iter()
        .filter(|e| args.only.is_empty() || args.only.iter().any(|o| e["id"] == o.as_str()))
        .collect();
    anyhow::ensure!(!examples.is_empty(), "no example to run");
    let info = llm.info();
    anyhow::ensure!(
        info.backend != "none",
        "bench demo needs a model: --llm local (after `autolearn model fetch`) or --llm openai"
    );
    let scratch = Scratch::open(paths, "demo").await?;
    let app = scratch.app.clone().with_llm(llm.clone());
    if !args.runtime.is_core() {
        app.warm_data_runtime();
    }
    let host = Host::over(crate::mcp::McpServer::in_process(
        app,
        crate::skills::DEFAULT_TENANT,
    ))
    .await?;
    let options = AgentOptions {
        max_steps: args.max_steps.max(1),
        samples: args.samples,
        runtime: args.runtime,
        ..AgentOptions::default()
    };
    eprintln!(
        "demo bench: {} examples, {} each, on {}, with {} ({})",
        examples.len(),
        if args.first_only {
            "first runs"
        } else {
            "3 runs"
        },
        args.runtime,
        info.backend,
        info.reasoning_model.as_deref().unwrap_or("-")
    );
    let mut rows = Vec::new();
    for example in &examples {
        let id = example["id"].as_str().unwrap_or("?").to_owned();
        let runs: &[(&'static str, bool)] = if args.first_only {
            &[("first", false)]
        } else {
            &[("first", false), ("again", false), ("new_data", true)]
        };
        for &(run, variant) in runs {
            let started = Instant::now();
            let outcome =
                crate::agent::run(llm.as_ref(), &host, &prompt(example, variant), &options).await;
            let ms = started.elapsed().as_secs_f64() * 1e3;
            let expected = &example[if variant {
                "expected_variant"
            } else {
                "expected"
            }];
            if let Ok(r) = &outcome
                && run == "first"
            {
                confirm(&host, r, expected).await;
            }
            let row = match outcome {
                Ok(r) => RunRow {
                    correct: (!expected.is_null()).then(|| covers(&r.answer, expected)),
                    example: id.clone(),
                    run,
                    path: if r.skill_used.is_some() {
                        "skill"
                    } else {
                        "reasoning"
                    }
                    .into(),
                    ms,
                    llm_calls: r.llm_calls,
                    llm_tokens: r.llm_tokens,
                    answer: r.answer,
                    error: None,
                },
                Err(e) => RunRow {
                    example: id.clone(),
                    run,
                    path: "failed".into(),
                    ms,
                    llm_calls: match &e {
                        AgentError::GaveUp { llm_calls, .. } => *llm_calls,
                        _ => 0,
                    },
                    llm_tokens: match &e {
                        AgentError::GaveUp { llm_tokens, .. } => *llm_tokens,
                        _ => 0,
                    },
                    answer: Value::Null,
                    correct: (!expected.is_null()).then_some(false),
                    error: Some(e.to_string()),
                },
            };
            eprintln!(
                "  {id:<18} {run:<9} {:<9} {:<7} {:>10.1} ms {:>3} calls {:>6} tokens{}",
                row.path,
                match row.correct {
                    Some(true) => "right",
                    Some(false) => "wrong",
                    None => "-",
                },
                row.ms,
                row.llm_calls,
                row.llm_tokens,
                row.error
                    .as_deref()
                    .map(|e| format!("  ({})", crate::text::truncate(e, 80)))
                    .unwrap_or_default()
            );
            rows.push(row);
        }
    }
    host.close().await;
    let mut summary = Vec::new();
    for chunk in rows.chunks(3).filter(|_| !args.first_only) {
        let [first, again, fresh] = chunk else {
            continue;
        };
        let same = first.error.is_none() && again.answer == first.answer;
        let speedup = (again.path == "skill").then(|| first.ms / again.ms.max(0.001));
        summary.push(json!({
            "example": first.example,
            "first_ms": first.ms, "first_llm_calls": first.llm_calls, "first_llm_tokens": first.llm_tokens,
            "first_correct": first.correct,
            "again_path": again.path, "again_ms": again.ms, "again_llm_calls": again.llm_calls, "again_llm_tokens": again.llm_tokens,
            "again_correct": again.correct,
            "same_answer": same, "speedup": speedup, "new_data_path": fresh.path, "new_data_correct": fresh.correct,
        }));
        println!(
            "{:<18} first {} {:>9.1} ms ({} calls, {} tokens) · again: {} {:>8.1} ms ({} calls, {} tokens) · same answer: {} · speed-up {} · new data: {} {}",
            first.example,
            verdict(first.correct),
            first.ms,
            first.llm_calls,
            first.llm_tokens,
            again.path,
            again.ms,
            again.llm_calls,
            again.llm_tokens,
            if same { "yes" } else { "no" },
            speedup.map_or("-".into(), |s| format!("{s:.1}×")),
            fresh.path,
            verdict(fresh.correct),
        );
    }
    let totals = Totals::of(&rows);
    println!(
        "first runs right: {}/{} · median first run {:.1} s · second runs on the skill path: {} · new data right: {}/{} · wrong first answers kept out of the tools: {}",
        totals.first_right,
        totals.graded,
        totals.median_first_ms / 1e3,
        totals.skill_path,
        totals.new_data_right,
        totals.graded,
        totals.wrong_kept_out,
    );
    if args.json {
        println!(
            "{}",
            json!({"llm": info, "runs": rows, "summary": summary, "totals": totals})
        );
    }
    Ok(())
}

fn verdict(correct: Option<bool>) -> &'static str {
    match correct {
        Some(true) => "right",
        Some(false) => "wrong",
        None => "-",
    }
}

/// The bench's totals over every example.
#[derive(Debug, Serialize)]
struct Totals {
    /// Examples with an expected answer.
    graded: usize,
    /// First runs whose answer was right.
    first_right: usize,
    /// Median time of a first run, ms.
    median_first_ms: f64,
    /// Second runs that took the skill path.
    skill_path: usize,
    /// Runs on new data whose answer was right.
    new_data_right: usize,
    /// First runs that answered wrongly and were kept out of the tools.
    wrong_kept_out: usize,
}

impl Totals {
    fn of(rows: &[RunRow]) -> Self {
        let of = |run: &'static str| rows.iter().filter(move |r| r.run == run);
        let mut firsts: Vec<f64> = of("first").map(|r| r.ms).collect();
        firsts.sort_by(f64::total_cmp);
        Self {
            graded: of("first").filter(|r| r.correct.is_some()).count(),
            first_right: of("first").filter(|r| r.correct == Some(true)).count(),
            median_first_ms: firsts.get(firsts.len() / 2).copied().unwrap_or(0.0),
            skill_path: of("again").filter(|r| r.path == "skill").count(),
            new_data_right: of("new_data").filter(|r| r.correct == Some(true)).count(),
            wrong_kept_out: of("first")
                .filter(|r| r.correct == Some(false) && r.error.is_none())
                .count(),
        }
    }
}

/// The person's word on what the first run crystallized: right answers
/// become tools, wrong ones are retired (an example without an expected
/// answer is taken as right).
async fn confirm(host: &Host, report: &crate::agent::AgentReport, expected: &Value) {
    let Some(said) = report.crystallized.as_ref().filter(|s| s["draft"] == true) else {
        return;
    };
    let right = expected.is_null() || covers(&report.answer, expected);
    let verdict = if right { "correct" } else { "wrong" };
    let _ = host
        .call(
            "review_skill",
            json!({"name": said["skill"]["name"], "id": said["skill"]["id"], "verdict": verdict}),
        )
        .await;
}

/// Whether `answer` holds every value of `expected` (strings, object keys,
/// numbers to 2 decimals, as a multiset) and at most a few times as many.
fn covers(answer: &Value, expected: &Value) -> bool {
    let (mut have, want) = (leaves(answer), leaves(expected));
    if have.len() > 3 * want.len() + 8 {
        return false;
    }
    want.iter().all(|w| match have.iter().position(|h| h == w) {
        Some(i) => {
            have.swap_remove(i);
            true
        }
        None => false,
    })
}

/// Every string, object key, number (in hundredths) and literal in `v`.
fn leaves(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    out.push(format!("s:{k}"));
                    stack.push(x);
                }
            }
            Value::Array(a) => stack.extend(a),
            Value::String(s) => out.push(format!("s:{s}")),
            Value::Number(n) => {
                let hundredths = (n.as_f64().unwrap_or(f64::NAN) * 100.0).round();
                out.push(format!("n:{hundredths}"));
            }
            other => out.push(other.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::covers;
    use serde_json::json;

    #[test]
    fn an_answer_holds_the_expected_values_whatever_its_nesting() {
        let expected = json!({"history": 89.0, "math": 85.0});
        assert!(covers(&json!({"history": 89, "math": 85.004}), &expected));
        assert!(covers(
            &json!([["history", 89.0], ["math", 85.0]]),
            &expected
        ));
        assert!(!covers(&json!({"history": 89.0, "math": 86.0}), &expected));
        assert!(!covers(&json!({"history": 89.0}), &expected));
        // Each expected value is matched once.
        assert!(!covers(&json!([1, 1]), &json!([1, 1, 1])));
        // An answer that dumps everything does not count.
        let dump: Vec<i64> = (0..100).collect();
        assert!(!covers(
            &json!([dump, "history", 89, "math", 85]),
            &expected
        ));
    }
}
