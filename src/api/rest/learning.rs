//! `/api/learning/*`: the practice loop over REST, with the paths and
//! response shapes of the learning brief. Work runs in the background: `POST
//! /project/work` answers 202 at once, then progress is polled
//! (`/progress`) or streamed to the web UI as `practice` events.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::{error, parse};
use crate::app::TenantId;
use crate::practice::{Practice, PracticeError};

/// The most work one request may owe a project (a day).
pub const MAX_HOURS: f64 = 24.0;

/// Routes under `/api/learning`.
pub(super) fn routes(practice: Practice) -> Router {
    Router::new()
        .route("/curriculum/overview", get(overview))
        .route("/progress", get(progress))
        .route("/status", get(status))
        .route("/projects/priority", get(priority))
        .route("/project/start", post(start))
        .route("/project/work", post(work))
        .route("/project/complete", post(complete))
        .with_state(practice)
}

fn answer(out: Result<Value, PracticeError>, what: &str) -> Response {
    match out {
        Ok(v) => Json(v).into_response(),
        Err(e) => refusal(e, what),
    }
}

/// A practice error as the status a script can act on.
fn refusal(e: PracticeError, what: &str) -> Response {
    super::failure(what, &e)
}

async fn overview(
    State(p): State<Practice>,
    Extension(TenantId(t)): Extension<TenantId>,
) -> Response {
    answer(p.overview(&t).await, "learning overview")
}

async fn progress(
    State(p): State<Practice>,
    Extension(TenantId(t)): Extension<TenantId>,
) -> Response {
    answer(p.progress(&t).await, "learning progress")
}

async fn status(
    State(p): State<Practice>,
    Extension(TenantId(t)): Extension<TenantId>,
) -> Response {
    answer(p.status(&t).await, "learning status")
}

async fn priority(
    State(p): State<Practice>,
    Extension(TenantId(t)): Extension<TenantId>,
) -> Response {
    answer(p.priority(&t).await, "learning priority")
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StartBody {
    #[serde(default)]
    project_id: Option<String>,
}

/// `POST /project/start` with no body (the manager picks) or
/// `{"project_id": ID}`.
async fn start(
    State(p): State<Practice>,
    Extension(TenantId(t)): Extension<TenantId>,
    body: Bytes,
) -> Response {
    let body: StartBody = if body.iter().all(u8::is_ascii_whitespace) {
        StartBody::default()
    } else {
        match parse(&body, "empty or {\"project_id\": string}") {
            Ok(b) => b,
            Err(r) => return *r,
        }
    };
    answer(
        p.start(&t, body.project_id.as_deref()).await,
        "learning start",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkBody {
    hours: f64,
}

/// `POST /project/work {"hours": H}`: 202 with the project's numbers as
/// work begins in the background.
async fn work(
    State(p): State<Practice>,
    Extension(TenantId(t)): Extension<TenantId>,
    body: Bytes,
) -> Response {
    let body: WorkBody = match parse(&body, "{\"hours\": number}") {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Some(budget) = budget(body.hours) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("hours must be a number above 0 and at most {MAX_HOURS}"),
        );
    };
    match p.spawn_work(&t, budget).await {
        Ok(v) => (StatusCode::ACCEPTED, Json(v)).into_response(),
        Err(e) => refusal(e, "learning work"),
    }
}

/// `hours` as a budget, when it is one: finite, above 0, at most a day.
fn budget(hours: f64) -> Option<Duration> {
    (hours.is_finite() && hours > 0.0 && hours <= MAX_HOURS)
        .then(|| Duration::from_secs_f64(hours * 3600.0))
        .filter(|d| !d.is_zero())
}

async fn complete(
    State(p): State<Practice>,
    Extension(TenantId(t)): Extension<TenantId>,
) -> Response {
    answer(p.complete(&t).await, "learning complete")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_bounded() {
        assert_eq!(budget(1.0), Some(Duration::from_secs(3600)));
        assert_eq!(budget(0.25), Some(Duration::from_secs(900)));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 24.01, 1e-300] {
            assert_eq!(budget(bad), None, "{bad}");
        }
    }
}
