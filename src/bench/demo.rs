//! `autolearn bench demo`: the demo's story as numbers. Each smart example
//! (examples/demo/examples.json) is asked three times of the consumer agent
//! on a scratch AutoLearn: first (nothing learned: it reasons with
//! run_python, then crystallizes), again (the skill path), and with new
//! data. The baseline is the first run, measured in the same process: the
//! report gives each run's path, time, model calls and tokens, whether the
//! second answer is the first's, and the second run's speed-up over the
//! first.

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

/// `autolearn bench demo ...`
#[derive(Debug, Args)]
pub struct DemoBenchArgs {
    /// Only these examples (ids, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Most run_python steps per run.
    #[arg(long, default_value_t = 6)]
    pub max_steps: usize,
    /// Candidate codes per step (0: the agent's default).
    #[arg(long, default_value_t = 0)]
    pub samples: usize,
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
    let examples: Vec<Value> = all["examples"]
        .as_array()
        .cloned()
        .unwrap_or_default()
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
    let host = Host::over(crate::mcp::McpServer::in_process(
        app,
        crate::skills::DEFAULT_TENANT,
    ))
    .await?;
    // The bench plays a person who confirms every answer: it measures the
    // way from reasoning to a skill, not whether the answer was right.
    let options = AgentOptions {
        max_steps: args.max_steps.max(1),
        samples: args.samples,
        draft_until_confirmed: false,
        ..AgentOptions::default()
    };
    eprintln!(
        "demo bench: {} examples, 3 runs each, with {} ({})",
        examples.len(),
        info.backend,
        info.reasoning_model.as_deref().unwrap_or("-")
    );
    let mut rows = Vec::new();
    for example in &examples {
        let id = example["id"].as_str().unwrap_or("?").to_owned();
        for (run, variant) in [("first", false), ("again", false), ("new_data", true)] {
            let started = Instant::now();
            let outcome =
                crate::agent::run(llm.as_ref(), &host, &prompt(example, variant), &options).await;
            let ms = started.elapsed().as_secs_f64() * 1e3;
            let row = match outcome {
                Ok(r) => RunRow {
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
                    error: Some(e.to_string()),
                },
            };
            eprintln!(
                "  {id:<16} {run:<9} {:<9} {:>10.1} ms {:>3} calls {:>6} tokens{}",
                row.path,
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
    for chunk in rows.chunks(3) {
        let [first, again, fresh] = chunk else {
            continue;
        };
        let same = first.error.is_none() && again.answer == first.answer;
        let speedup = (again.path == "skill").then(|| first.ms / again.ms.max(0.001));
        summary.push(json!({
            "example": first.example,
            "first_ms": first.ms, "first_llm_calls": first.llm_calls, "first_llm_tokens": first.llm_tokens,
            "again_path": again.path, "again_ms": again.ms, "again_llm_calls": again.llm_calls, "again_llm_tokens": again.llm_tokens,
            "same_answer": same, "speedup": speedup, "new_data_path": fresh.path,
        }));
        println!(
            "{:<16} first {:>9.1} ms ({} calls, {} tokens) · again: {} {:>8.1} ms ({} calls, {} tokens) · same answer: {} · speed-up {} · new data: {}",
            first.example,
            first.ms,
            first.llm_calls,
            first.llm_tokens,
            again.path,
            again.ms,
            again.llm_calls,
            again.llm_tokens,
            if same { "yes" } else { "no" },
            speedup.map_or("-".into(), |s| format!("{s:.1}×")),
            fresh.path
        );
    }
    if args.json {
        println!("{}", json!({"llm": info, "runs": rows, "summary": summary}));
    }
    Ok(())
}
