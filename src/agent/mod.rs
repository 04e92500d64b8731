//! The consumer agent: what `autolearn agent` and the web UI's chat run.
//! A real tool-calling agent that uses AutoLearn the way any MCP client
//! would, and shows what AutoLearn is for:
//!
//! 1. It looks for a published skill that fits ([`skill_path`]:
//!    `search_skills`, then the model's judgement among the hits). When one
//!    fits, one `call_skill` answers: no code is written.
//! 2. Otherwise it works the task out with `run_python`, one step at a time
//!    ([`solve`]), and, once it has an answer, sends the trace to
//!    `crystallize`, so the same request next time takes path 1.
//!
//! The answer is a value computed in the sandbox (a step's result or the
//! skill's), never text the model made up, so the two paths can be
//! compared exactly. Data attached to the prompt is bound as variables and
//! never goes through the model ([`prompt`]).

mod choose;
mod cleanup;
pub mod host;
mod instructions;
pub mod prompt;
mod skill_path;
mod solve;
mod step;
mod table;

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::llm::{ChatModel, ChatRequest, ChatResponse, LlmError, Usage};
use crate::runtime::Runtime;
pub use host::Host;
pub use prompt::Prompt;

/// How the agent works.
#[derive(Clone)]
pub struct AgentOptions {
    /// Most `run_python` steps before it gives up.
    pub max_steps: usize,
    /// Send a successful trace to `crystallize`.
    pub crystallize: bool,
    /// Keep what it crystallizes as a draft until the person confirms the
    /// answer (`review_skill`): a wrong answer must never become a tool.
    pub draft_until_confirmed: bool,
    /// Sees every step as it happens (the CLI's display, the web UI).
    pub observer: Option<StepObserver>,
    /// Candidate codes sampled per step, tried in the sandbox in turn until
    /// one runs (0: 4 for the local model, whose batched decoding makes
    /// them nearly free, else 1).
    pub samples: usize,
    /// The runtime its steps run on: `data` gives the model numpy and
    /// pandas, which a small model writes far more reliably than the same
    /// work by hand in the standard library.
    pub runtime: Runtime,
}

impl Default for AgentOptions {
    fn default() -> Self {
        Self {
            max_steps: 6,
            crystallize: true,
            draft_until_confirmed: true,
            observer: None,
            samples: 0,
            runtime: Runtime::Core,
        }
    }
}

/// Receives each [`AgentStep`].
pub type StepObserver = Arc<dyn Fn(&AgentStep) + Send + Sync>;

/// One thing the agent did, as it happens.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentStep {
    /// It read the prompt.
    Task {
        /// The request, data blocks replaced by their variable names.
        task: String,
        /// What each data variable holds (never its contents).
        attachments: Vec<String>,
    },
    /// It searched the published skills.
    Search {
        /// The published hits, best first.
        hits: Vec<String>,
    },
    /// The model judged whether a hit fits.
    Judged {
        /// The skill it chose, if any.
        skill: Option<String>,
    },
    /// It called a skill.
    SkillCall {
        /// Which.
        skill: String,
        /// Whether it succeeded.
        ok: bool,
        /// The result, or the error.
        output: Value,
        /// Milliseconds the call took, as the agent saw it.
        ms: u64,
    },
    /// It wrote a code step.
    Code {
        /// 1, 2, ...
        step: usize,
        /// Which of the step's sampled candidates (1 when only one is).
        attempt: usize,
        /// The code.
        code: String,
    },
    /// A code step ran.
    Output {
        /// Which step.
        step: usize,
        /// Which candidate.
        attempt: usize,
        /// Whether it succeeded.
        ok: bool,
        /// Its result, or its error.
        output: Value,
        /// What it printed.
        stdout: String,
    },
    /// The trace went to `crystallize`.
    Crystallize {
        /// Whether a new skill was published.
        published: bool,
        /// Whether it waits as a draft for the person to confirm the answer.
        draft: bool,
        /// The skill made or found, if any.
        skill: Option<String>,
        /// Its id (what a review names).
        id: Option<String>,
        /// Why not, when none was.
        reason: Option<String>,
    },
    /// The answer.
    Answer {
        /// The value.
        answer: Value,
        /// The skill that gave it, if one did.
        skill_used: Option<String>,
    },
}

/// What a chat with the agent tells the tenant's live pages, as the web
/// UI reads it (`type` is `agent_step` or `agent_done`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentNotice {
    /// A step of the chat.
    AgentStep {
        /// The chat.
        chat: String,
        /// The step.
        step: AgentStep,
    },
    /// The chat ended.
    AgentDone {
        /// The chat.
        chat: String,
        /// The report, when it answered.
        report: Option<AgentReport>,
        /// The error, when it did not.
        error: Option<String>,
    },
}

/// What a run did and cost; `--json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentReport {
    /// The answer: a value computed in the sandbox.
    pub answer: Value,
    /// The skill that answered, when the skill path was taken.
    pub skill_used: Option<String>,
    /// Every MCP tool called, in order.
    pub tools_called: Vec<String>,
    /// Model calls made.
    pub llm_calls: u64,
    /// Tokens they used (prompt and completion).
    pub llm_tokens: u64,
    /// Wall time of the whole run.
    pub elapsed_ms: u64,
    /// What `crystallize` said, when it was called.
    pub crystallized: Option<Value>,
    /// The trace the steps were recorded in, when code was run.
    pub trace: Option<String>,
}

/// The agent could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The MCP server could not be reached.
    #[error("connecting to AutoLearn: {0}")]
    Connect(String),
    /// A tool call failed at the protocol level.
    #[error("calling {tool}: {message}")]
    Tool {
        /// Which tool.
        tool: String,
        /// What went wrong.
        message: String,
    },
    /// The model failed.
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// No answer within the step budget.
    #[error("no answer after {steps} steps{}", last_error.as_ref().map(|e| format!("; the last error: {e}")).unwrap_or_default())]
    GaveUp {
        /// Steps taken.
        steps: usize,
        /// The last step's error, if it failed.
        last_error: Option<String>,
        /// Model calls spent on it.
        llm_calls: u64,
        /// Tokens spent on it.
        llm_tokens: u64,
    },
    /// The prompt is empty.
    #[error("the prompt is empty")]
    Empty,
    /// A bug in AutoLearn stopped the run (a panic; the server logs it).
    #[error("{0}")]
    Internal(String),
}

/// One run's state: the connection, the model, and what was spent.
struct Run<'a> {
    llm: &'a dyn ChatModel,
    host: &'a Host,
    options: &'a AgentOptions,
    prompt: Prompt,
    tools_called: Vec<String>,
    llm_calls: u64,
    usage: Usage,
}

impl Run<'_> {
    fn emit(&self, step: AgentStep) {
        if let Some(observe) = &self.options.observer {
            observe(&step);
        }
    }

    async fn ask(&mut self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        self.llm_calls += 1;
        let response = self.llm.chat(request).await?;
        self.usage += response.usage;
        Ok(response)
    }

    /// One completion per temperature, counted as that many calls.
    async fn ask_many(
        &mut self,
        request: ChatRequest,
        temperatures: Vec<f32>,
    ) -> Vec<Result<ChatResponse, LlmError>> {
        self.llm_calls += temperatures.len() as u64;
        let answers = self.llm.chat_many(request, temperatures).await;
        for a in answers.iter().flatten() {
            self.usage += a.usage;
        }
        answers
    }

    /// Candidates per step (see [`AgentOptions::samples`]).
    fn samples(&self) -> usize {
        match self.options.samples {
            0 if self.llm.info().backend == "local" => 4,
            0 => 1,
            n => n.min(8),
        }
    }

    async fn call(&mut self, tool: &str, arguments: Value) -> Result<host::ToolAnswer, AgentError> {
        self.tools_called.push(tool.to_owned());
        self.host.call(tool, arguments).await
    }
}

/// Answer `prompt`: through a fitting published skill, else step by step
/// with `run_python` (and then crystallize what worked).
pub async fn run(
    llm: &dyn ChatModel,
    host: &Host,
    prompt: &str,
    options: &AgentOptions,
) -> Result<AgentReport, AgentError> {
    let started = Instant::now();
    let prompt = Prompt::parse(prompt);
    if prompt.task.trim().is_empty() && prompt.attachments.is_empty() {
        return Err(AgentError::Empty);
    }
    let mut run = Run {
        llm,
        host,
        options,
        prompt,
        tools_called: Vec::new(),
        llm_calls: 0,
        usage: Usage::default(),
    };
    run.emit(AgentStep::Task {
        task: run.prompt.task.clone(),
        attachments: run.prompt.describe(),
    });
    let (answer, skill_used, crystallized, trace) = match skill_path::try_skill(&mut run).await? {
        Some((skill, answer)) => (answer, Some(skill), None, None),
        None => {
            let solved = solve::solve(&mut run).await?;
            let crystallized = if options.crystallize {
                Some(solve::crystallize(&mut run, &solved).await?)
            } else {
                None
            };
            (solved.answer, None, crystallized, Some(solved.trace))
        }
    };
    run.emit(AgentStep::Answer {
        answer: answer.clone(),
        skill_used: skill_used.clone(),
    });
    Ok(AgentReport {
        answer,
        skill_used,
        tools_called: run.tools_called,
        llm_calls: run.llm_calls,
        llm_tokens: run.usage.prompt_tokens + run.usage.completion_tokens,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        crystallized,
        trace,
    })
}
