//! `--ask follow-up`: the person answers a draft's questions afterwards, in
//! follow-up calls, as an MCP or REST client does (`generate_skill`
//! with the draft's id and its `answers`; [`crate::app::App::settle_draft`]).
//! The reference solution answers, as in `--ask oracle`.
//!
//! Both columns then come from one set of candidates: the pipeline as it
//! ends without a person (the evidence decides; a skill held for the
//! person's answers counts as published, as its trust would publish it),
//! and the same request once the person answered the draft's open
//! questions (the candidates weighed before run first; the
//! model is asked again only when the answers rule them all out). A
//! request that ended published, or with nothing stored, or as a draft
//! without questions, has nothing to follow up: its second column is its
//! first. Asking in the loop (`--ask oracle`) asks one question at a time
//! and needs a run of its own.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::set::{Score, Task};
use super::stats::median;
use crate::app::{App, GenerateOutcome};
use crate::learn::generate::{Asker, GenerateOptions, Question, Settled};
use crate::sandbox::Sandbox;
use crate::skills::{DEFAULT_TENANT, SkillId};

/// A request after the person answered its draft's questions.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Followed {
    /// Questions answered (0: nothing to follow up).
    pub questions: usize,
    /// Whether a skill is published now.
    pub published: bool,
    /// The stored skill's trust.
    pub trust: Option<f64>,
    /// The stored skill on the held-back tests.
    pub held_back: Option<Score>,
    /// Wall time of the request and its follow-up.
    pub wall_ms: u64,
}

impl Followed {
    /// Right on every held-back test.
    pub fn correct(&self) -> bool {
        self.held_back.is_some_and(|s| s.all())
    }
}

/// A draft's id and open questions, from the first call.
pub struct OpenDraft {
    id: SkillId,
    questions: Vec<Question>,
}

impl OpenDraft {
    /// The draft `out` left with open questions, if any.
    pub fn of(out: &GenerateOutcome) -> Option<Self> {
        let id = out.skill.as_ref()?["id"].as_str()?.parse().ok()?;
        (!out.published && !out.questions.is_empty()).then(|| Self {
            id,
            questions: out.questions.clone(),
        })
    }
}

/// Answer `draft`'s questions with `oracle` in follow-up calls, as long
/// as the draft comes back with new ones and the question budget lasts,
/// and grade what is stored then; `first` is the request's own result.
pub async fn follow_up(
    app: &App,
    sandbox: &Sandbox,
    task: &Task,
    oracle: &Asker,
    mut draft: OpenDraft,
    first: &Followed,
    opts: GenerateOptions,
) -> Followed {
    let t0 = Instant::now();
    let mut questions = 0;
    let mut last: Option<GenerateOutcome> = None;
    while questions < opts.max_questions {
        let mut answers = Vec::with_capacity(draft.questions.len());
        for q in std::mem::take(&mut draft.questions) {
            let input = q.input.clone();
            if let Some(answer) = oracle(q).await {
                answers.push(Settled { input, answer });
            }
        }
        if answers.is_empty() {
            break;
        }
        questions += answers.len();
        let out = app
            .settle_draft(None, DEFAULT_TENANT, &draft.id, answers, opts.clone())
            .await;
        // Nothing passes the answers: the first draft stays as it was,
        // unpublished.
        let Ok(out) = out else { break };
        if out.skill.is_none() {
            break;
        }
        let next = OpenDraft::of(&out);
        last = Some(out);
        match next {
            Some(next) => draft = next,
            None => break,
        }
    }
    let wall = Duration::from_millis(first.wall_ms) + t0.elapsed();
    let mut followed = Followed {
        questions,
        published: false,
        trust: first.trust,
        held_back: first.held_back,
        wall_ms: u64::try_from(wall.as_millis()).unwrap_or(u64::MAX),
    };
    if let Some(out) = last {
        followed.published = out.published;
        followed.trust = out.trust;
        followed.held_back = super::stored_score(app, sandbox, task).await;
    }
    followed
}

/// The follow-up's figures for a group of requests.
#[derive(Debug, Clone, Serialize)]
pub struct FollowSummary {
    /// Skills held for the answers (their trust would have published them).
    pub held: usize,
    /// Questions answered in all.
    pub questions: usize,
    /// Skills published once the questions were answered.
    pub published: usize,
    /// Of them, right on every held-back test.
    pub published_correct: usize,
    /// Correct published skills per published skill, in percent.
    pub precision: Option<f64>,
    /// Stored skills right on every held-back test, drafts included.
    pub stored_correct: usize,
    /// Median wall time (request and follow-up) of the published ones.
    pub median_seconds_published: Option<f64>,
}

impl FollowSummary {
    /// The figures of a group's `followed` requests, `held` of which were
    /// held for the answers; `None` when none was followed up.
    pub(super) fn of(held: usize, followed: Vec<Followed>) -> Option<Self> {
        if followed.is_empty() {
            return None;
        }
        let published = followed.iter().filter(|f| f.published).count();
        let published_correct = followed
            .iter()
            .filter(|f| f.published && f.correct())
            .count();
        Some(Self {
            held,
            questions: followed.iter().map(|f| f.questions).sum(),
            published,
            published_correct,
            precision: (published > 0).then(|| 100.0 * published_correct as f64 / published as f64),
            stored_correct: followed.iter().filter(|f| f.correct()).count(),
            median_seconds_published: median(
                followed
                    .iter()
                    .filter(|f| f.published)
                    .map(|f| f.wall_ms as f64 / 1e3)
                    .collect(),
            ),
        })
    }
}
