//! MCP sessions belong to the tenant that created them.
//!
//! rmcp keeps legacy (pre-2026) sessions by id and knows nothing of
//! tenants, so this layer does: it records which tenant's request created
//! each session, answers a request naming another tenant's session exactly
//! as it answers an unknown one (404, so ids cannot be probed), and caps
//! the sessions a tenant, and the server, may hold open. Sessions that rmcp
//! has dropped (closed, or idle past its keep-alive) are forgotten the next
//! time a cap is reached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;

use super::body::RpcMethod;
use crate::app::App;
use crate::app::TenantId;

const SESSION_HEADER: &str = "mcp-session-id";

/// Session ids and their tenants.
#[derive(Clone)]
pub(super) struct Sessions {
    owners: Arc<Mutex<HashMap<String, String>>>,
    manager: Arc<LocalSessionManager>,
    app: App,
    /// Open sessions across all tenants.
    max_total: usize,
}

impl Sessions {
    pub fn new(manager: Arc<LocalSessionManager>, app: App, max_total: usize) -> Self {
        Self {
            owners: Arc::default(),
            manager,
            app,
            max_total,
        }
    }

    fn owner(&self, id: &str) -> Option<String> {
        self.owners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    fn counts(&self, tenant: &str) -> (usize, usize) {
        let owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
        let mine = owners.values().filter(|t| *t == tenant).count();
        (mine, owners.len())
    }

    /// Forget sessions rmcp no longer has.
    async fn prune(&self) {
        let ids: Vec<String> = {
            let owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
            owners.keys().cloned().collect()
        };
        let mut dead = Vec::new();
        for id in ids {
            if !matches!(self.manager.has_session(&id.clone().into()).await, Ok(true)) {
                dead.push(id);
            }
        }
        let mut owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
        for id in dead {
            owners.remove(&id);
        }
    }

    /// Whether `tenant` may open another session; prunes first when at a cap.
    async fn room_for(&self, tenant: &str, per_tenant: usize) -> Result<(), String> {
        let full = |(mine, all): (usize, usize)| mine >= per_tenant || all >= self.max_total;
        if full(self.counts(tenant)) {
            self.prune().await;
        }
        let (mine, all) = self.counts(tenant);
        if mine >= per_tenant {
            return Err(format!(
                "this tenant has {mine} open MCP sessions, the most it may have; close one (HTTP DELETE) or wait for an idle one to expire"
            ));
        }
        if all >= self.max_total {
            return Err(format!(
                "the server has {all} open MCP sessions, the most it serves"
            ));
        }
        Ok(())
    }
}

pub(super) async fn bind(State(sessions): State<Sessions>, req: Request, next: Next) -> Response {
    let Some(TenantId(tenant)) = req.extensions().get::<TenantId>().cloned() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "request has no tenant").into_response();
    };
    let named = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let deleting = req.method() == Method::DELETE;
    if let Some(id) = &named {
        // Another tenant's session is answered as an unknown one.
        if sessions.owner(id).as_deref() != Some(tenant.as_str()) {
            return (StatusCode::NOT_FOUND, "session not found").into_response();
        }
    } else if req.method() == Method::POST
        && req
            .extensions()
            .get::<RpcMethod>()
            .is_some_and(|m| m.0.as_deref() == Some("initialize"))
    {
        let per_tenant = sessions.app.limits(&tenant).await.sessions;
        if let Err(message) = sessions.room_for(&tenant, per_tenant).await {
            return too_many(&message);
        }
    }
    let response = next.run(req).await;
    let created = response
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok());
    let ended = {
        let mut owners = sessions.owners.lock().unwrap_or_else(|p| p.into_inner());
        match (&named, created) {
            (None, Some(new)) => {
                owners.insert(new.to_owned(), tenant.clone());
                None
            }
            (Some(id), _) if deleting && response.status().is_success() => {
                owners.remove(id);
                Some(id.clone())
            }
            _ => None,
        }
    };
    // A session that ended leaves a trace ready to be judged.
    if let Some(id) = ended
        && let Err(e) = sessions.app.traces().end_session(&tenant, &id).await
    {
        tracing::warn!("ending session {id}: {e}");
    }
    response
}

/// 429 with a JSON-RPC error body, so SDK clients show the message.
fn too_many(message: &str) -> Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32000, "message": message},
    });
    let mut r = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    r.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("30"),
    );
    r
}
