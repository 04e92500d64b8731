//! Skills for scripts and the web UI: list and search, one skill in full
//! (versions, lineage, edge cases), run one, retire one.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{error, failure, parse};
use crate::app::{App, Review, TenantId};
use crate::sandbox::{Determinism, ResourceLimits};
use crate::skills::{SkillId, Status};

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
        Some(words) => match app.skills().search(&tenant, words, limit).await {
            Ok(hits) => hits
                .iter()
                .map(|(s, score)| {
                    let mut v = s.summary();
                    v["score"] = ((score * 1000.0).round() / 1000.0).into();
                    v
                })
                .collect(),
            Err(e) => return failure("search", &e),
        },
        None => match app.skills().list(&tenant).await {
            Ok(all) => all
                .iter()
                .filter(|s| q.all || s.status != Status::Retired)
                .take(limit)
                .map(|s| s.summary())
                .collect(),
            Err(e) => return failure("list", &e),
        },
    };
    Json(json!({"skills": skills})).into_response()
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
    let skill = match app.skills().get(&tenant, &name).await {
        Ok(s) => s,
        Err(e) => return failure("skill", &e),
    };
    let versions = match app.skills().versions(&tenant, &name, MAX_VERSIONS).await {
        Ok(v) => v,
        Err(e) => return failure("versions", &e),
    };
    let notes = match app.skills().notes(&tenant, &name, MAX_NOTES).await {
        Ok(n) => n,
        Err(e) => return failure("learnings", &e),
    };
    let doc = match app.skills().doc(&tenant, &skill.id).await {
        Ok(d) => d,
        Err(e) => return failure("doc", &e),
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
        .calls()
        .run(
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
        Err(e) => failure("run", &e),
    }
}

/// `POST /api/skills/{name}/retire`: it stops being a tool.
pub(super) async fn retire(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
    Path(name): Path<String>,
) -> Response {
    match app.skills().retire(&tenant, &name).await {
        Ok(s) => Json(s.summary()).into_response(),
        Err(e) => failure("retire", &e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReviewBody {
    /// `correct` publishes the draft; `wrong` retires it.
    verdict: Review,
    /// The version the person saw (its id); a newer one is not touched.
    #[serde(default)]
    id: Option<SkillId>,
    /// Why, in the person's words (kept in the learnings log).
    #[serde(default)]
    note: Option<String>,
}

/// `POST /api/skills/{name}/review {"verdict": "correct"|"wrong", "id",
/// "note"}`: a person's word on a draft. `correct` publishes it; `wrong`
/// retires it, so it never becomes a tool. Both go into the learnings log.
pub(super) async fn review(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let body: ReviewBody = match parse(
        &body,
        r#"{"verdict": "correct" or "wrong", "id"?, "note"?}"#,
    ) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    match app
        .skills()
        .review(
            &tenant,
            &name,
            body.id.as_ref(),
            body.verdict,
            body.note.as_deref(),
        )
        .await
    {
        Ok(s) => Json(s.summary()).into_response(),
        Err(e) => failure("review", &e),
    }
}
