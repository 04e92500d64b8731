//! The Tasks extension (SEP-2663, `io.modelcontextprotocol/tasks`) on the
//! wire: a tool call the server runs as a task answers at once with a flat
//! `CreateTaskResult`; `tasks/get` inlines the result (a tool error is
//! `completed` with `isError`, a protocol error `failed` with `error`);
//! `tasks/update` carries answers to the task's `inputRequests`;
//! `tasks/cancel` asks it to stop. The tasks themselves ([`crate::tasks`])
//! belong to the caller's tenant and live in the store.
//!
//! The server decides: a task-capable tool runs as a task only for a
//! request that declares the extension (in its `_meta` or its session's
//! capabilities); for anyone else it runs as a plain call, as before.

use std::time::{Duration, SystemTime};

use rmcp::model::{
    CallToolResponse, CallToolResult, ClientCapabilities, CreateTaskResult, DetailedTask,
    GetTaskResult, InputRequests, JsonObject, Task, TaskPayload, TaskStatus, UpdateTaskParams,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::{Map, Value};

use super::McpServer;
use super::tools::{failure, internal};
use crate::tasks::{Failure, Finish, Start, Status, TaskError, TaskView, Tasks, Work};

/// How long a finished task stays readable after it was created, beyond
/// the time the work may take.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);
/// The polling interval suggested to clients.
pub const POLL: Duration = Duration::from_secs(1);

/// Whether this request's client can take a task.
pub fn client_takes_tasks(context: &RequestContext<RoleServer>) -> bool {
    context
        .client_capabilities()
        .is_some_and(|caps| caps.supports_tasks())
}

/// The error for a tool that runs only as a task, called by a client that
/// cannot take one.
pub fn tasks_required() -> McpError {
    McpError::missing_required_client_capability(
        ClientCapabilities::builder().enable_tasks().build(),
    )
}

fn rfc3339(ms: i64) -> String {
    let at = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(at).to_string()
}

fn task(view: &TaskView) -> Task {
    let status = match view.status {
        Status::Working => TaskStatus::Working,
        Status::InputRequired => TaskStatus::InputRequired,
        Status::Completed => TaskStatus::Completed,
        Status::Failed => TaskStatus::Failed,
        Status::Cancelled => TaskStatus::Cancelled,
    };
    let mut t = Task::new(
        view.id.clone(),
        status,
        rfc3339(view.created_ms),
        rfc3339(view.updated_ms),
    )
    .with_ttl_ms(u64::try_from(view.ttl_ms).unwrap_or(1))
    .with_poll_interval_ms(u64::try_from(view.poll_ms).unwrap_or(1000));
    t.status_message = view.message.clone();
    t
}

fn object(v: Option<&Value>) -> JsonObject {
    v.and_then(Value::as_object).cloned().unwrap_or_default()
}

/// `tasks/get`'s answer for `view`.
fn detailed(view: &TaskView) -> Result<GetTaskResult, McpError> {
    let payload = match view.status {
        Status::Working => TaskPayload::Working,
        Status::InputRequired => {
            let requests: InputRequests =
                serde_json::from_value(Value::Object(view.input_requests.clone()))
                    .map_err(internal)?;
            TaskPayload::InputRequired {
                input_requests: requests,
            }
        }
        Status::Completed => TaskPayload::Completed {
            result: object(view.result.as_ref()),
        },
        Status::Failed => TaskPayload::Failed {
            error: object(view.error.as_ref()),
        },
        Status::Cancelled => TaskPayload::Cancelled,
    };
    Ok(GetTaskResult::new(DetailedTask::new(task(view), payload)))
}

/// A task error as JSON-RPC: an unknown task is `-32602`.
pub fn task_error(e: &TaskError) -> McpError {
    match e {
        TaskError::Unknown(_) => McpError::invalid_params(e.to_string(), None),
        _ => match failure(e) {
            Err(rpc) => rpc,
            Ok(result) => {
                McpError::internal_error(e.to_string(), result.structured_content.clone())
            }
        },
    }
}

/// What a tool's outcome is as a task's end: a result (tool errors
/// included, with `isError`), or a protocol error.
pub fn finish(outcome: Result<CallToolResult, McpError>) -> Finish {
    match outcome {
        Ok(result) => serde_json::to_value(&result).map_err(|e| Failure::internal(e.to_string())),
        Err(e) => Err(Failure {
            code: i64::from(e.code.0),
            message: e.message.into_owned(),
            data: e.data,
        }),
    }
}

/// Start `work` as a task of `tenant` and answer the call with it.
pub async fn start(
    tasks: &Tasks,
    tenant: &str,
    tool: &str,
    runs_for: Duration,
    work: Work,
) -> Result<CallToolResponse, McpError> {
    let view = tasks
        .start(
            tenant,
            Start {
                tool: tool.to_owned(),
                ttl: runs_for.saturating_add(KEEP),
                poll: POLL,
                message: Some(format!("{tool} started")),
            },
            work,
        )
        .await
        .map_err(|e| task_error(&e))?;
    Ok(CallToolResponse::Task(CreateTaskResult::new(task(&view))))
}

impl McpServer {
    /// `tasks/get` for `tenant`.
    pub(super) async fn task_get(&self, tenant: &str, id: &str) -> Result<GetTaskResult, McpError> {
        let view = self
            .app
            .tasks()
            .get(tenant, id)
            .await
            .map_err(|e| task_error(&e))?;
        detailed(&view)
    }

    /// `tasks/update` for `tenant`: answers checked against their questions.
    pub(super) async fn task_update(
        &self,
        tenant: &str,
        request: UpdateTaskParams,
    ) -> Result<(), McpError> {
        let running = self.app.tasks();
        let view = running
            .get(tenant, &request.task_id)
            .await
            .map_err(|e| task_error(&e))?;
        let answers = checked_answers(&view, request.input_responses)?;
        running
            .update(tenant, &request.task_id, answers)
            .await
            .map_err(|e| task_error(&e))
    }

    /// `tasks/cancel` for `tenant`.
    pub(super) async fn task_cancel(&self, tenant: &str, id: &str) -> Result<(), McpError> {
        self.app
            .tasks()
            .cancel(tenant, id)
            .await
            .map_err(|e| task_error(&e))
    }
}

/// The answers of a `tasks/update` the task is waiting on, each checked
/// against the question's schema when it is an accepted elicitation.
fn checked_answers(
    view: &TaskView,
    responses: std::collections::BTreeMap<String, Value>,
) -> Result<Map<String, Value>, McpError> {
    let mut out = Map::new();
    for (key, response) in responses {
        let Some(request) = view.input_requests.get(&key) else {
            continue; // not asked, or answered already: ignored
        };
        if request["method"] == "elicitation/create" {
            super::elicit::check(&request["params"], &response)?;
        }
        out.insert(key, response);
    }
    Ok(out)
}
