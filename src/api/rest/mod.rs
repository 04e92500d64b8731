//! The REST face, for scripts and the web UI: JSON in, JSON out, the same
//! bearer-key tenants as MCP. Errors are `{"error": {"kind", "message"}}`
//! with a fitting status.

mod demo;
mod events;
mod generate;
mod logs;
mod skills;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::app::App;

/// Routes under `/api`.
pub(super) fn routes(app: App) -> Router {
    Router::new()
        .route("/skills", get(skills::list))
        .route("/skills/generate", post(generate::generate))
        .route("/skills/{name}", get(skills::detail))
        .route("/skills/{name}/run", post(skills::run))
        .route("/skills/{name}/retire", post(skills::retire))
        .route("/learnings", get(logs::learnings))
        .route("/executions", get(logs::executions))
        .route("/whoami", get(demo::whoami))
        .route("/examples", get(demo::examples))
        .route("/mcp", get(demo::mcp_view))
        .route("/reset", post(demo::reset))
        .route("/agent", post(demo::agent))
        .route("/events", get(events::events))
        .with_state(app)
}

fn error(status: StatusCode, kind: &str, message: String) -> Response {
    (
        status,
        Json(json!({"error": {"kind": kind, "message": message}})),
    )
        .into_response()
}

/// A failure that is ours, not the caller's: logged, and a bare 500.
fn internal(what: &str, e: impl std::fmt::Display) -> Response {
    tracing::error!("{what}: {e}");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error".into(),
    )
}

/// A JSON body, or a 400 that says what shape was expected.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8], shape: &str) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the body must be {shape}: {e}"),
        ))
    })
}
