//! What `bench learn` measured, per request and in all.

use std::time::Duration;

use serde::Serialize;

use super::set::Score;
use crate::learn::generate::GenerateOptions;
use crate::llm::{BackendInfo, Usage};

/// One request's result.
#[derive(Debug, Clone, Serialize)]
pub struct TaskResult {
    /// The task.
    pub id: String,
    /// Its domain.
    pub domain: String,
    /// The single unverified sample on the held-back tests (`None`: the
    /// model gave no code).
    pub single: Option<Score>,
    /// Whether the pipeline published a skill.
    pub published: bool,
    /// The stored skill's trust (published or draft).
    pub trust: Option<f64>,
    /// The stored skill on the held-back tests.
    pub held_back: Option<Score>,
    /// Candidates sampled.
    pub candidates: usize,
    /// Model calls.
    pub llm_calls: u32,
    /// Tokens (and, for the local model, time) used.
    pub usage: Usage,
    /// Wall time of the pipeline, verification and storage included.
    pub wall_ms: u64,
    /// Why nothing was stored, or what failed.
    pub error: Option<String>,
}

impl TaskResult {
    fn single_ok(&self) -> bool {
        self.single.is_some_and(|s| s.all())
    }

    fn stored_ok(&self) -> bool {
        self.held_back.is_some_and(|s| s.all())
    }

    /// One progress line.
    pub fn line(&self) -> String {
        let mark = |ok: bool| if ok { "pass" } else { "fail" };
        let state = match (self.published, self.trust) {
            (true, Some(t)) => format!("published (trust {t:.0})"),
            (false, Some(t)) => format!("draft (trust {t:.0})"),
            _ => "nothing stored".into(),
        };
        let held = self
            .held_back
            .map_or("-".into(), |s| format!("{}/{}", s.passed, s.total));
        format!(
            "{:<26} single {}  pipeline {:<24} held-back {:<5} {:>6.1}s",
            self.id,
            mark(self.single_ok()),
            state,
            held,
            self.wall_ms as f64 / 1e3
        )
    }
}

/// Mean of `xs`, if any.
fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Median of `xs`, if any.
fn median(mut xs: Vec<f64>) -> Option<f64> {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    (n > 0).then(|| {
        if n % 2 == 1 {
            xs[n / 2]
        } else {
            f64::midpoint(xs[n / 2 - 1], xs[n / 2])
        }
    })
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Backend and model.
    pub llm: BackendInfo,
    /// Candidates per round.
    pub candidates: usize,
    /// Repair rounds.
    pub repair_rounds: usize,
    /// Requests run.
    pub requests: usize,
    /// Single samples that pass every held-back test.
    pub single_correct: usize,
    /// Their share of the requests, in percent (also their precision: an
    /// unverified sample is always "published").
    pub single_pass_rate: f64,
    /// Skills the pipeline published.
    pub published: usize,
    /// Published skills that pass every held-back test.
    pub published_correct: usize,
    /// Correct published skills per request, in percent.
    pub pipeline_pass_rate: f64,
    /// Correct published skills per published skill, in percent.
    pub precision: Option<f64>,
    /// Requests that ended as a draft, in percent.
    pub draft_rate: f64,
    /// Requests that ended with nothing stored, in percent.
    pub nothing_rate: f64,
    /// `pipeline_pass_rate / single_pass_rate` (`None` when the baseline is 0).
    pub pass_rate_ratio: Option<f64>,
    /// Mean trust of stored skills that pass every held-back test.
    pub trust_correct: Option<f64>,
    /// Mean trust of stored skills that fail one.
    pub trust_wrong: Option<f64>,
    /// Stored skills that pass every held-back test, drafts included.
    pub stored_correct: usize,
    /// Tokens of the whole run per published skill.
    pub tokens_per_published: Option<f64>,
    /// Wall time of the whole run per published skill, in seconds.
    pub seconds_per_published: Option<f64>,
    /// Median wall time of the requests that were published, in seconds.
    pub median_seconds_published: Option<f64>,
    /// Median wall time of every request, in seconds.
    pub median_seconds: Option<f64>,
    /// Tokens in all.
    pub usage: Usage,
    /// Generated tokens per second (backends that measure it).
    pub decode_tokens_per_sec: Option<f64>,
    /// Prompt tokens read per second (backends that measure it).
    pub prompt_tokens_per_sec: Option<f64>,
    /// Wall time of the run, in seconds.
    pub wall_seconds: f64,
    /// Each request.
    pub tasks: Vec<TaskResult>,
}

impl Report {
    /// Aggregate `tasks`.
    pub fn new(
        llm: &BackendInfo,
        opts: &GenerateOptions,
        tasks: Vec<TaskResult>,
        wall: Duration,
    ) -> Self {
        let n = tasks.len();
        let single_correct = tasks.iter().filter(|t| t.single_ok()).count();
        let published = tasks.iter().filter(|t| t.published).count();
        let published_correct = tasks
            .iter()
            .filter(|t| t.published && t.stored_ok())
            .count();
        let drafts = tasks
            .iter()
            .filter(|t| !t.published && t.trust.is_some())
            .count();
        let nothing = tasks.iter().filter(|t| t.trust.is_none()).count();
        let trust_of = |correct: bool| {
            let ts: Vec<f64> = tasks
                .iter()
                .filter(|t| t.held_back.is_some() && t.stored_ok() == correct)
                .filter_map(|t| t.trust)
                .collect();
            mean(&ts)
        };
        let mut usage = Usage::default();
        for t in &tasks {
            usage += t.usage;
        }
        let single_pass_rate = percent(single_correct, n);
        let pipeline_pass_rate = percent(published_correct, n);
        let per_published = |x: f64| (published > 0).then(|| x / published as f64);
        let secs = |t: &TaskResult| t.wall_ms as f64 / 1e3;
        Self {
            llm: llm.clone(),
            candidates: opts.candidates,
            repair_rounds: opts.repair_rounds,
            requests: n,
            single_correct,
            single_pass_rate,
            published,
            published_correct,
            pipeline_pass_rate,
            precision: (published > 0).then(|| percent(published_correct, published)),
            draft_rate: percent(drafts, n),
            nothing_rate: percent(nothing, n),
            pass_rate_ratio: (single_correct > 0).then(|| pipeline_pass_rate / single_pass_rate),
            trust_correct: trust_of(true),
            trust_wrong: trust_of(false),
            stored_correct: tasks.iter().filter(|t| t.stored_ok()).count(),
            tokens_per_published: per_published(
                (usage.prompt_tokens + usage.completion_tokens) as f64,
            ),
            seconds_per_published: per_published(wall.as_secs_f64()),
            median_seconds_published: median(
                tasks.iter().filter(|t| t.published).map(secs).collect(),
            ),
            median_seconds: median(tasks.iter().map(secs).collect()),
            decode_tokens_per_sec: usage.decode_tokens_per_sec(),
            prompt_tokens_per_sec: usage.prompt_tokens_per_sec(),
            usage,
            wall_seconds: wall.as_secs_f64(),
            tasks,
        }
    }

    /// The table.
    pub fn print(&self) {
        let opt = |v: Option<f64>, unit: &str| v.map_or("-".into(), |v| format!("{v:.1}{unit}"));
        let n = self.requests;
        println!(
            "learn bench: {n} requests, {} {}, {} candidates, {} repair rounds",
            self.llm.backend,
            self.llm.reasoning_model.as_deref().unwrap_or("-"),
            self.candidates,
            self.repair_rounds
        );
        println!("  {:<40} {:>18} {:>18}", "", "single sample", "pipeline");
        println!(
            "  {:<40} {:>18} {:>18}",
            "correct and published (held-back tests)",
            format!(
                "{}/{n} ({:.1}%)",
                self.single_correct, self.single_pass_rate
            ),
            format!(
                "{}/{n} ({:.1}%)",
                self.published_correct, self.pipeline_pass_rate
            )
        );
        println!(
            "  {:<40} {:>18} {:>18}",
            "published",
            format!("{n} (unverified)"),
            self.published
        );
        println!(
            "  {:<40} {:>18} {:>18}",
            "precision of published",
            format!("{:.1}%", self.single_pass_rate),
            opt(self.precision, "%")
        );
        println!(
            "  {:<40} {:>18} {:>18}",
            "drafts / nothing stored",
            "-",
            format!("{:.1}% / {:.1}%", self.draft_rate, self.nothing_rate)
        );
        println!(
            "  pass rate ratio (pipeline / single): {}",
            self.pass_rate_ratio
                .map_or("- (the single sample never passed)".into(), |r| format!(
                    "{r:.1}x"
                ))
        );
        println!(
            "  trust of correct skills {}, of wrong skills {} ({} stored skills correct, drafts included)",
            opt(self.trust_correct, ""),
            opt(self.trust_wrong, ""),
            self.stored_correct
        );
        println!(
            "  per published skill: {} tokens, {} of wall time; median request {} (published {})",
            opt(self.tokens_per_published, ""),
            opt(self.seconds_per_published, " s"),
            opt(self.median_seconds, " s"),
            opt(self.median_seconds_published, " s")
        );
        println!(
            "  model: {} prompt + {} generated tokens; decode {} tok/s, prompt {} tok/s; run {:.0} s",
            self.usage.prompt_tokens,
            self.usage.completion_tokens,
            opt(self.decode_tokens_per_sec, ""),
            opt(self.prompt_tokens_per_sec, ""),
            self.wall_seconds
        );
    }
}
