//! `autolearn agent "PROMPT"`: the consumer agent against any AutoLearn
//! server, with its steps shown on stderr as they happen.

use std::io::{IsTerminal, Read};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;

use super::{Failure, LlmArgs};
use crate::agent::{AgentError, AgentOptions, AgentStep, Host};

/// `autolearn agent ...`
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The task; `-` reads it from stdin. Data goes in fenced blocks
    /// (```csv ... ```): the agent binds each as a variable (`data`,
    /// `data2`, ...) instead of pasting it into code.
    pub prompt: String,
    /// The AutoLearn MCP endpoint.
    #[arg(
        long,
        env = "AUTOLEARN_URL",
        default_value = "http://127.0.0.1:8765/mcp"
    )]
    pub url: String,
    /// API key, for a server with tenants.
    #[arg(long, env = "AUTOLEARN_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Most run_python steps before giving up.
    #[arg(long, default_value_t = 6)]
    pub max_steps: usize,
    /// Do not send a successful trace to crystallize.
    #[arg(long)]
    pub no_crystallize: bool,
    /// The answer is right: publish what is crystallized at once. Without
    /// it, the skill is a draft until you confirm the answer (asked on a
    /// terminal; else `review_skill`, or `autolearn skill review`).
    #[arg(long)]
    pub yes: bool,
    /// Candidate codes sampled per step and tried in turn (0: 4 with the
    /// local model, else 1).
    #[arg(long, default_value_t = 0)]
    pub samples: usize,
    /// The runtime the steps run on: `core` (the standard library) or
    /// `data` (numpy and pandas too; the server needs `autolearn runtime
    /// fetch data`).
    #[arg(long, default_value = "core")]
    pub runtime: crate::runtime::Runtime,
    /// Print one JSON object as the last line: answer, skill_used,
    /// tools_called, llm_calls, llm_tokens, elapsed_ms.
    #[arg(long)]
    pub json: bool,
}

pub(super) async fn run(llm: &LlmArgs, args: AgentArgs) -> Result<(), Failure> {
    let prompt = if args.prompt == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::usage("usage", format!("reading the prompt from stdin: {e}")))?;
        text
    } else {
        args.prompt.clone()
    };
    let model = llm.build()?;
    let host = Host::connect(&args.url, args.key.as_deref())
        .await
        .map_err(|e| Failure::failed("connect", e.to_string()))?;
    let show = !args.json || std::io::stderr().is_terminal();
    let options = AgentOptions {
        max_steps: args.max_steps.max(1),
        crystallize: !args.no_crystallize,
        draft_until_confirmed: !args.yes,
        observer: show.then(display),
        samples: args.samples,
        runtime: args.runtime,
    };
    let result = crate::agent::run(model.as_ref(), &host, &prompt, &options).await;
    if let Ok(report) = &result
        && let Some(draft) = Draft::of(report)
    {
        confirm(&host, &draft, &report.answer).await;
    }
    host.close().await;
    match result {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report.answer).unwrap_or_default()
                );
                eprintln!(
                    "autolearn: {} in {} ms; {} model calls, {} tokens; tools: {}",
                    report
                        .skill_used
                        .as_ref()
                        .map_or("solved step by step".to_owned(), |s| format!(
                            "answered by skill {s}"
                        )),
                    report.elapsed_ms,
                    report.llm_calls,
                    report.llm_tokens,
                    report.tools_called.join(", ")
                );
            }
            Ok(())
        }
        Err(e @ AgentError::Empty) => Err(Failure::usage("usage", e.to_string())),
        Err(e @ AgentError::Connect(_)) => Err(Failure::failed("connect", e.to_string())),
        Err(e @ AgentError::Llm(_)) => Err(Failure::failed("llm", e.to_string())),
        Err(e) => Err(Failure::failed("agent", e.to_string())),
    }
}

/// Each step on stderr, with the time since the start.
fn display() -> crate::agent::StepObserver {
    let started = Instant::now();
    Arc::new(move |step: &AgentStep| {
        let at = started.elapsed().as_secs_f64();
        let line = match step {
            AgentStep::Task { attachments, .. } if attachments.is_empty() => "task read".to_owned(),
            AgentStep::Task { attachments, .. } => {
                format!(
                    "task read; data bound as variables:\n{}",
                    attachments.join("\n")
                )
            }
            AgentStep::Search { hits } if hits.is_empty() => {
                "no published skill matches".to_owned()
            }
            AgentStep::Search { hits } => {
                format!("published skills that match: {}", hits.join(", "))
            }
            AgentStep::Judged { skill: Some(s) } => format!("the model chose skill {s}"),
            AgentStep::Judged { skill: None } => "no skill fits: solving step by step".to_owned(),
            AgentStep::SkillCall { skill, ok, ms, .. } => {
                format!(
                    "called {skill}: {} in {ms} ms",
                    if *ok { "ok" } else { "failed" }
                )
            }
            AgentStep::Code { step: 0, code, .. } => {
                format!("step 0 (parsing the table):\n{}", indent(code))
            }
            AgentStep::Code {
                step,
                attempt: 1,
                code,
            } => format!("step {step}:\n{}", indent(code)),
            AgentStep::Code {
                step,
                attempt,
                code,
            } => {
                format!("step {step}, candidate {attempt}:\n{}", indent(code))
            }
            AgentStep::Output {
                step, ok, output, ..
            } => format!(
                "step {step} {}: {}",
                if *ok { "result" } else { "failed" },
                crate::text::truncate(&output.to_string(), 300)
            ),
            AgentStep::Crystallize {
                draft: true, skill, ..
            } => {
                format!(
                    "crystallized: the draft {} waits for you to confirm the answer",
                    skill.as_deref().unwrap_or("?")
                )
            }
            AgentStep::Crystallize {
                published: true,
                skill,
                ..
            } => {
                format!(
                    "crystallized: published skill {}",
                    skill.as_deref().unwrap_or("?")
                )
            }
            AgentStep::Crystallize { skill: Some(s), .. } => {
                format!("crystallized: the skill {s} already exists")
            }
            AgentStep::Crystallize { reason, .. } => {
                format!(
                    "not crystallized: {}",
                    reason.as_deref().unwrap_or("no reason given")
                )
            }
            AgentStep::Answer { .. } => "answered".to_owned(),
        };
        eprintln!("[{at:6.1}s] {line}");
    })
}

fn indent(code: &str) -> String {
    code.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A draft the run crystallized, waiting for the person.
struct Draft {
    name: String,
    id: String,
}

impl Draft {
    fn of(report: &crate::agent::AgentReport) -> Option<Self> {
        let said = report.crystallized.as_ref()?;
        if said["draft"] != true {
            return None;
        }
        Some(Self {
            name: said["skill"]["name"].as_str()?.to_owned(),
            id: said["skill"]["id"].as_str()?.to_owned(),
        })
    }
}

/// Ask the person on a terminal whether the answer is right, and pass
/// their word on to the server; elsewhere, say how to give it later.
async fn confirm(host: &Host, draft: &Draft, answer: &serde_json::Value) {
    let later = format!(
        "the skill {} is a draft until you confirm its answer: call review_skill {{\"name\": {:?}, \"id\": {:?}, \"verdict\": \"correct\"}} (or `autolearn skill review {} correct` on the server's machine)",
        draft.name, draft.name, draft.id, draft.name
    );
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        eprintln!("autolearn: {later}");
        return;
    }
    eprintln!(
        "answer: {}",
        crate::text::truncate(&answer.to_string(), 2048)
    );
    eprint!(
        "Is this answer right? [y] keep it as skill {} / [n] wrong / [Enter] decide later: ",
        draft.name
    );
    let mut line = String::new();
    let read =
        tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line).map(|_| line))
            .await;
    let verdict = match read {
        Ok(Ok(line)) => match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => "correct",
            "n" | "no" | "wrong" => "wrong",
            _ => {
                eprintln!("autolearn: {later}");
                return;
            }
        },
        _ => return,
    };
    let said = host
        .call(
            "review_skill",
            serde_json::json!({"name": draft.name, "id": draft.id, "verdict": verdict}),
        )
        .await;
    match said {
        Ok(a) if a.structured["skill"]["status"] == "published" => {
            eprintln!("autolearn: published skill {}", draft.name);
        }
        Ok(a) if a.structured["skill"]["status"] == "retired" => {
            eprintln!(
                "autolearn: recorded as wrong; {} will not become a tool",
                draft.name
            );
        }
        Ok(a) => eprintln!("autolearn: the review was refused: {}", a.structured),
        Err(e) => eprintln!("autolearn: the review failed: {e}"),
    }
}
