//! Skills for scripts and the web UI: list and search, one skill in full
//! (versions, lineage, edge cases), run one, retire one.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{error, internal, parse, quota_exceeded};
use crate::app::{App, RunError, SearchError};
use crate::mcp::TenantId;
use crate::sandbox::{CallError, Determinism, ErrorKind, ResourceLimits};
use crate::skills::Status;
use crate::store::StoreError;

/// Versions shown with a skill, at most.
const MAX_VERSIONS: usize = 50;
/// Learnings shown with a skill, at most.
const MAX_NOTES: usize = 50;

#[derive(Deserialize)]
pub(super) struct ListQuery {
    /// Search words; none lists every skill.
    #[serde(default)]
    q: Option<String>,
    /// Include retired skills (listing only).
    #[serde(default)]
    all: bool,
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /api/skills?q=WORDS&all=true&limit=N`: the newest version of each
/// skill (drafts included), by name; with `q`, ranked by relevance.
pub(super) async fn list(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
    Query(q): Query<ListQuery>,
) -> Response {
    let limit = q.limit.unwrap_or(500).clamp(1, 5000);
    let words = q.q.as_deref().map(str::trim).filter(|w| !w.is_empty());
    let skills: Vec<Value> = match words {
        Some(words) => match app.search_skills(&tenant, words, limit).await {
            Ok(hits) => hits
                .iter()
                .map(|(s, score)| {
                    let mut v = s.summary();
                    v["score"] = ((score * 1000.0).round() / 1000.0).into();
                    v
                })
                .collect(),
            Err(e @ SearchError::QueryTooLong { .. }) => {
                return error(StatusCode::BAD_REQUEST, "bad_request", e.to_string());
            }
            Err(e) => return internal("search", e),
        },
        None => match app.store.list(&tenant).await {
            Ok(all) => all
                .iter()
                .filter(|s| q.all || s.status != Status::Retired)
                .take(limit)
                .map(|s| s.summary())
                .collect(),
            Err(e) => return internal("list", e),
        },
    };
    Json(json!({"skills": skills})).into_response()
}

fn not_found(name: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no skill named {:?}", crate::text::truncate(name, 128)),
    )
}

/// `GET /api/skills/{name}`: the newest version in full (source, schemas,
/// examples, KPIs, trust), its doc (written by practice: what it builds
/// on, the edge cases it was hardened against; null otherwise), its
/// versions (lineage), and what was learned about it (edge cases,
/// decisions).
pub(super) async fn detail(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
    Path(name): Path<String>,
) -> Response {
    let skill = match app.skill(&tenant, &name).await {
        Ok(s) => s,
        Err(StoreError::NotFound(_)) => return not_found(&name),
        Err(e) => return internal("skill", e),
    };
    let versions = match app.store.versions(&tenant, &name, MAX_VERSIONS).await {
        Ok(v) => v,
        Err(e) => return internal("versions", e),
    };
    let notes = match app.store.learnings_about(&tenant, &name, MAX_NOTES).await {
        Ok(n) => n,
        Err(e) => return internal("learnings", e),
    };
    let doc = match app.store.doc(&tenant, &skill.id).await {
        Ok(d) => d,
        Err(e) => return internal("doc", e),
    };
    let mut v = skill.detail();
    v["doc"] = doc.into();
    v["versions"] = versions
        .iter()
        .map(|s| {
            json!({
                "version": s.version, "id": s.id, "parent": s.parent, "status": s.status,
                "provenance": s.provenance, "created_at": s.created_at, "trust": s.trust(),
            })
        })
        .collect::<Vec<_>>()
        .into();
    v["edge_cases"] = notes
        .iter()
        .filter(|n| n.kind == "edge_case")
        .map(|n| n.detail.clone())
        .collect::<Vec<_>>()
        .into();
    v["learnings"] = serde_json::to_value(&notes).unwrap_or_default();
    Json(v).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunBody {
    #[serde(default)]
    input: Option<Value>,
}

/// `POST /api/skills/{name}/run {"input": {...}}`: one sandboxed call.
pub(super) async fn run(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let body: RunBody = match parse(&body, "{input: {...}}") {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let input = body.input.unwrap_or_else(|| json!({}));
    if !input.is_object() {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "`input` must be an object".into(),
        );
    }
    match app
        .run_skill(
            &tenant,
            &name,
            &input,
            ResourceLimits::default(),
            Determinism::Live,
        )
        .await
    {
        Ok(r) => Json(json!({
            "result": r.value,
            "version": r.skill.version,
            "fuel": r.output.fuel_used,
            "elapsed_ms": r.output.elapsed.as_secs_f64() * 1e3,
            "stdout": r.output.stdout,
        }))
        .into_response(),
        Err(RunError::NotFound(_)) => not_found(&name),
        Err(e @ RunError::NotPublished { .. }) => {
            error(StatusCode::CONFLICT, "not_published", e.to_string())
        }
        Err(RunError::Call(e)) => call_error(&e),
        Err(RunError::Store(e)) => internal("run", e),
        Err(RunError::Dependency(e)) => error(StatusCode::CONFLICT, "dependency", e.to_string()),
        // Counted when refused (App::begin_quota_call).
        Err(RunError::Quota(q)) => quota_exceeded(&q),
    }
}

/// A failed call: the caller's input (400), too busy (429), or the skill's
/// own failure (422), with the error object MCP and the CLI report.
fn call_error(e: &CallError) -> Response {
    let status = match e.kind() {
        ErrorKind::BadInput => StatusCode::BAD_REQUEST,
        ErrorKind::Host => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    (status, Json(json!({"error": e.to_json()}))).into_response()
}

/// `POST /api/skills/{name}/retire`: it stops being a tool.
pub(super) async fn retire(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
    Path(name): Path<String>,
) -> Response {
    match app.retire_skill(&tenant, &name).await {
        Ok(s) => Json(s.summary()).into_response(),
        Err(StoreError::NotFound(_)) => not_found(&name),
        Err(e) => internal("retire", e),
    }
}
