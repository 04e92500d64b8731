//! What generation takes and gives: the request, its options, progress
//! reports, the outcome and its errors.

use std::sync::Arc;

use serde_json::Value;

use futures_util::future::BoxFuture;

use crate::learn::agree::{Choice, Outcome, Verdict};
use crate::llm::{LlmError, Usage};
use crate::runtime::Runtime;
use crate::sandbox::Dependency;
use crate::skills::{Example, Requirement, SkillManifest};

/// What to generate.
#[derive(Debug, Clone, Default)]
pub struct GenerateRequest {
    /// The task, in plain English.
    pub request: String,
    /// Worked examples the skill must reproduce (the hard gate).
    pub examples: Vec<Example>,
    /// The skill's name, if the caller chose one.
    pub name: Option<String>,
    /// Published skills it may build on, shown to the model; the winner
    /// pins those it imports.
    pub building_blocks: Vec<BuildingBlock>,
    /// Their closure, for the sandbox (see `App::dependencies`).
    pub deps: Vec<Dependency>,
    /// What was learned before that bears on this request (related skills,
    /// edge cases met), one line each, shown to the model.
    pub context: Vec<String>,
    /// A person's answers to earlier questions: they join the gate after
    /// the examples (a value answer is shown to the model as an example).
    pub answers: Vec<Settled>,
    /// Programs from an earlier run of the same request, weighed again
    /// before any new one is sampled (a follow-up with answers needs no
    /// model call when one of them passes).
    pub prior: Vec<String>,
    /// The runtime the skill runs on; `None`: chosen from the request
    /// ([`super::runtime_for`]).
    pub runtime: Option<Runtime>,
}

/// A disputed input a person settled. On the wire (MCP, REST) it is
/// `{"input", "output"}` or `{"input", "invalid": true}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "SettledWire", into = "SettledWire")]
pub struct Settled {
    /// The input, as the question showed it.
    pub input: Value,
    /// What the person said.
    pub answer: Answer,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SettledWire {
    input: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    output: Option<Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    invalid: bool,
}

impl TryFrom<SettledWire> for Settled {
    type Error = String;
    fn try_from(w: SettledWire) -> Result<Self, String> {
        if !w.input.is_object() {
            return Err("an answer's `input` is an object".into());
        }
        let answer = match (w.output, w.invalid) {
            (Some(v), false) => Answer::Value(v),
            (None, true) => Answer::Invalid,
            _ => return Err("an answer has either `output` or `invalid: true`".into()),
        };
        Ok(Self {
            input: w.input,
            answer,
        })
    }
}

impl From<Settled> for SettledWire {
    fn from(s: Settled) -> Self {
        let (output, invalid) = match s.answer {
            Answer::Value(v) => (Some(v), false),
            Answer::Invalid => (None, true),
        };
        Self {
            input: s.input,
            output,
            invalid,
        }
    }
}

/// A published skill a new one may import as `skills.<name>`.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildingBlock {
    /// The skill, pinned at the version offered.
    pub requirement: Requirement,
    /// How to call it, e.g. `normalize_email(email)`.
    pub signature: String,
    /// What it does.
    pub description: String,
}

/// How hard to try, and who is watching.
#[derive(Clone)]
pub struct GenerateOptions {
    /// Candidates sampled per round. Default: 8 (measured by `autolearn
    /// bench learn`; a local model decodes them as one batch).
    pub candidates: usize,
    /// Rounds of repair after the first. Default: 2.
    pub repair_rounds: usize,
    /// Told of each step as it happens (a terminal's progress display, a
    /// UI's stream, a benchmark's record).
    pub observer: Option<Observer>,
    /// Asked which answer is right when passing candidates disagree (a
    /// person at a terminal, a UI, an MCP client; a benchmark's oracle).
    /// `None`: nobody to ask, the evidence decides.
    pub ask: Option<Asker>,
    /// At most this many questions per skill. Default: 3.
    pub max_questions: usize,
    /// The person can answer a draft's questions afterwards, in a follow-up
    /// call (an MCP or REST client). Passing candidates that return
    /// different values then keep the skill a draft until they do, rather
    /// than the evidence choosing between the values. Default: false.
    pub answers_later: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            candidates: 8,
            repair_rounds: 2,
            observer: None,
            ask: None,
            max_questions: 3,
            answers_later: false,
        }
    }
}

impl std::fmt::Debug for GenerateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenerateOptions")
            .field("candidates", &self.candidates)
            .field("repair_rounds", &self.repair_rounds)
            .field("observer", &self.observer.is_some())
            .field("ask", &self.ask.is_some())
            .field("max_questions", &self.max_questions)
            .field("answers_later", &self.answers_later)
            .finish()
    }
}

/// Receives [`Progress`]; called on the generating task, so it must be quick.
pub type Observer = Arc<dyn Fn(Progress) + Send + Sync>;

/// Answers a [`Question`]; `None` when the person would not say.
pub type Asker = Arc<dyn Fn(Question) -> BoxFuture<'static, Option<Answer>> + Send + Sync>;

/// Which answer is right for a disputed input: what the passing candidates
/// said, for a person to choose from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Question {
    /// The call, as Python (`f(x=1)`), bounded.
    pub call: String,
    /// The input.
    pub input: Value,
    /// The candidates' answers, most programs first; an error is the
    /// answer "this input is invalid".
    pub choices: Vec<Choice>,
}

impl Question {
    /// Whether it asks to confirm the one answer of candidates that agree
    /// but are too few to trust ([`crate::learn::confirm`]), rather than
    /// to choose between answers.
    pub fn confirms(&self) -> bool {
        self.choices.len() == 1
    }

    /// Whether programs that pass the examples return different values
    /// here, not only disagree on whether the input is valid.
    pub fn disputes_value(&self) -> bool {
        self.choices
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Value(_)))
            .count()
            > 1
    }
}

/// A question put to a person, and the answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Asked {
    /// The question.
    pub question: Question,
    /// The answer; `None` when the person would not say.
    pub answer: Option<Answer>,
}

/// A person's answer to a [`Question`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// The right result is this value (one of the choices, or another).
    Value(Value),
    /// The input is invalid: the skill should raise.
    Invalid,
}

/// One step of the pipeline, as it happens.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Progress {
    /// The spec is drafted; `inputs` test inputs were derived from it.
    Spec {
        /// The skill's name.
        name: String,
        /// The function every candidate defines.
        entry: String,
        /// Inputs every candidate will run on.
        inputs: usize,
    },
    /// A candidate was sampled (`round` 0 is the first, then repairs).
    Candidate {
        /// Its number, from 0, in sampling order.
        index: usize,
        /// The repair round it came from (0: the first round).
        round: usize,
        /// Its code.
        code: String,
    },
    /// A candidate ran on every input.
    Tested {
        /// Its number.
        index: usize,
        /// Examples it passed, of `examples`.
        passed: usize,
        /// The user's examples.
        examples: usize,
    },
    /// The candidates that pass were weighed. The test inputs and every
    /// candidate's behaviour ride along for in-process observers (a
    /// benchmark's record) and are not serialized.
    Decided {
        /// The verdict: winner, groups, support, disputes.
        verdict: Verdict,
        /// Independent agreement with the winner, 0 to 1.
        agreement: f64,
        /// The test inputs.
        #[serde(skip)]
        inputs: Vec<Value>,
        /// `runs[c][i]`: candidate `c` on input `i`.
        #[serde(skip)]
        runs: Vec<Vec<Outcome>>,
    },
    /// A person was asked about a disputed input, and answered (or not).
    Asked {
        /// The question.
        question: Question,
        /// The answer, if any.
        answer: Option<Answer>,
    },
    /// No candidate passed; failures go back to the model.
    Repair {
        /// The round, from 1.
        round: usize,
    },
}

impl Progress {
    /// The step in one line, for people (a terminal, a task's status).
    pub fn describe(&self) -> String {
        match self {
            Progress::Spec { name, inputs, .. } => {
                format!("spec drafted: {name}, {inputs} test inputs")
            }
            Progress::Candidate { index, round, code } => format!(
                "candidate {} sampled{} ({} lines)",
                *index + 1,
                if *round > 0 {
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
                *index + 1
            ),
            Progress::Decided {
                verdict, agreement, ..
            } => format!(
                "{} candidates pass the examples{}; the winner's group has {}, agreement {:.0}%, {} disputed inputs",
                verdict.passing.len(),
                if verdict.ruled_out.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({} more break what the request says of every result)",
                        verdict.ruled_out.len()
                    )
                },
                verdict.group.len(),
                100.0 * *agreement,
                verdict.disputed.len()
            ),
            Progress::Asked { question, answer } => format!(
                "asked about {}: {}",
                question.call,
                match answer {
                    Some(a) => serde_json::to_string(a).unwrap_or_default(),
                    None => "no answer".into(),
                }
            ),
            Progress::Repair { round } => {
                format!("no candidate passes every example: repair round {round}")
            }
        }
    }
}

/// An input on which passing candidates disagreed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EdgeCase {
    /// The input.
    pub input: Value,
    /// What the winner did (kept as a regression test when a value).
    pub agreed: Outcome,
    /// What each passing candidate did.
    pub outcomes: Vec<Outcome>,
}

/// A winning candidate and the evidence for it.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The skill: the winner's code, the spec, the user's examples plus the
    /// discovered edge cases as regression tests.
    pub manifest: SkillManifest,
    /// Independent agreement with the winner, 0 to 1.
    pub agreement: f64,
    /// Candidates sampled, repairs included.
    pub candidates: usize,
    /// Repair rounds it took.
    pub repair_rounds: usize,
    /// Inputs where passing candidates disagreed.
    pub edge_cases: Vec<EdgeCase>,
    /// Candidates that passed the examples but broke what the request
    /// says of every result (its rounding), so did not count.
    pub ruled_out: usize,
    /// Questions asked and their answers (answers are among the examples).
    pub asked: Vec<Asked>,
    /// Disputed inputs nobody was asked about, the most informative first
    /// (at most [`GenerateOptions::max_questions`]): what a person could
    /// settle.
    pub open_questions: Vec<Question>,
    /// Every program weighed, in sampling order (a follow-up with answers
    /// weighs them again: [`GenerateRequest::prior`]).
    pub programs: Vec<String>,
    /// Model calls made and what they cost.
    pub llm_calls: u32,
    /// Tokens used.
    pub usage: Usage,
}

/// Generation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// The model could not be used.
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// No candidate passed the examples, repairs included.
    #[error("no candidate passed every example after {candidates} candidates:\n- {}", .reasons.join("\n- "))]
    NoCandidate {
        /// Candidates sampled.
        candidates: usize,
        /// What went wrong, per candidate.
        reasons: Vec<String>,
        /// Model calls made.
        llm_calls: u32,
        /// Tokens used.
        usage: Usage,
        /// Questions the person answered on the way: answers that every
        /// candidate contradicts end here too.
        asked: Vec<Asked>,
    },
}
