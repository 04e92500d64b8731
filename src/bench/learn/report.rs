//! What `bench learn` measured, per request, per half of the set and in
//! all, with the calibration of trust against held-back correctness.

use std::time::Duration;

use serde::Serialize;

use super::followup::{FollowSummary, Followed};
use super::set::{Half, Score, Task};
use super::stats::{median, percent};
use crate::learn::agree::{Outcome, Verdict};
use crate::learn::generate::GenerateOptions;
use crate::llm::{BackendInfo, Usage};

/// One request's result.
#[derive(Debug, Clone, Serialize)]
pub struct TaskResult {
    /// The task.
    pub id: String,
    /// Its domain.
    pub domain: String,
    /// The half of the set it is in.
    pub half: Half,
    /// The raw model (`--raw`) on the held-back tests (`None`: not run).
    pub raw: Option<Score>,
    /// The raw model's tokens.
    pub usage_raw: Usage,
    /// The pipeline's first, unverified sample on the held-back tests
    /// (`None`: the model gave no code).
    pub single: Option<Score>,
    /// Whether the pipeline published a skill, deciding without a person.
    /// A skill held for the person's answers (`--ask follow-up`) counts:
    /// without anyone to answer, its trust publishes it.
    pub published: bool,
    /// Held as a draft until the person answers its value questions.
    pub held_for_answers: bool,
    /// The stored skill's trust (published or draft).
    pub trust: Option<f64>,
    /// The stored skill on the held-back tests.
    pub held_back: Option<Score>,
    /// Candidates sampled.
    pub candidates: usize,
    /// Questions the pipeline asked (`--ask`).
    pub questions: usize,
    /// Model calls.
    pub llm_calls: u32,
    /// Tokens (and, for the local model, time) used by the pipeline.
    pub usage: Usage,
    /// Wall time of the pipeline, verification and storage included.
    pub wall_ms: u64,
    /// Why nothing was stored, or what failed.
    pub error: Option<String>,
    /// After the person answered the draft's questions (`--ask follow-up`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followed: Option<Followed>,
    /// Every candidate's behaviour (`--record`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<Record>,
}

/// What the candidates of one request did, for studying selection rules
/// offline: the last decision's verdict, every candidate's behaviour on
/// the test inputs (the first `examples` are the user's examples), and
/// whether each candidate passes every held-back test.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// The user's examples (the first inputs).
    pub examples: usize,
    /// Test inputs.
    pub inputs: usize,
    /// Per candidate, in sampling order: right on every held-back test.
    pub correct: Vec<bool>,
    /// The raw model's code (`--raw`).
    pub raw_code: Option<String>,
    /// The last verdict (`None`: no candidate passed the examples).
    pub verdict: Option<Verdict>,
    /// `runs[c][i]`: candidate `c` on input `i`.
    pub runs: Vec<Vec<Outcome>>,
}

impl TaskResult {
    /// A result with only the baseline filled in.
    pub fn new(task: &Task, single: Option<Score>, wall: Duration) -> Self {
        Self {
            id: task.id.clone(),
            domain: task.domain.clone(),
            half: Half::Dev,
            raw: None,
            usage_raw: Usage::default(),
            single,
            published: false,
            held_for_answers: false,
            trust: None,
            held_back: None,
            candidates: 0,
            questions: 0,
            llm_calls: 0,
            usage: Usage::default(),
            wall_ms: u64::try_from(wall.as_millis()).unwrap_or(u64::MAX),
            error: None,
            followed: None,
            record: None,
        }
    }

    /// Nothing to follow up: the request's own result.
    pub fn unchanged(&self) -> Followed {
        Followed {
            questions: 0,
            published: self.published && !self.held_for_answers,
            trust: self.trust,
            held_back: self.held_back,
            wall_ms: self.wall_ms,
        }
    }

    fn raw_ok(&self) -> bool {
        self.raw.is_some_and(|s| s.all())
    }

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
            (true, Some(t)) if self.held_for_answers => format!("held (trust {t:.0})"),
            (true, Some(t)) => format!("published (trust {t:.0})"),
            (false, Some(t)) => format!("draft (trust {t:.0})"),
            _ => "nothing stored".into(),
        };
        let held = self
            .held_back
            .map_or("-".into(), |s| format!("{}/{}", s.passed, s.total));
        let raw = self.raw.map_or("-", |_| mark(self.raw_ok()));
        let answered = match self.followed {
            Some(f) if f.questions > 0 => format!(
                "  answered {}: {} {}",
                f.questions,
                match (f.published, f.trust) {
                    (true, Some(t)) => format!("published (trust {t:.0})"),
                    (false, Some(t)) => format!("draft (trust {t:.0})"),
                    _ => "nothing stored".into(),
                },
                f.held_back
                    .map_or("-".into(), |s| format!("{}/{}", s.passed, s.total))
            ),
            _ => String::new(),
        };
        format!(
            "{:<24} {:<8} raw {raw:<4} single {}  pipeline {:<22} held-back {:<5} q {} {:>6.1}s{answered}",
            self.id,
            self.half.as_str(),
            mark(self.single_ok()),
            state,
            held,
            self.questions,
            self.wall_ms as f64 / 1e3
        )
    }
}

/// Trust buckets of the calibration table: `[from, to)`, the last closed.
pub(super) const BUCKETS: [(f64, f64); 7] = [
    (0.0, 40.0),
    (40.0, 50.0),
    (50.0, 60.0),
    (60.0, 70.0),
    (70.0, 80.0),
    (80.0, 90.0),
    (90.0, 100.0),
];

/// Stored skills whose trust is in `[from, to)`, and how many are right.
#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    /// Lower bound of trust.
    pub from: f64,
    /// Upper bound (exclusive, but 100 is in the last bucket).
    pub to: f64,
    /// Stored skills (published or draft) in it.
    pub skills: usize,
    /// Of them, right on every held-back test.
    pub correct: usize,
}

/// The figures of a group of requests (all, or one half).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Requests run.
    pub requests: usize,
    /// Raw-model answers right on every held-back test (`None`: no `--raw`).
    pub raw_correct: Option<usize>,
    /// Their share of the requests, in percent: the raw model's pass@1.
    pub raw_pass_rate: Option<f64>,
    /// Single samples right on every held-back test.
    pub single_correct: usize,
    /// Their share, in percent (also their precision: an unverified sample
    /// is always "published").
    pub single_pass_rate: f64,
    /// Skills the pipeline published.
    pub published: usize,
    /// Published skills right on every held-back test.
    pub published_correct: usize,
    /// Correct published skills per request, in percent.
    pub pipeline_pass_rate: f64,
    /// Correct published skills per published skill, in percent.
    pub precision: Option<f64>,
    /// Requests that ended as a draft, in percent.
    pub draft_rate: f64,
    /// Requests that ended with nothing stored, in percent.
    pub nothing_rate: f64,
    /// Stored skills right on every held-back test, drafts included.
    pub stored_correct: usize,
    /// Mean trust of stored skills that are right.
    pub trust_correct: Option<f64>,
    /// Mean trust of stored skills that are wrong.
    pub trust_wrong: Option<f64>,
    /// Questions asked in all.
    pub questions: usize,
    /// Median wall time of the requests that were published, in seconds.
    pub median_seconds_published: Option<f64>,
    /// Median wall time of every request, in seconds.
    pub median_seconds: Option<f64>,
    /// Pipeline tokens per published skill.
    pub tokens_per_published: Option<f64>,
    /// Trust bucket → share of stored skills that are right.
    pub calibration: Vec<Bucket>,
    /// Once the person answered the drafts' questions (`--ask follow-up`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followed: Option<FollowSummary>,
}

impl Summary {
    fn of<'a>(tasks: impl Iterator<Item = &'a TaskResult> + Clone, raw: bool) -> Self {
        let n = tasks.clone().count();
        let count = |f: &dyn Fn(&TaskResult) -> bool| tasks.clone().filter(|t| f(t)).count();
        let raw_correct = raw.then(|| count(&|t| t.raw_ok()));
        let single_correct = count(&|t| t.single_ok());
        let published = count(&|t| t.published);
        let published_correct = count(&|t| t.published && t.stored_ok());
        let trust_of = |correct: bool| {
            let ts: Vec<f64> = tasks
                .clone()
                .filter(|t| t.held_back.is_some() && t.stored_ok() == correct)
                .filter_map(|t| t.trust)
                .collect();
            (!ts.is_empty()).then(|| ts.iter().sum::<f64>() / ts.len() as f64)
        };
        let secs = |t: &TaskResult| t.wall_ms as f64 / 1e3;
        let tokens: u64 = tasks
            .clone()
            .map(|t| t.usage.prompt_tokens + t.usage.completion_tokens)
            .sum();
        let calibration = BUCKETS
            .iter()
            .map(|&(from, to)| {
                let inside = |t: &TaskResult| {
                    t.held_back.is_some()
                        && t.trust
                            .is_some_and(|x| x >= from && (x < to || to >= 100.0))
                };
                Bucket {
                    from,
                    to,
                    skills: count(&inside),
                    correct: count(&|t| inside(t) && t.stored_ok()),
                }
            })
            .collect();
        Self {
            requests: n,
            raw_correct,
            raw_pass_rate: raw_correct.map(|c| percent(c, n)),
            single_correct,
            single_pass_rate: percent(single_correct, n),
            published,
            published_correct,
            pipeline_pass_rate: percent(published_correct, n),
            precision: (published > 0).then(|| percent(published_correct, published)),
            draft_rate: percent(count(&|t| !t.published && t.trust.is_some()), n),
            nothing_rate: percent(count(&|t| t.trust.is_none()), n),
            stored_correct: count(&|t| t.stored_ok()),
            trust_correct: trust_of(true),
            trust_wrong: trust_of(false),
            questions: tasks.clone().map(|t| t.questions).sum(),
            median_seconds_published: median(
                tasks.clone().filter(|t| t.published).map(secs).collect(),
            ),
            median_seconds: median(tasks.clone().map(secs).collect()),
            tokens_per_published: (published > 0).then(|| tokens as f64 / published as f64),
            calibration,
            followed: FollowSummary::of(
                tasks.clone().filter(|t| t.held_for_answers).count(),
                tasks.filter_map(|t| t.followed).collect(),
            ),
        }
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
    /// Every request.
    pub all: Summary,
    /// The development half (rules are tuned here), if it ran.
    pub dev: Option<Summary>,
    /// The held-out half (figures that count), if it ran.
    pub held_out: Option<Summary>,
    /// Pipeline tokens in all.
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
    /// Aggregate `tasks`; `raw`: the raw baseline ran.
    pub fn new(
        llm: &BackendInfo,
        opts: &GenerateOptions,
        raw: bool,
        tasks: Vec<TaskResult>,
        wall: Duration,
    ) -> Self {
        let half = |h: Half| {
            let mine = tasks.iter().filter(move |t| t.half == h);
            (mine.clone().count() > 0).then(|| Summary::of(mine, raw))
        };
        let mut usage = Usage::default();
        for t in &tasks {
            usage += t.usage;
        }
        Self {
            llm: llm.clone(),
            candidates: opts.candidates,
            repair_rounds: opts.repair_rounds,
            all: Summary::of(tasks.iter(), raw),
            dev: half(Half::Dev),
            held_out: half(Half::HeldOut),
            decode_tokens_per_sec: usage.decode_tokens_per_sec(),
            prompt_tokens_per_sec: usage.prompt_tokens_per_sec(),
            usage,
            wall_seconds: wall.as_secs_f64(),
            tasks,
        }
    }
}
