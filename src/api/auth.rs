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

use futures_util::StreamExt;

use crate::app::{App, KeyCheck};
use crate::mcp::TenantId;
use crate::skills::DEFAULT_TENANT;
use crate::store::StoreError;

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
    let tenant = match identify(&state.app, key.as_deref(), state.loopback).await {
        Ok(KeyCheck::Tenant(t)) => t,
        Ok(KeyCheck::Expired { id }) => {
            return unauthorized(format!(
                "API key {id} has expired: ask the operator for a new one"
            ));
        }
        Ok(KeyCheck::Unknown) if key.is_some() => return unauthorized("unknown API key".into()),
        Ok(KeyCheck::Unknown) => {
            return unauthorized("missing bearer key: send `Authorization: Bearer KEY`".into());
        }
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
    req.extensions_mut().insert(TenantId(tenant.clone()));
    let credential = Credential {
        app: state.app.clone(),
        key,
        loopback: state.loopback,
        tenant,
    };
    req.extensions_mut().insert(credential.clone());
    let response = next.run(req).await;
    if is_stream(&response) {
        // A stream outlives the request that opened it: it ends when its
        // key is revoked or expires, or its tenant is removed.
        let (parts, body) = response.into_parts();
        let body = body.into_data_stream().take_until(credential.revoked());
        return Response::from_parts(parts, axum::body::Body::from_stream(body));
    }
    response
}

/// How often an open stream's key is checked again (a cached read while
/// nothing changed).
const RECHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The credential a request was admitted with, so that what it opens (an
/// event stream, a WebSocket feed) can end when the credential does.
#[derive(Clone)]
pub(super) struct Credential {
    app: App,
    /// The bearer key; `None` for a keyless loopback caller.
    key: Option<String>,
    loopback: bool,
    tenant: String,
}

/// Who `key` (or no key) admits: a tenant, or no one and why. While no
/// tenant exists, a loopback server admits keyless callers as `local`.
async fn identify(app: &App, key: Option<&str>, loopback: bool) -> Result<KeyCheck, StoreError> {
    match key {
        Some(key) => app.check_key(key).await,
        None if loopback => app.tenant_count().await.map(|n| {
            if n == 0 {
                KeyCheck::Tenant(DEFAULT_TENANT.to_owned())
            } else {
                KeyCheck::Unknown
            }
        }),
        None => Ok(KeyCheck::Unknown),
    }
}

impl Credential {
    /// Whether it still admits its tenant (a database error counts as yes:
    /// an outage must not cut every stream).
    pub async fn still_valid(&self) -> bool {
        match identify(&self.app, self.key.as_deref(), self.loopback).await {
            Ok(KeyCheck::Tenant(t)) => t == self.tenant,
            Ok(_) => false,
            Err(_) => true,
        }
    }

    /// Completes once the credential no longer admits its tenant.
    pub async fn revoked(self) {
        loop {
            tokio::time::sleep(RECHECK_EVERY).await;
            if !self.still_valid().await {
                return;
            }
        }
    }
}

fn is_stream(r: &Response) -> bool {
    r.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
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

fn unauthorized(message: String) -> Response {
    let mut r = (StatusCode::UNAUTHORIZED, message).into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}
