//! How an error of the core reads over HTTP: the one place the taxonomy
//! ([`crate::fault`]) meets HTTP, used by the REST handlers and by the
//! auth layer in front of both `/api` and `/mcp`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::fault::{Classify, Fault};

/// A core error as an HTTP response. The body is `{"error": object}`, the
/// status follows the kind, `Retry-After` is set when waiting helps, and a
/// host fault is logged with `what` (its text is withheld).
pub(crate) struct ApiError {
    status: StatusCode,
    object: serde_json::Value,
    retry_after: Option<u64>,
}

impl ApiError {
    /// `e`, which happened while doing `what`.
    pub(crate) fn of(what: &str, e: &dyn Classify) -> Self {
        if e.fault() == Fault::Host {
            tracing::error!(kind = e.kind(), "{what}: {e}");
        }
        Self {
            status: status_of(e),
            object: e.to_object(),
            retry_after: e.retry_after().map(|d| d.as_secs().max(1)),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(json!({"error": self.object}))).into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        r
    }
}

/// The status of a core error's kind.
fn status_of(e: &dyn Classify) -> StatusCode {
    match (e.fault(), e.kind()) {
        (Fault::Host, "store") if e.retry_after().is_some() => StatusCode::SERVICE_UNAVAILABLE,
        (Fault::Host, _) => StatusCode::INTERNAL_SERVER_ERROR,
        (_, "not_found" | "unknown_project") => StatusCode::NOT_FOUND,
        (
            _,
            "not_published"
            | "conflict"
            | "dependency"
            | "project_in_progress"
            | "no_project"
            | "working"
            | "not_ready"
            | "all_complete",
        ) => StatusCode::CONFLICT,
        (_, "quota_exceeded" | "busy") => StatusCode::TOO_MANY_REQUESTS,
        (_, "bad_request" | "bad_input" | "usage") => StatusCode::BAD_REQUEST,
        (_, "no_llm") => StatusCode::SERVICE_UNAVAILABLE,
        (_, "llm") => StatusCode::BAD_GATEWAY,
        // The request was understood; the skill it names or carries failed
        // (verification, a call's own error).
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}
