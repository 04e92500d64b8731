//! `POST /api/skills/generate`: a skill from plain English.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use serde::Deserialize;

use super::{error, quota_exceeded};
use crate::app::{AddError, App, GenerateSkillError};
use crate::learn::generate::{GenerateOptions, GenerateRequest};
use crate::mcp::TenantId;
use crate::skills::Example;

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

pub(super) async fn generate(
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
        ..Default::default()
    };
    match app.generate_skill(&tenant, req, opts).await {
        Ok(out) => Json(out).into_response(),
        Err(GenerateSkillError::Invalid(m)) => error(StatusCode::BAD_REQUEST, "bad_request", m),
        Err(e @ GenerateSkillError::Llm(crate::llm::LlmError::Unavailable)) => {
            error(StatusCode::SERVICE_UNAVAILABLE, "no_llm", e.to_string())
        }
        Err(e @ GenerateSkillError::Llm(_)) => error(StatusCode::BAD_GATEWAY, "llm", e.to_string()),
        Err(GenerateSkillError::Quota(q)) => quota_exceeded(&q),
        Err(GenerateSkillError::Add(AddError::Store(crate::store::StoreError::Quota(q)))) => {
            quota_exceeded(&app.refused(&tenant, q))
        }
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
