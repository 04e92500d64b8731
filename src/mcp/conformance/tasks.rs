//! The conformance suite's fixtures for the Tasks extension (SEP-2663):
//! a plain tool, tools the server runs as tasks (slow, failing, panicking,
//! asking one or two questions), and one that asks through an
//! input-required result first and then becomes a task. They run through
//! the same task machinery as `generate_skill` ([`crate::tasks`]).

use std::time::Duration;

use futures_util::FutureExt;
use rmcp::model::{CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Tool};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::{Value, json};

use super::input_required::{accepted, answer, ask, elicit};
use super::object;
use crate::mcp::tasks::{self as wire, client_takes_tasks, tasks_required};
use crate::tasks::{Failure, Tasks, Work};

const GREET: &str = "greet";
const SLOW: &str = "slow_compute";
const FAILING: &str = "failing_job";
const PANICKING: &str = "protocol_error_job";
const CONFIRM: &str = "confirm_delete";
const MULTI: &str = "multi_input";
const MRTR_THEN_TASK: &str = "test_tool_with_task";

/// The longest a fixture sleeps.
const MAX_SLEEP: u64 = 120;
/// How long a fixture's question waits.
const WAIT: Duration = Duration::from_secs(300);

/// The fixture tools of this module.
pub fn tools() -> Vec<Tool> {
    let name = json!({"type": "object", "properties": {"name": {"type": "string"}}});
    let slow = json!({"type": "object", "properties": {
        "seconds": {"type": "number", "minimum": 0, "maximum": MAX_SLEEP},
        "label": {"type": "string"}
    }});
    let file = json!({"type": "object", "properties": {"filename": {"type": "string"}}});
    let none = json!({"type": "object", "properties": {}});
    vec![
        Tool::new(GREET, "Greets by name at once (never a task)", object(name)),
        Tool::new(
            SLOW,
            "Sleeps `seconds`, then answers (a task when the client takes one)",
            object(slow),
        ),
        Tool::new(
            FAILING,
            "A task whose tool fails after a second (tasks required)",
            object(none.clone()),
        ),
        Tool::new(
            PANICKING,
            "A task that panics: a protocol error",
            object(none.clone()),
        ),
        Tool::new(
            CONFIRM,
            "A task that asks before deleting a file",
            object(file),
        ),
        Tool::new(
            MULTI,
            "A task that asks two questions at once",
            object(none.clone()),
        ),
        Tool::new(
            MRTR_THEN_TASK,
            "Asks the user's name, then greets in a task (tasks required)",
            object(none),
        ),
    ]
}

fn text(s: impl Into<String>) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(s)])
}

fn work<F>(f: F) -> Work
where
    F: FnOnce(
            crate::tasks::TaskContext,
        ) -> futures_util::future::BoxFuture<'static, Result<CallToolResult, Failure>>
        + Send
        + 'static,
{
    Box::new(move |ctx| {
        f(ctx)
            .map(|r| r.and_then(|result| wire::finish(Ok(result))))
            .boxed()
    })
}

fn confirm_request(filename: &str) -> Value {
    elicit(&format!("Delete {filename}?"), "confirm", "boolean")
}

/// The protocol error of `protocol_error_job`: a panic, which the task
/// runner must turn into a failed task.
fn explode() -> Result<CallToolResult, Failure> {
    panic!("protocol_error_job panics by design")
}

/// Call a fixture tool of this module; `None` if `name` is not one.
pub async fn call(
    tasks: &Tasks,
    tenant: &str,
    request: &CallToolRequestParams,
    cx: &RequestContext<RoleServer>,
) -> Option<Result<CallToolResponse, McpError>> {
    let args = request.arguments.clone().unwrap_or_default();
    let as_task = client_takes_tasks(cx);
    let start = |tool: &'static str, w: Work| {
        wire::start(tasks, tenant, tool, Duration::from_secs(MAX_SLEEP), w)
    };
    Some(match request.name.as_ref() {
        GREET => {
            let who = args.get("name").and_then(Value::as_str).unwrap_or("World");
            Ok(text(format!("Hello, {who}!")).into())
        }
        SLOW => {
            let seconds = args
                .get("seconds")
                .and_then(Value::as_f64)
                .unwrap_or(1.0)
                .clamp(0.0, MAX_SLEEP as f64);
            let label = args
                .get("label")
                .and_then(Value::as_str)
                .unwrap_or("job")
                .to_owned();
            let done = format!("Computed {label} in {seconds}s");
            if seconds == 0.0 || !as_task {
                tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
                return Some(Ok(text(done).into()));
            }
            start(
                SLOW,
                work(move |_| {
                    async move {
                        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
                        Ok::<_, Failure>(text(done))
                    }
                    .boxed()
                }),
            )
            .await
        }
        FAILING if !as_task => Err(tasks_required()),
        FAILING => {
            start(
                FAILING,
                work(|_| {
                    async {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        Ok::<_, Failure>(CallToolResult::error(vec![ContentBlock::text(
                            "the job failed, as it always does",
                        )]))
                    }
                    .boxed()
                }),
            )
            .await
        }
        PANICKING if !as_task => Err(tasks_required()),
        PANICKING => {
            start(
                PANICKING,
                work(|_| {
                    async {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        explode()
                    }
                    .boxed()
                }),
            )
            .await
        }
        CONFIRM if !as_task => Err(tasks_required()),
        CONFIRM => {
            let filename = args
                .get("filename")
                .and_then(Value::as_str)
                .unwrap_or("file")
                .to_owned();
            start(
                CONFIRM,
                work(move |ctx| {
                    async move {
                        let reply = ctx.ask("confirm", confirm_request(&filename), WAIT).await;
                        let yes = reply.as_ref().and_then(|r| accepted(r, "confirm"))
                            == Some(&json!(true));
                        Ok::<_, Failure>(text(if yes {
                            format!("Deleted {filename}")
                        } else {
                            format!("Kept {filename}")
                        }))
                    }
                    .boxed()
                }),
            )
            .await
        }
        MULTI if !as_task => Err(tasks_required()),
        MULTI => {
            start(
                MULTI,
                work(|ctx| {
                    async move {
                        let (name, sure) = tokio::join!(
                            ctx.ask("name", elicit("Your name?", "name", "string"), WAIT),
                            ctx.ask("confirm", elicit("Go ahead?", "confirm", "boolean"), WAIT),
                        );
                        let name = name
                            .as_ref()
                            .and_then(|r| accepted(r, "name"))
                            .and_then(Value::as_str)
                            .unwrap_or("nobody")
                            .to_owned();
                        let sure = sure.as_ref().and_then(|r| accepted(r, "confirm"))
                            == Some(&json!(true));
                        Ok::<_, Failure>(text(format!(
                            "{name} said {}",
                            if sure { "yes" } else { "no" }
                        )))
                    }
                    .boxed()
                }),
            )
            .await
        }
        MRTR_THEN_TASK if !as_task => Err(tasks_required()),
        MRTR_THEN_TASK => match answer(request.input_responses.as_ref(), "user_name") {
            None => ask(
                json!({"user_name": elicit("What is your name?", "name", "string")}),
                None,
            )
            .map(Into::into),
            Some(reply) => {
                let name = accepted(reply, "name")
                    .and_then(Value::as_str)
                    .unwrap_or("stranger")
                    .to_owned();
                start(
                    MRTR_THEN_TASK,
                    work(move |_| {
                        async move {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            Ok::<_, Failure>(text(format!("Hello, {name}! (from a task)")))
                        }
                        .boxed()
                    }),
                )
                .await
            }
        },
        _ => return None,
    })
}
