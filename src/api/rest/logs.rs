//! The tenant's logs: learnings (oldest first, after a sequence number)
//! and skill executions (newest first, before one).

use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::failure;
use crate::app::App;
use crate::app::TenantId;

#[derive(Deserialize)]
pub(super) struct After {
    #[serde(default)]
    after: i64,
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /api/learnings?after=SEQ&limit=N`
pub(super) async fn learnings(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
    Query(q): Query<After>,
) -> Response {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    match app.learnings().after(&tenant, q.after, limit).await {
        Ok(entries) => Json(json!({"learnings": entries})).into_response(),
        Err(e) => failure("learnings", &e),
    }
}

#[derive(Deserialize)]
pub(super) struct Before {
    #[serde(default)]
    before: i64,
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /api/executions?before=SEQ&limit=N`: newest first.
pub(super) async fn executions(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
    Query(q): Query<Before>,
) -> Response {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    match app.calls().executions(&tenant, q.before, limit).await {
        Ok(rows) => Json(json!({"executions": rows})).into_response(),
        Err(e) => failure("executions", &e),
    }
}
