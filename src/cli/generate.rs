//! `autolearn skill generate`: a skill from plain English, with each step
//! of the pipeline shown as it happens when stderr is a terminal.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

use super::{Failure, LlmArgs, open_with_llm};
use crate::app::GenerateOutcome;
use crate::config::Paths;
use futures_util::FutureExt;

use crate::learn::agree::Outcome;
use crate::learn::generate::{
    Answer, Asker, GenerateOptions, GenerateRequest, Observer, Progress, Question,
};
use crate::skills::DEFAULT_TENANT;

/// Generate, print the outcome (or one JSON object with `--json`).
pub(super) async fn run(
    paths: &Paths,
    llm: &LlmArgs,
    req: GenerateRequest,
    candidates: usize,
    as_json: bool,
    ask: bool,
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
    // Questions need a person at a terminal: both ends of it.
    let ask = ask && !as_json && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let opts = GenerateOptions {
        candidates: candidates.max(1),
        observer: show.then(progress_display),
        ask: ask.then(terminal_asker),
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
        let line = p.describe();
        eprintln!("  [{at:>6.1}s] {line}");
    })
}

/// Ask on the terminal: the candidates' answers numbered, `i` for "the
/// input is invalid", `=` and a JSON value for another answer, Enter to
/// skip.
fn terminal_asker() -> Asker {
    Arc::new(|q: Question| {
        async move {
            let said = |o: &Outcome| match o {
                Outcome::Value(v) => crate::text::truncate(&v.to_string(), 200),
                Outcome::Error(_) => "an error: the input is invalid".into(),
            };
            if q.confirms() {
                eprintln!(
                    "\nEvery candidate that passes your examples returns {} for {}, but they are too few to trust.",
                    said(&q.choices[0].outcome),
                    q.call
                );
                eprint!("Is that right? [1 = yes, i = the input is invalid, =JSON = the right value, Enter = don't know] ");
            } else {
                eprintln!("\nThe candidates disagree on {}:", q.call);
                for (n, c) in q.choices.iter().enumerate() {
                    eprintln!("  {}) {}   ({} programs)", n + 1, said(&c.outcome), c.programs);
                }
                eprint!("Which is right? [its number, i = the input is invalid, =JSON = another value, Enter = don't know] ");
            }
            let line = tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map(|_| line)
            })
            .await
            .ok()?
            .ok()?;
            answer_of(line.trim(), &q)
        }
        .boxed()
    })
}

/// What the person typed, as an answer to `q`.
fn answer_of(typed: &str, q: &Question) -> Option<Answer> {
    if typed.is_empty() {
        return None;
    }
    if typed.eq_ignore_ascii_case("i") {
        return Some(Answer::Invalid);
    }
    if let Some(value) = typed.strip_prefix('=') {
        return serde_json::from_str(value.trim()).ok().map(Answer::Value);
    }
    let c = q
        .choices
        .get(typed.parse::<usize>().ok()?.checked_sub(1)?)?;
    Some(match &c.outcome {
        Outcome::Value(v) => Answer::Value(v.clone()),
        Outcome::Error(_) => Answer::Invalid,
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
    for q in &out.questions {
        let choices: Vec<String> = q
            .choices
            .iter()
            .map(|c| match &c.outcome {
                Outcome::Value(v) => format!(
                    "{} ({})",
                    crate::text::truncate(&v.to_string(), 80),
                    c.programs
                ),
                Outcome::Error(_) => format!("invalid ({})", c.programs),
            })
            .collect();
        println!("? {}: {}", q.call, choices.join(" or "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::agree::Choice;
    use serde_json::json;

    #[test]
    fn what_a_person_types_becomes_an_answer() {
        let q = Question {
            call: "f(x=1)".into(),
            input: json!({"x": 1}),
            choices: vec![
                Choice {
                    outcome: Outcome::Value(json!(2)),
                    programs: 3,
                },
                Choice {
                    outcome: Outcome::Error("invalid".into()),
                    programs: 1,
                },
            ],
        };
        assert_eq!(answer_of("1", &q), Some(Answer::Value(json!(2))));
        assert_eq!(answer_of("2", &q), Some(Answer::Invalid));
        assert_eq!(answer_of("i", &q), Some(Answer::Invalid));
        assert_eq!(answer_of("=[1, 2]", &q), Some(Answer::Value(json!([1, 2]))));
        assert_eq!(answer_of("= 1", &q), Some(Answer::Value(json!(1))));
        assert_eq!(answer_of("", &q), None);
        // A number that is no choice is no answer, nor is a bad value.
        assert_eq!(answer_of("3", &q), None);
        assert_eq!(answer_of("0", &q), None);
        assert_eq!(answer_of("=not json", &q), None);
    }
}
