//! `autolearn learn`: the practice loop from the command line. It starts
//! (or resumes) a project, works on it for `--hours`, shows a progress bar
//! per project and phase on stderr, and completes the project when its plan
//! is finished (otherwise the next `learn` resumes it).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde_json::{Value, json};

use super::{Failure, LlmArgs, open_with_llm};
use crate::config::Paths;
use crate::practice::curriculum::{Curriculum, check};
use crate::practice::{Observer, Practice, PracticeError, PracticeOptions, StepDone};
use crate::skills::DEFAULT_TENANT;

/// `autolearn learn ...`
#[derive(Debug, Args)]
pub struct LearnArgs {
    /// The project (default: the one in progress, else the manager's pick:
    /// business priority, prerequisites met, lower complexity).
    #[arg(long)]
    pub project: Option<String>,
    /// Work time, in hours (fractions allowed: 0.25 is 15 minutes).
    #[arg(long, default_value_t = 1.0)]
    pub hours: f64,
    /// Candidates sampled per generation round.
    #[arg(long, default_value_t = PracticeOptions::default().candidates)]
    pub candidates: usize,
    /// Repair rounds per generation.
    #[arg(long, default_value_t = PracticeOptions::default().repair_rounds)]
    pub repair_rounds: usize,
    /// Curricula to read instead of the shipped ones (a directory of
    /// `*.json` files in the format of `curricula/README.md`).
    #[arg(long, value_name = "DIR")]
    pub curricula: Option<std::path::PathBuf>,
    /// Only check the curricula: every reference solution must pass its own
    /// examples and held-back tests in the sandbox. No model is used.
    #[arg(long)]
    pub check: bool,
    /// Print one JSON object as the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

fn practice_error(e: PracticeError) -> Failure {
    Failure::from(e)
}

fn bar(percent: f64) -> String {
    let filled = ((percent / 5.0).round() as usize).min(20);
    format!("{}{}", "█".repeat(filled), "░".repeat(20 - filled))
}

/// One line per finished step: the project's bar, the phase's, the step.
fn display() -> Observer {
    Arc::new(move |s: &StepDone| {
        let what = match s.result.get("trust").and_then(Value::as_f64) {
            Some(t) if s.status == "done" => format!("published, trust {t:.1}"),
            Some(t) => format!("kept as a draft, trust {t:.1}"),
            None => s.status.to_owned(),
        };
        eprintln!(
            "{} {:>5.1}% | phase {}/5 {:<24} {} | {:?} {} {}",
            bar(s.progress),
            s.progress,
            s.phase,
            s.phase_name,
            bar(s.phase_progress),
            s.action,
            if s.goal_id.is_empty() {
                &s.project_id
            } else {
                &s.goal_id
            },
            what
        );
    })
}

pub(super) async fn run(paths: &Paths, llm: &LlmArgs, args: LearnArgs) -> Result<(), Failure> {
    let curriculum = match &args.curricula {
        Some(dir) => Curriculum::from_dir(dir),
        None => Curriculum::shipped(),
    }
    .map_err(|e| Failure::usage("curriculum", e.to_string()))?;
    if args.check {
        // Reference solutions need the sandbox only, not the store.
        let (_, sandbox) = crate::app::App::open_parts(paths).await?;
        let wrong = check(&sandbox, &curriculum).await;
        let goals = curriculum.goals().count();
        println!(
            "{}",
            json!({"domains": curriculum.domains.len(), "projects": curriculum.projects().count(), "goals": goals, "wrong": wrong})
        );
        return if wrong.is_empty() {
            Ok(())
        } else {
            Err(Failure::failed(
                "curriculum",
                format!("{} reference solutions are wrong", wrong.len()),
            ))
        };
    }
    if !(args.hours > 0.0 && args.hours <= 24.0 * 30.0) {
        return Err(Failure::usage(
            "usage",
            "--hours must be more than 0 and at most 720",
        ));
    }
    let app = open_with_llm(paths, llm).await?;
    let practice = Practice::new(
        app,
        curriculum,
        PracticeOptions {
            candidates: args.candidates.max(1),
            repair_rounds: args.repair_rounds,
        },
    );
    let started = practice
        .start(DEFAULT_TENANT, args.project.as_deref())
        .await
        .map_err(practice_error)?;
    let project = &started["project"];
    let id = project["project_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if !args.json || std::io::stderr().is_terminal() {
        eprintln!(
            "autolearn: {} {} ({}), {} for {:.2} h",
            if started["started"] == true {
                "started"
            } else {
                "resuming"
            },
            project["name"].as_str().unwrap_or_default(),
            id,
            project["plan"]["total_steps"],
            args.hours
        );
    }
    let show = !args.json || std::io::stderr().is_terminal();
    let observer = show.then(display);
    let budget = Duration::from_secs_f64(args.hours * 3600.0);
    let worked = practice
        .work(DEFAULT_TENANT, budget, observer)
        .await
        .map_err(practice_error)?;
    let finished = worked["progress"].as_f64() == Some(100.0);
    let completed = if finished {
        Some(
            practice
                .complete(DEFAULT_TENANT)
                .await
                .map_err(practice_error)?,
        )
    } else {
        None
    };
    let out = json!({"work": worked, "completed": completed});
    if args.json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    }
    Ok(())
}
