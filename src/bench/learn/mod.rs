//! `autolearn bench learn`: how often plain-English requests end as correct
//! tools, against the baseline of a single unverified sample from the same
//! model in the same run.
//!
//! Each request of the practice set ([`set`]) goes through the whole
//! generation pipeline on a scratch AutoLearn. The baseline is the
//! pipeline's first candidate (the greedy sample, given the same spec and
//! prompt), taken as it is: what a tool without verification would publish.
//! Then, and only then, both are run on the held-back tests.

mod report;
mod set;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;

use super::Scratch;
use crate::config::Paths;
use crate::learn::generate::{GenerateOptions, GenerateRequest, Progress};
use crate::llm::{Llm, Usage};
use crate::skills::DEFAULT_TENANT;
pub use report::{Report, TaskResult};
pub use set::{PracticeSet, SHIPPED, Score, Task, check, score};

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
    /// At most this many tasks, in the set's order.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Candidates sampled per round.
    #[arg(long, default_value_t = GenerateOptions::default().candidates)]
    pub candidates: usize,
    /// Repair rounds after the first.
    #[arg(long, default_value_t = GenerateOptions::default().repair_rounds)]
    pub repair_rounds: usize,
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
    let mut set = PracticeSet::parse(&text).context("parsing the practice set")?;
    if !args.only.is_empty() {
        set.tasks.retain(|t| args.only.contains(&t.id));
    }
    set.tasks.truncate(args.limit.unwrap_or(usize::MAX));
    anyhow::ensure!(!set.tasks.is_empty(), "no task to run");

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

    let app = scratch.app.clone().with_llm(llm);
    let info = app.model().info();
    anyhow::ensure!(
        info.backend != "none",
        "bench learn needs a model: pass --llm local (after `autolearn model fetch`) or --llm openai"
    );
    let opts = GenerateOptions {
        candidates: args.candidates.max(1),
        repair_rounds: args.repair_rounds,
        observer: None,
    };
    eprintln!(
        "learn bench: {} requests with {} ({}), {} candidates, {} repair rounds",
        set.tasks.len(),
        info.backend,
        info.reasoning_model.as_deref().unwrap_or("-"),
        opts.candidates,
        opts.repair_rounds
    );
    let started = Instant::now();
    let mut results = Vec::with_capacity(set.tasks.len());
    for (i, task) in set.tasks.iter().enumerate() {
        let r = run_task(&app, &scratch.sandbox, task, opts.clone()).await;
        eprintln!("[{:>2}/{}] {}", i + 1, set.tasks.len(), r.line());
        results.push(r);
    }
    let report = Report::new(&info, &opts, results, started.elapsed());
    report.print();
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    Ok(())
}

/// One request through the pipeline, then the held-back tests.
/// One request through the pipeline; the held-back tests run in the
/// app's sandbox but outside the app, which never sees them.
async fn run_task(
    app: &crate::app::App,
    sandbox: &crate::sandbox::Sandbox,
    task: &Task,
    mut opts: GenerateOptions,
) -> TaskResult {
    // The first candidate, kept as it was sampled: the baseline.
    let first: Arc<Mutex<(String, Option<String>)>> = Arc::default();
    let seen = first.clone();
    opts.observer = Some(Arc::new(move |p| {
        let mut f = seen.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            Progress::Spec { entry, .. } => f.0 = entry,
            Progress::Candidate { index: 0, code, .. } => f.1 = Some(code),
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
    let (entry, first_code) = first.lock().unwrap_or_else(|e| e.into_inner()).clone();

    let single = match &first_code {
        Some(code) => Some(score(sandbox, &task.id, code, &entry, &task.tests).await),
        None => None,
    };
    let mut r = TaskResult {
        id: task.id.clone(),
        domain: task.domain.clone(),
        single,
        published: false,
        trust: None,
        held_back: None,
        candidates: 0,
        llm_calls: 0,
        usage: Usage::default(),
        wall_ms: u64::try_from(wall.as_millis()).unwrap_or(u64::MAX),
        error: None,
    };
    match outcome {
        Ok(out) => {
            r.published = out.published;
            r.candidates = out.candidates;
            r.llm_calls = out.llm_calls;
            r.usage = out.usage;
            if out.skill.is_some() {
                r.trust = out.trust;
                if let Ok(skill) = app.skills().get(DEFAULT_TENANT, &task.id).await {
                    let m = &skill.manifest;
                    r.held_back =
                        Some(score(sandbox, &m.name, &m.source, &m.entry, &task.tests).await);
                }
            } else {
                r.error = out.reasons.first().map(|s| crate::text::truncate(s, 200));
            }
        }
        Err(e) => r.error = Some(crate::text::truncate(&e.to_string(), 200)),
    }
    r
}
