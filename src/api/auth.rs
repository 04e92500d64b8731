//! Who is calling: a bearer key names a tenant. Decided on every request
//! from the tenants table as it is now (through the app's cache, which any
//! write to it invalidates at once): while no tenant exists, a server on
//! a loopback address serves everyone as the `local` tenant (so a fresh
//! `make run` needs no setup); the moment one is created, every request
//! needs a key.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::App;
use crate::mcp::TenantId;
use crate::skills::DEFAULT_TENANT;

#[derive(Clone)]
pub(super) struct AuthState {
    pub app: App,
    /// Whether the server listens on a loopback address only.
    pub loopback: bool,
}

pub(super) async fn require_tenant(
    State(state): State<AuthState>,
    mut req: Request,
    next: Next,
) -> Response {
    let key = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .or_else(|| websocket_key(req.headers()))
        .map(str::to_owned);
    let key = key.as_deref();
    let lookup = match key {
        Some(key) => state.app.tenant_for_key(key).await,
        None if state.loopback => state
            .app
            .tenant_count()
            .await
            .map(|n| (n == 0).then(|| DEFAULT_TENANT.to_owned())),
        None => Ok(None),
    };
    let tenant = match lookup {
        Ok(Some(t)) => t,
        Ok(None) if key.is_some() => return unauthorized("unknown API key"),
        Ok(None) => return unauthorized("missing bearer key: send `Authorization: Bearer KEY`"),
        Err(e) => {
            tracing::error!("auth lookup failed: {e}");
            // The database is away: a clean refusal a client may retry.
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "1")],
                "auth unavailable: the database does not answer\n",
            )
                .into_response();
        }
    };
    req.extensions_mut().insert(TenantId(tenant));
    next.run(req).await
}

/// A browser's WebSocket cannot send `Authorization`: its key comes as a
/// subprotocol `bearer.KEY` (the server answers with `autolearn` only).
fn websocket_key(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix("bearer."))
}

fn unauthorized(message: &'static str) -> Response {
    let mut r = (StatusCode::UNAUTHORIZED, message).into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}
