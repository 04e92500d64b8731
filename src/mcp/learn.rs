//! `learn`: a practice run over MCP. AutoLearn starts the next project of
//! its curriculum (or the one named) and works on it for `hours`:
//! research, implement, test, document, measure (`src/practice`). For a
//! client that takes tasks the run is a task (each finished step is its
//! status; cancelling stops the run after the step in flight); for others
//! it runs in the background and the call answers at once with the
//! project's numbers, as `POST /api/learning/project/work` does.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use rmcp::model::{CallToolResponse, CallToolResult, JsonObject};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::{Value, json};

use super::builtin::LEARN;
use super::tools::{failure, structured_result};
use super::{McpServer, tasks};
use crate::practice::{Observer, Practice, PracticeError, StepDone};
use crate::tasks::Work;

/// Hours of work when the call names none.
const DEFAULT_HOURS: f64 = 0.5;
/// The most one call may ask for (a day), as over REST.
const MAX_HOURS: f64 = 24.0;

fn hours(args: &JsonObject) -> Result<Duration, McpError> {
    let h = match args.get("hours") {
        None | Some(Value::Null) => DEFAULT_HOURS,
        Some(v) => v
            .as_f64()
            .ok_or_else(|| McpError::invalid_params("`hours` must be a number", None))?,
    };
    if !(h.is_finite() && h > 0.0 && h <= MAX_HOURS) {
        return Err(McpError::invalid_params(
            format!("`hours` must be above 0 and at most {MAX_HOURS}"),
            None,
        ));
    }
    Ok(Duration::from_secs_f64(h * 3600.0).max(Duration::from_secs(1)))
}

fn describe(s: &StepDone) -> String {
    format!(
        "{}: phase {} ({}){}: {}; project {:.0}% done",
        s.project_id,
        s.phase,
        s.phase_name,
        if s.goal_id.is_empty() {
            String::new()
        } else {
            format!(", goal {}", s.goal_id)
        },
        s.status,
        s.progress
    )
}

/// Stops owing work when the run is dropped before it ends (cancelled, or
/// the server shutting down), so nothing resumes it behind the client's back.
struct StopOwing {
    practice: Option<Practice>,
    tenant: String,
}

impl Drop for StopOwing {
    fn drop(&mut self) {
        if let Some(practice) = self.practice.take() {
            let tenant = std::mem::take(&mut self.tenant);
            tokio::spawn(async move {
                if let Err(e) = practice.stop_owing(&tenant).await {
                    tracing::warn!(tenant, "stopping a cancelled practice run failed: {e}");
                }
            });
        }
    }
}

fn answer(out: Result<Value, PracticeError>) -> Result<CallToolResult, McpError> {
    match out {
        Ok(v) => Ok(structured_result(v, false)),
        Err(e) => failure(&e),
    }
}

impl McpServer {
    /// `learn {project?, hours?}`.
    pub(super) async fn learn(
        &self,
        practice: &Practice,
        tenant: &str,
        args: &JsonObject,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let budget = hours(args)?;
        let project = match args.get("project") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(p.as_str()),
            Some(_) => {
                return Err(McpError::invalid_params(
                    "`project` must be a project id",
                    None,
                ));
            }
        };
        let started = match practice.start(tenant, project).await {
            Ok(v) => v,
            Err(e) => return Ok(failure(&e)?.into()),
        };
        if !tasks::client_takes_tasks(context) {
            return Ok(answer(practice.spawn_work(tenant, budget).await.map(|numbers| {
                json!({
                    "started": started,
                    "working": numbers,
                    "note": "The work runs in the background. Read learnings://recent for what it learns, \
                             or call learn from a client that takes tasks to follow it to the end.",
                })
            }))?
            .into());
        }
        let (practice, owner) = (practice.clone(), tenant.to_owned());
        let work: Work = Box::new(move |ctx: crate::tasks::TaskContext| {
            async move {
                let observer: Observer = {
                    let ctx = ctx.clone();
                    Arc::new(move |s: &StepDone| ctx.progress(describe(s)))
                };
                let mut guard = StopOwing {
                    practice: Some(practice.clone()),
                    tenant: owner.clone(),
                };
                let out = practice.work(&owner, budget, Some(observer)).await;
                guard.practice = None;
                tasks::finish(answer(
                    out.map(|numbers| json!({"started": started, "worked": numbers})),
                ))
            }
            .boxed()
        });
        tasks::start(self.app.tasks(), tenant, LEARN, budget, work).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn hours_are_bounded() {
        let of = |v: Value| hours(v.as_object().unwrap());
        assert_eq!(of(json!({})).unwrap(), Duration::from_secs(1800));
        assert_eq!(of(json!({"hours": 1})).unwrap(), Duration::from_secs(3600));
        for bad in [json!(0), json!(-1), json!(24.5), json!("2"), json!(1e300)] {
            assert!(of(json!({"hours": bad})).is_err(), "{bad}");
        }
    }
}
