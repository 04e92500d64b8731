//! Who is calling: a bearer key names a tenant. With no tenants configured
//! on a loopback address, every request is the `local` tenant, so a fresh
//! `make run` needs no setup.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::App;
use crate::mcp::TenantId;
use crate::skills::DEFAULT_TENANT;

/// How requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Loopback, no tenants: everyone is `local`.
    OpenLocal,
    /// `Authorization: Bearer KEY` required.
    Keys,
}

#[derive(Clone)]
pub(super) struct AuthState {
    pub app: App,
    pub mode: AuthMode,
}

pub(super) async fn require_tenant(
    State(state): State<AuthState>,
    mut req: Request,
    next: Next,
) -> Response {
    let tenant = match state.mode {
        AuthMode::OpenLocal => DEFAULT_TENANT.to_owned(),
        AuthMode::Keys => {
            let key = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            let Some(key) = key else {
                return unauthorized("missing bearer key: send `Authorization: Bearer KEY`");
            };
            match state.app.store.tenant_for_key(key).await {
                Ok(Some(t)) => t,
                Ok(None) => return unauthorized("unknown API key"),
                Err(e) => {
                    tracing::error!("auth lookup failed: {e}");
                    return (StatusCode::SERVICE_UNAVAILABLE, "auth unavailable").into_response();
                }
            }
        }
    };
    req.extensions_mut().insert(TenantId(tenant));
    next.run(req).await
}

fn unauthorized(message: &'static str) -> Response {
    let mut r = (StatusCode::UNAUTHORIZED, message).into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}
