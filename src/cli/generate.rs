//! `autolearn skill generate`: a skill from plain English, with each step
//! of the pipeline shown as it happens when stderr is a terminal.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

use super::{Failure, LlmArgs, open_with_llm};
use crate::app::GenerateOutcome;
use crate::config::Paths;
use crate::learn::generate::{GenerateOptions, GenerateRequest, Observer, Progress};
use crate::skills::DEFAULT_TENANT;

/// Generate, print the outcome (or one JSON object with `--json`).
pub(super) async fn run(
    paths: &Paths,
    llm: &LlmArgs,
    req: GenerateRequest,
    candidates: usize,
    as_json: bool,
) -> Result<(), Failure> {
    let app = open_with_llm(paths, llm).await?;
    let show = !as_json && std::io::stderr().is_terminal();
    if !as_json {
        let info = app.model().info();
        eprintln!(
            "autolearn: generating with {} ({}) ...",
            info.backend,
            info.reasoning_model.as_deref().unwrap_or("-")
        );
    }
    let opts = GenerateOptions {
        candidates: candidates.max(1),
        observer: show.then(progress_display),
        ..Default::default()
    };
    match app.generate_skill(DEFAULT_TENANT, req, opts).await {
        Ok(out) => {
            if as_json {
                println!("{}", serde_json::to_string(&out).unwrap_or_default());
            } else {
                print_outcome(&out);
            }
            // A draft is an outcome, not a failure: the reasons say why.
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// One line per step on stderr, with the time since the start.
fn progress_display() -> Observer {
    let started = Instant::now();
    Arc::new(move |p: Progress| {
        let at = started.elapsed().as_secs_f64();
        let line = match p {
            Progress::Spec { name, inputs, .. } => {
                format!("spec drafted: {name}, {inputs} test inputs")
            }
            Progress::Candidate { index, round, code } => format!(
                "candidate {} sampled{} ({} lines)",
                index + 1,
                if round > 0 {
                    format!(" in repair round {round}")
                } else {
                    String::new()
                },
                code.lines().count()
            ),
            Progress::Tested {
                index,
                passed,
                examples,
            } => format!(
                "candidate {} ran on every input: {passed}/{examples} examples pass",
                index + 1
            ),
            Progress::Repair { round } => {
                format!("no candidate passes every example: repair round {round}")
            }
        };
        eprintln!("  [{at:>6.1}s] {line}");
    })
}

fn print_outcome(out: &GenerateOutcome) {
    let name = out
        .skill
        .as_ref()
        .and_then(|s| s["name"].as_str())
        .unwrap_or("-");
    let state = if out.published {
        "published"
    } else {
        "not published"
    };
    println!(
        "{name}: {state}, trust {}",
        out.trust.map_or("-".into(), |t| format!("{t:.1}"))
    );
    println!(
        "{} candidates, {} edge cases, {} model calls",
        out.candidates,
        out.edge_cases.len(),
        out.llm_calls
    );
    for r in &out.reasons {
        println!("- {r}");
    }
}
