//! The REST face, for scripts and the web UI: JSON in, JSON out, the same
//! bearer-key tenants as MCP. Errors are `{"error": {"kind", "message"}}`
//! with a fitting status.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::app::{AddError, App, GenerateSkillError};
use crate::learn::generate::{GenerateOptions, GenerateRequest};
use crate::mcp::TenantId;
use crate::skills::Example;

/// Routes under `/api`.
pub(super) fn routes(app: App) -> Router {
    Router::new()
        .route("/skills/generate", post(generate))
        .route("/learnings", axum::routing::get(learnings))
        .route("/skills/{name}", axum::routing::get(skill))
        .with_state(app)
}

fn error(status: StatusCode, kind: &str, message: String) -> Response {
    (
        status,
        Json(json!({"error": {"kind": kind, "message": message}})),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenerateBody {
    request: String,
    #[serde(default)]
    examples: Vec<Example>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    candidates: Option<usize>,
}

async fn generate(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
    body: axum::body::Bytes,
) -> Response {
    let body: GenerateBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("the body must be {{request, examples?, name?, candidates?}}: {e}"),
            );
        }
    };
    let opts = GenerateOptions {
        candidates: body
            .candidates
            .unwrap_or(GenerateOptions::default().candidates)
            .clamp(1, 8),
        ..GenerateOptions::default()
    };
    let req = GenerateRequest {
        request: body.request,
        examples: body.examples,
        name: body.name,
    };
    match app.generate_skill(&tenant, req, opts).await {
        Ok(out) => Json(out).into_response(),
        Err(GenerateSkillError::Invalid(m)) => error(StatusCode::BAD_REQUEST, "bad_request", m),
        Err(e @ GenerateSkillError::Llm(crate::llm::LlmError::Unavailable)) => {
            error(StatusCode::SERVICE_UNAVAILABLE, "no_llm", e.to_string())
        }
        Err(e @ GenerateSkillError::Llm(_)) => error(StatusCode::BAD_GATEWAY, "llm", e.to_string()),
        Err(GenerateSkillError::Add(AddError::Busy(b))) => {
            let mut r = error(StatusCode::TOO_MANY_REQUESTS, "busy", b.to_string());
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
            r
        }
        Err(e) => {
            tracing::error!("generate: {e}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error".into(),
            )
        }
    }
}

#[derive(Deserialize)]
struct LearningsQuery {
    #[serde(default)]
    after: i64,
    #[serde(default)]
    limit: Option<usize>,
}

/// The tenant's learnings log, oldest first, `after` a sequence number.
async fn learnings(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
    axum::extract::Query(q): axum::extract::Query<LearningsQuery>,
) -> Response {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    match app.learnings(&tenant, q.after, limit).await {
        Ok(entries) => Json(json!({"learnings": entries})).into_response(),
        Err(e) => {
            tracing::error!("learnings: {e}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error".into(),
            )
        }
    }
}

/// One skill: manifest, lineage, status, KPIs and trust.
async fn skill(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    match app.skill(&tenant, &name).await {
        Ok(s) => Json(s.detail()).into_response(),
        Err(crate::store::StoreError::NotFound(_)) => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no skill named {name:?}"),
        ),
        Err(e) => {
            tracing::error!("skill: {e}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error".into(),
            )
        }
    }
}
