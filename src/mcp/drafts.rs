//! The tools that make and settle drafts: `generate_skill` (a new skill
//! from plain English, or a follow-up that settles a draft's questions)
//! and `review_skill` (a person's word on a draft).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use rmcp::model::{CallToolResponse, CallToolResult, JsonObject};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::{Value, json};

use super::builtin::GENERATE_SKILL;
use super::tools::{failure, str_arg, structured_result};
use super::{McpServer, ask, elicit, tasks};
use crate::app::{App, Review};
use crate::learn::generate::{
    Asker, GenerateOptions, GenerateRequest, Progress, Question, Settled,
};
use crate::skills::{Example, SkillId};
use crate::tasks::{TaskContext, Work};

/// `answers` as the pipeline takes them.
fn answers(args: &JsonObject) -> Result<Vec<Settled>, McpError> {
    serde_json::from_value(args.get("answers").cloned().unwrap_or(json!([]))).map_err(|e| {
        McpError::invalid_params(
            format!("`answers` must be [{{input, output}}] or [{{input, invalid: true}}]: {e}"),
            None,
        )
    })
}

/// How long a generation may run as a task (it is kept a day beyond).
const GENERATE_RUNS_FOR: Duration = Duration::from_secs(3600);
/// How long a generation's question waits for the person.
const ANSWER_WAIT: Duration = Duration::from_secs(600);

/// What a retry of an input-required result carries.
#[derive(Clone, Copy, Default)]
pub(super) struct Retry<'a> {
    /// The sealed state the server handed out.
    pub state: Option<&'a str>,
    /// The client's answers, by key.
    pub responses: Option<&'a rmcp::model::InputResponses>,
}

/// A `generate_skill` call, parsed.
enum GenerateCall {
    /// A new skill from a request.
    New(GenerateRequest),
    /// A follow-up that settles a draft's questions.
    Settle {
        draft: SkillId,
        answers: Vec<Settled>,
    },
}

fn parse_generate(args: &JsonObject) -> Result<GenerateCall, McpError> {
    let answers = answers(args)?;
    match args.get("draft") {
        Some(Value::String(id)) => {
            let draft: SkillId = id
                .parse()
                .map_err(|e| McpError::invalid_params(format!("`draft`: {e}"), None))?;
            if answers.is_empty() {
                return Err(McpError::invalid_params(
                    "a follow-up with `draft` needs `answers`",
                    None,
                ));
            }
            Ok(GenerateCall::Settle { draft, answers })
        }
        Some(Value::Null) | None => {
            let request = str_arg(args, "request")?.to_owned();
            let examples: Vec<Example> =
                serde_json::from_value(args.get("examples").cloned().unwrap_or(json!([])))
                    .map_err(|e| {
                        McpError::invalid_params(
                            format!("`examples` must be [{{input, output}}]: {e}"),
                            None,
                        )
                    })?;
            let name = args.get("name").and_then(Value::as_str).map(str::to_owned);
            Ok(GenerateCall::New(GenerateRequest {
                request,
                examples,
                name,
                answers,
                runtime: args
                    .get("runtime")
                    .map(|_| super::tools::runtime_arg(args))
                    .transpose()?,
                ..Default::default()
            }))
        }
        Some(_) => Err(McpError::invalid_params(
            "`draft` must be a draft's id",
            None,
        )),
    }
}

/// Run a parsed call with `llm` (the client's, borrowed) or the server's.
async fn run_generate(
    app: &App,
    llm: Option<crate::llm::Llm>,
    tenant: &str,
    call: GenerateCall,
    opts: GenerateOptions,
) -> Result<CallToolResult, McpError> {
    // An MCP client can always answer a draft's questions in a follow-up
    // call (with the draft's id, or by retrying an input-required result).
    let opts = GenerateOptions {
        answers_later: true,
        ..opts
    };
    let outcome = match (call, llm) {
        (GenerateCall::Settle { draft, answers }, llm) => {
            app.settle_draft(llm, tenant, &draft, answers, opts).await
        }
        (GenerateCall::New(req), Some(llm)) => {
            app.generate_skill_with(llm, tenant, req, opts).await
        }
        (GenerateCall::New(req), None) => app.generate_skill(tenant, req, opts).await,
    };
    match outcome {
        Ok(out) => {
            let value = serde_json::to_value(&out).unwrap_or_default();
            Ok(structured_result(
                value,
                !out.published && out.skill.is_none(),
            ))
        }
        Err(e) => failure(&e),
    }
}

/// A task's generation options: each step becomes the task's status, each
/// question an `elicitation/create` input request.
fn task_options(ctx: TaskContext) -> GenerateOptions {
    let observer = {
        let ctx = ctx.clone();
        Arc::new(move |step: Progress| ctx.progress(step.describe()))
    };
    let asked = Arc::new(AtomicUsize::new(0));
    let ask: Asker = Arc::new(move |question: Question| {
        let (ctx, asked) = (ctx.clone(), asked.clone());
        async move {
            let key = format!("question-{}", asked.fetch_add(1, Ordering::Relaxed) + 1);
            let response = ctx
                .ask(&key, elicit::question_request(&question), ANSWER_WAIT)
                .await?;
            elicit::answer_of(&question, &response)
        }
        .boxed()
    });
    GenerateOptions {
        observer: Some(observer),
        ask: Some(ask),
        ..GenerateOptions::default()
    }
}

impl McpServer {
    /// `generate_skill`: a task when the client takes tasks and the server
    /// has a model of its own (progress as the task's status, questions as
    /// input requests); else a plain call, with the client's model where
    /// the server has none and the client offers sampling.
    pub(super) async fn generate_skill(
        &self,
        tenant: &str,
        args: &JsonObject,
        retry: Retry<'_>,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        // A retry of an input-required result: its answers settle the draft.
        if let Some(state) = retry.state {
            let (draft, answers) = ask::answers(&self.app, tenant, state, retry.responses).await?;
            let call = GenerateCall::Settle { draft, answers };
            return self
                .finish_plain(tenant, call, GenerateOptions::default(), context)
                .await;
        }
        let call = parse_generate(args)?;
        if self.app.model().has_own() && tasks::client_takes_tasks(context) {
            let (app, owner) = (self.app.clone(), tenant.to_owned());
            let work: Work = Box::new(move |ctx: TaskContext| {
                async move {
                    tasks::finish(run_generate(&app, None, &owner, call, task_options(ctx)).await)
                }
                .boxed()
            });
            return tasks::start(
                self.app.tasks(),
                tenant,
                GENERATE_SKILL,
                GENERATE_RUNS_FOR,
                work,
            )
            .await;
        }
        let opts = GenerateOptions {
            ask: ask::live_asker(context),
            ..GenerateOptions::default()
        };
        self.finish_plain(tenant, call, opts, context).await
    }

    /// Run a call in this request and answer it: with the draft's open
    /// questions as an input-required result when the client can answer
    /// them, else with how to answer them in a follow-up.
    async fn finish_plain(
        &self,
        tenant: &str,
        call: GenerateCall,
        opts: GenerateOptions,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        // Without a model of our own, borrow the client's where it offers
        // sampling.
        let llm: Option<crate::llm::Llm> = if self.app.model().has_own() {
            None
        } else {
            super::sampling::Sampling::of(&context.peer).map(|s| Arc::new(s) as crate::llm::Llm)
        };
        let mut result = run_generate(&self.app, llm, tenant, call, opts).await?;
        let Some(outcome) = result.structured_content.as_mut() else {
            return Ok(result.into());
        };
        if ask::can_answer_inline(context)
            && let Some(asking) = ask::input_required(&self.app, tenant, outcome).await?
        {
            return Ok(asking.into());
        }
        if let Some(note) = ask::how_to_answer(outcome) {
            outcome["how_to_answer"] = note;
        }
        Ok(result.into())
    }

    pub(super) async fn review_skill(
        &self,
        tenant: &str,
        args: &JsonObject,
    ) -> Result<CallToolResult, McpError> {
        let name = str_arg(args, "name")?;
        let verdict: Review =
            serde_json::from_value(args.get("verdict").cloned().unwrap_or_default()).map_err(
                |_| McpError::invalid_params("`verdict` must be \"correct\" or \"wrong\"", None),
            )?;
        let seen: Option<SkillId> = match args.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(
                id.parse()
                    .map_err(|e| McpError::invalid_params(format!("`id`: {e}"), None))?,
            ),
            Some(_) => return Err(McpError::invalid_params("`id` must be a string", None)),
        };
        let note = match args.get("note") {
            None | Some(Value::Null) => None,
            Some(Value::String(n)) => Some(n.as_str()),
            Some(_) => return Err(McpError::invalid_params("`note` must be a string", None)),
        };
        match self
            .app
            .skills()
            .review(tenant, name, seen.as_ref(), verdict, note)
            .await
        {
            Ok(s) => Ok(structured_result(
                json!({"verdict": verdict, "skill": s.summary()}),
                false,
            )),
            Err(e) => failure(&e),
        }
    }
}
