//! The REST face, for scripts and the web UI: JSON in, JSON out, the same
//! bearer-key tenants as MCP. Errors are `{"error": {"kind", "message"}}`
//! with a fitting status.

mod demo;
mod events;
mod generate;
mod generations;
mod learning;
mod logs;
mod skills;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::error::ApiError;
use crate::app::App;
use crate::fault::Classify;
use crate::practice::Practice;

/// Routes under `/api`.
pub(super) fn routes(app: App, practice: Practice) -> Router {
    Router::new()
        .route("/skills", get(skills::list))
        .route("/skills/generate", post(generate::generate))
        .route("/generations", post(generations::start))
        .route("/generations/{id}/answer", post(generations::answer))
        .route("/skills/{name}", get(skills::detail))
        .route("/skills/{name}/run", post(skills::run))
        .route("/skills/{name}/retire", post(skills::retire))
        .route("/skills/{name}/review", post(skills::review))
        .route("/learnings", get(logs::learnings))
        .route("/executions", get(logs::executions))
        .route("/whoami", get(demo::whoami))
        .route("/examples", get(demo::examples))
        .route("/mcp", get(demo::mcp_view))
        .route("/reset", post(demo::reset))
        .route("/agent", post(demo::agent))
        .route("/events", get(events::events))
        .route("/openapi.json", get(openapi))
        // The generations pages watch: this router's own.
        .layer(axum::Extension(std::sync::Arc::new(
            generations::Watched::default(),
        )))
        .with_state(app)
        .nest("/learning", learning::routes(practice))
}

/// The REST API's OpenAPI 3.1 description (`docs/openapi.json`).
async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        include_str!("../../../docs/openapi.json"),
    )
        .into_response()
}

/// What a page hears when work it started in the background stopped on a
/// bug (a panic: the server's log has where).
const BUG: &str = "the work stopped on a bug in AutoLearn (a panic); the server logs say where";

/// Run background work a page waits on (a chat, a generation), catching a
/// panic so the page still hears that it ended: a task that just died
/// would leave it waiting forever.
pub(super) async fn caught<T>(
    work: impl std::future::Future<Output = T>,
) -> Result<T, &'static str> {
    use futures_util::FutureExt;
    std::panic::AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|_| BUG)
}

/// Bytes of a plain-text error body kept when it is wrapped as JSON.
const MAX_ERROR_TEXT: usize = 2048;

/// Every error under `/api` is JSON, whoever made it: the handlers, axum's
/// own extractors (a malformed query string, an unknown method), or the
/// layers shared with `/mcp` (auth, body limits, the same-origin guard),
/// which answer in plain text. Scripts and the OpenAPI description can
/// rely on one shape.
pub(super) async fn json_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_ERROR_TEXT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let kind = match status {
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::TOO_MANY_REQUESTS => "busy",
        s if s.is_server_error() => "unavailable",
        _ => "bad_request",
    };
    let mut wrapped = error(status, kind, message);
    // Keep what the layer said beyond the body (Allow, Retry-After, ...).
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            wrapped.headers_mut().insert(name.clone(), value.clone());
        }
    }
    wrapped
}

fn error(status: StatusCode, kind: &str, message: String) -> Response {
    (
        status,
        Json(json!({"error": {"kind": kind, "message": message}})),
    )
        .into_response()
}

/// A failure of ours outside the core (an in-process session): logged,
/// and a 500 `internal`.
fn internal(what: &str, e: impl std::fmt::Display) -> Response {
    failure(what, &crate::fault::Internal::of(what, e))
}

/// `e` as a response (see [`ApiError`]).
fn failure(what: &str, e: &dyn Classify) -> Response {
    ApiError::of(what, e).into_response()
}

/// A JSON body, or a 400 that says what shape was expected.
/// 429 for work that holds one of a fixed number of places (chats,
/// watched generations): the tenant's share, or the server's, is taken.
fn busy(full: crate::slots::Full, what: &str) -> Response {
    let message = match full {
        crate::slots::Full::Tenant(n) => {
            format!("{n} {what} are running already; wait for one to end")
        }
        _ => format!("the server runs as many {what} as it can; try again shortly"),
    };
    let mut r = error(StatusCode::TOO_MANY_REQUESTS, "busy", message);
    r.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("5"),
    );
    r
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8], shape: &str) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the body must be {shape}: {e}"),
        ))
    })
}
