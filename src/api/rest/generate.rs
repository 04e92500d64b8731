//! `POST /api/skills/generate`: a skill from plain English.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use serde::Deserialize;

use super::{error, failure};
use crate::app::App;
use crate::app::TenantId;
use crate::learn::generate::{GenerateOptions, GenerateRequest};
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
        Err(e) => failure("generate", &e),
    }
}
