//! `POST /api/skills/generate`: a skill from plain English, or a follow-up
//! that settles a draft's questions with the person's answers.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use serde::Deserialize;

use super::{error, failure};
use crate::app::App;
use crate::app::TenantId;
use crate::learn::generate::{GenerateOptions, GenerateRequest, Settled};
use crate::skills::{Example, SkillId};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenerateBody {
    #[serde(default)]
    request: Option<String>,
    #[serde(default)]
    examples: Vec<Example>,
    /// A follow-up: the draft whose questions `answers` settle.
    #[serde(default)]
    draft: Option<SkillId>,
    #[serde(default)]
    answers: Vec<Settled>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    candidates: Option<usize>,
    /// `core` or `data`; chosen from the request when absent.
    #[serde(default)]
    runtime: Option<crate::runtime::Runtime>,
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
                format!(
                    "the body must be {{request, examples?, name?, candidates?}} or {{draft, answers}}: {e}"
                ),
            );
        }
    };
    let opts = GenerateOptions {
        candidates: body
            .candidates
            .unwrap_or(GenerateOptions::default().candidates)
            .clamp(1, 8),
        // The client answers a draft's questions in a follow-up request.
        answers_later: true,
        ..GenerateOptions::default()
    };
    let outcome = match (body.draft, body.request) {
        (Some(draft), None) if !body.answers.is_empty() => {
            app.settle_draft(None, &tenant, &draft, body.answers, opts)
                .await
        }
        (None, Some(request)) => {
            let req = GenerateRequest {
                request,
                examples: body.examples,
                name: body.name,
                answers: body.answers,
                runtime: body.runtime,
                ..Default::default()
            };
            app.generate_skill(&tenant, req, opts).await
        }
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "give `request` (a new skill) or `draft` with `answers` (a follow-up)".into(),
            );
        }
    };
    match outcome {
        Ok(out) => Json(out).into_response(),
        Err(e) => failure("generate", &e),
    }
}
