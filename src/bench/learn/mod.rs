//! `autolearn bench learn`: how often plain-English requests end as correct
//! tools, against baselines from the same model in the same run.
//!
//! Each request of the practice set ([`set`]) goes through the whole
//! generation pipeline on a scratch AutoLearn. The baselines are the
//! pipeline's first candidate (the greedy sample, given the same prompt),
//! taken as it is, and with `--raw` the model alone with a conventional
//! prompt ([`raw`]): what a tool without verification would publish. Then,
//! and only then, all are graded on the held-back tests and the examples
//! ([`Task::grading`]). The set is split into
//! a development half and a held-out half ([`Half`]), reported apart.
//! `--ask oracle` lets the reference solution answer the pipeline's
//! questions, as a person who knows the right answers would, one at a time
//! while the pipeline runs; `--ask follow-up` lets it answer a draft's
//! questions afterwards in one follow-up call ([`followup`]), so one run
//! measures the pipeline with and without a person.

mod followup;
mod print;
mod raw;
mod report;
mod set;
mod stats;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use futures_util::FutureExt;
use serde_json::Value;

use super::Scratch;
use crate::config::Paths;
use crate::learn::agree::{Outcome, Verdict};
use crate::learn::generate::{Answer, Asker, GenerateOptions, GenerateRequest, Progress, Question};
use crate::llm::Llm;
use crate::sandbox::{Determinism, ResourceLimits, Sandbox, SkillCode};
use crate::skills::DEFAULT_TENANT;
use followup::{OpenDraft, follow_up};
pub use report::{Record, Report, Summary, TaskResult};
pub use set::{Half, PracticeSet, SHIPPED, Score, Task, check, score};

/// Who answers the pipeline's questions in `bench learn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AskMode {
    /// Nobody: the evidence decides.
    None,
    /// The task's reference solution, as a person who knows would,
    /// asked while the pipeline runs.
    Oracle,
    /// The reference solution answers a draft's open questions in one
    /// follow-up call, as an MCP or REST client does: the report has the
    /// pipeline without and with the answers, from the same candidates.
    FollowUp,
}

/// Flags of `autolearn bench learn`.
#[derive(Debug, clap::Args)]
pub struct LearnBenchArgs {
    /// A practice set in the shipped format (default: the shipped set,
    /// `practice/requests.json`).
    #[arg(long, value_name = "FILE")]
    pub set: Option<std::path::PathBuf>,
    /// Only these task ids (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Only this half of the set (default: both, reported apart).
    #[arg(long, value_enum)]
    pub half: Option<Half>,
    /// At most this many tasks, in the set's order.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Candidates sampled per round.
    #[arg(long, default_value_t = GenerateOptions::default().candidates)]
    pub candidates: usize,
    /// Repair rounds after the first.
    #[arg(long, default_value_t = GenerateOptions::default().repair_rounds)]
    pub repair_rounds: usize,
    /// Also measure the model alone: a conventional prompt, one greedy
    /// sample, graded on the same held-back tests.
    #[arg(long)]
    pub raw: bool,
    /// Who answers the pipeline's questions (at most 3 per request).
    #[arg(long, value_enum, default_value_t = AskMode::None)]
    pub ask: AskMode,
    /// Keep every candidate's behaviour and held-back score in the JSON
    /// report (`record`), for studying selection rules offline.
    #[arg(long)]
    pub record: bool,
    /// Only check the set: every reference solution must pass its own
    /// examples and tests in the sandbox. No model is used.
    #[arg(long)]
    pub check: bool,
    /// Keep the scratch data dir (skills, drafts and the learnings log,
    /// every candidate included) and say where it is.
    #[arg(long)]
    pub keep: bool,
    /// Print a JSON object as the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

/// `autolearn bench learn`.
pub async fn learn(paths: &Paths, llm: Llm, args: &LearnBenchArgs) -> anyhow::Result<()> {
    let text = match &args.set {
        Some(f) => {
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?
        }
        None => SHIPPED.to_owned(),
    };
    let set = PracticeSet::parse(&text).context("parsing the practice set")?;
    let mut tasks: Vec<(Task, Half)> = set.tasks.iter().cloned().zip(set.halves()).collect();
    if !args.only.is_empty() {
        tasks.retain(|(t, _)| args.only.contains(&t.id));
    }
    if let Some(h) = args.half {
        tasks.retain(|(_, half)| *half == h);
    }
    tasks.truncate(args.limit.unwrap_or(usize::MAX));
    anyhow::ensure!(!tasks.is_empty(), "no task to run");

    let mut scratch = Scratch::open(paths, "learn").await?;
    scratch.keep = args.keep;
    if args.keep {
        eprintln!("learn bench: keeping {}", scratch.dir().display());
    }
    if args.check {
        let wrong = check(&scratch.sandbox, &set).await;
        println!(
            "practice set: {} tasks, {} reference solutions wrong",
            set.tasks.len(),
            wrong.len()
        );
        for w in &wrong {
            println!("- {w}");
        }
        if args.json {
            println!(
                "{}",
                serde_json::json!({"tasks": set.tasks.len(), "wrong": wrong})
            );
        }
        anyhow::ensure!(wrong.is_empty(), "the practice set is inconsistent");
        return Ok(());
    }

    let app = scratch.app.clone().with_llm(llm.clone());
    let info = app.model().info();
    anyhow::ensure!(
        info.backend != "none",
        "bench learn needs a model: pass --llm local (after `autolearn model fetch`) or --llm openai"
    );
    let opts = GenerateOptions {
        candidates: args.candidates.max(1),
        repair_rounds: args.repair_rounds,
        ..Default::default()
    };
    eprintln!(
        "learn bench: {} requests with {} ({}), {} candidates, {} repair rounds{}{}",
        tasks.len(),
        info.backend,
        info.reasoning_model.as_deref().unwrap_or("-"),
        opts.candidates,
        opts.repair_rounds,
        if args.raw { ", raw baseline" } else { "" },
        match args.ask {
            AskMode::None => "",
            AskMode::Oracle => ", oracle answers questions",
            AskMode::FollowUp => ", oracle answers a draft's questions in a follow-up",
        }
    );
    let started = Instant::now();
    let mut results = Vec::with_capacity(tasks.len());
    for (i, (task, half)) in tasks.iter().enumerate() {
        let mut asked = opts.clone();
        let person = oracle(scratch.sandbox.clone(), task);
        match args.ask {
            AskMode::Oracle => asked.ask = Some(person.clone()),
            // As an MCP or REST client: value disputes wait for the
            // follow-up's answers.
            AskMode::FollowUp => asked.answers_later = true,
            AskMode::None => {}
        }
        let (mut r, draft) = run_task(&app, &scratch.sandbox, task, asked, args.record).await;
        r.half = *half;
        if args.ask == AskMode::FollowUp {
            r.followed = Some(match draft {
                Some(draft) => {
                    let sandbox = &scratch.sandbox;
                    let first = r.unchanged();
                    let opts = GenerateOptions {
                        answers_later: true,
                        ..opts.clone()
                    };
                    follow_up(&app, sandbox, task, &person, draft, &first, opts).await
                }
                None => r.unchanged(),
            });
        }
        if args.raw {
            let answer = raw::ask(&llm, task, &task.id).await;
            r.usage_raw = answer.usage;
            if let Some(rec) = r.record.as_mut() {
                rec.raw_code.clone_from(&answer.code);
            }
            r.raw = match &answer.code {
                Some(code) => {
                    let code = raw::sanitized(code);
                    Some(score(&scratch.sandbox, &task.id, &code, &task.id, &task.grading()).await)
                }
                None => Some(Score::default()),
            };
        }
        eprintln!("[{:>2}/{}] {}", i + 1, tasks.len(), r.line());
        results.push(r);
    }
    let report = Report::new(&info, &opts, args.raw, results, started.elapsed());
    report.print();
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    Ok(())
}

/// The reference solution as the person who answers: its result on the
/// disputed input, or "invalid" when it raises.
fn oracle(sandbox: Arc<Sandbox>, task: &Task) -> Asker {
    let (id, source, entry) = (task.id.clone(), task.reference.clone(), task.entry.clone());
    Arc::new(move |q: Question| {
        let (sandbox, id, source, entry) =
            (sandbox.clone(), id.clone(), source.clone(), entry.clone());
        async move {
            let code = SkillCode {
                deps: &[],
                name: &id,
                source: &source,
                entry: &entry,
                runtime: crate::runtime::Runtime::Core,
            };
            let got = sandbox
                .run(
                    code,
                    &q.input.to_string(),
                    &ResourceLimits::default(),
                    Determinism::Seeded(0),
                )
                .await;
            Some(match got {
                Ok(o) => Answer::Value(serde_json::from_str(&o.json).unwrap_or(Value::Null)),
                Err(_) => Answer::Invalid,
            })
        }
        .boxed()
    })
}

/// What the benchmark watches of one request's pipeline.
#[derive(Default)]
struct Watched {
    entry: String,
    codes: Vec<String>,
    decided: Option<(Verdict, Vec<Vec<Outcome>>, usize)>,
}

/// The skill stored under the task's name on the held-back tests.
async fn stored_score(app: &crate::app::App, sandbox: &Sandbox, task: &Task) -> Option<Score> {
    let skill = app.skills().get(DEFAULT_TENANT, &task.id).await.ok()?;
    let m = &skill.manifest;
    Some(score(sandbox, &m.name, &m.source, &m.entry, &task.grading()).await)
}

/// One request through the pipeline, and the draft it left with open
/// questions; the held-back tests run in the app's sandbox but outside the
/// app, which never sees them.
async fn run_task(
    app: &crate::app::App,
    sandbox: &Sandbox,
    task: &Task,
    mut opts: GenerateOptions,
    record: bool,
) -> (TaskResult, Option<OpenDraft>) {
    let watched: Arc<Mutex<Watched>> = Arc::default();
    let seen = watched.clone();
    opts.observer = Some(Arc::new(move |p| {
        let mut w = seen.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            Progress::Spec { entry, .. } => w.entry = entry,
            Progress::Candidate { code, .. } => w.codes.push(code),
            Progress::Decided {
                verdict,
                runs,
                inputs,
                ..
            } => w.decided = Some((verdict, runs, inputs.len())),
            _ => {}
        }
    }));
    let req = GenerateRequest {
        request: task.request.clone(),
        examples: task.examples.clone(),
        name: Some(task.id.clone()),
        ..Default::default()
    };
    let t0 = Instant::now();
    let outcome = app.generate_skill(DEFAULT_TENANT, req, opts).await;
    let wall = t0.elapsed();
    let w = std::mem::take(&mut *watched.lock().unwrap_or_else(|e| e.into_inner()));

    let grading = task.grading();
    // The first candidate, kept as it was sampled: the single-sample
    // baseline.
    let single = match w.codes.first() {
        Some(code) => Some(score(sandbox, &task.id, code, &w.entry, &grading).await),
        None => None,
    };
    let mut r = TaskResult::new(task, single, wall);
    if record {
        let mut correct = Vec::with_capacity(w.codes.len());
        for code in &w.codes {
            correct.push(
                score(sandbox, &task.id, code, &w.entry, &grading)
                    .await
                    .all(),
            );
        }
        r.record = Some(Record {
            examples: task.examples.len(),
            inputs: w.decided.as_ref().map_or(0, |d| d.2),
            correct,
            verdict: w.decided.as_ref().map(|d| d.0.clone()),
            raw_code: None,
            runs: w.decided.map(|d| d.1).unwrap_or_default(),
        });
    }
    let mut draft = None;
    match outcome {
        Ok(out) => {
            r.published = out.published || out.awaiting_answers;
            r.held_for_answers = out.awaiting_answers;
            r.candidates = out.candidates;
            r.llm_calls = out.llm_calls;
            r.usage = out.usage;
            r.questions = out.asked.len();
            if out.skill.is_some() {
                r.trust = out.trust;
                r.held_back = stored_score(app, sandbox, task).await;
            } else {
                r.error = out.reasons.first().map(|s| crate::text::truncate(s, 200));
            }
            draft = OpenDraft::of(&out);
        }
        Err(e) => r.error = Some(crate::text::truncate(&e.to_string(), 200)),
    }
    (r, draft)
}
