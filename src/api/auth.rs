//! Who is calling: a bearer credential names a tenant. It is one of
//! AutoLearn's own keys (`alk_…`, decided from the keys table as it is now,
//! through the app's cache, which any write invalidates at once), or, when
//! the server is an OAuth resource server (`oauth/`), an access token of
//! its authorization server. While no tenant exists and OAuth is off, a
//! server on a loopback address serves everyone as the `local` tenant (so a
//! fresh `make run` needs no setup); the moment one is created, every
//! request needs a credential.
//!
//! A stream outlives the request that opened it, so what a request opens
//! (an event stream, a WebSocket feed) is re-checked every second and ends
//! when its credential stops admitting its tenant: a key revoked or
//! expired, a token expired, a tenant removed.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::oauth::{OAuth, TokenError};
use crate::app::TenantId;
use crate::app::{App, KeyCheck};
use crate::skills::DEFAULT_TENANT;
use crate::store::StoreError;

/// How AutoLearn's own keys begin (anything else is taken for a token).
const KEY_PREFIX: &str = "alk_";
/// How often an open stream's credential is checked again (a cached read
/// while nothing changed).
const RECHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Clone)]
pub(super) struct AuthState {
    pub app: App,
    /// Whether the server listens on a loopback address only.
    pub loopback: bool,
    /// Access tokens accepted too, when configured.
    pub oauth: Option<Arc<OAuth>>,
    /// The challenge of a refusal without OAuth: a bearer key, and where
    /// the protected-resource metadata is.
    pub key_challenge: HeaderValue,
}

impl AuthState {
    /// Whether a keyless caller may be served as `local` (while no tenant
    /// exists): on loopback, and only when no OAuth issuer is in charge.
    fn open_when_empty(&self) -> bool {
        self.loopback && self.oauth.is_none()
    }
}

/// What a request presented.
#[derive(Clone)]
enum Presented {
    Nothing,
    Key(String),
    Token(String),
}

pub(super) async fn require_tenant(
    State(state): State<AuthState>,
    mut req: Request,
    next: Next,
) -> Response {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .or_else(|| websocket_key(req.headers()))
        .map(str::to_owned);
    let presented = match bearer {
        None => Presented::Nothing,
        Some(t) if state.oauth.is_some() && !t.starts_with(KEY_PREFIX) => Presented::Token(t),
        Some(k) => Presented::Key(k),
    };
    let tenant = match identify(&state, &presented).await {
        Ok(Identified::Tenant(t)) => t,
        Ok(Identified::Refused(why)) => return refuse(&state, why),
        // The database is away: a clean refusal a client may retry (503,
        // `Retry-After`), in the taxonomy's words.
        Err(e) => return super::error::ApiError::of("auth lookup", &e).into_response(),
    };
    req.extensions_mut().insert(TenantId(tenant.clone()));
    let credential = Credential {
        state: state.clone(),
        presented,
        tenant,
    };
    req.extensions_mut().insert(credential.clone());
    let response = next.run(req).await;
    if is_stream(&response) {
        let (parts, body) = response.into_parts();
        let body = body.into_data_stream().take_until(credential.revoked());
        return Response::from_parts(parts, axum::body::Body::from_stream(body));
    }
    response
}

/// Who a credential admits, or why not.
enum Identified {
    Tenant(String),
    Refused(Refusal),
}

enum Refusal {
    Missing,
    UnknownKey,
    ExpiredKey(String),
    Token(TokenError),
    UnknownTenant(String),
}

async fn identify(state: &AuthState, presented: &Presented) -> Result<Identified, StoreError> {
    let app = &state.app;
    Ok(match presented {
        Presented::Key(key) => match app.tenants().check_key(key).await? {
            KeyCheck::Tenant(t) => Identified::Tenant(t),
            KeyCheck::Expired { id } => Identified::Refused(Refusal::ExpiredKey(id)),
            KeyCheck::Unknown => Identified::Refused(Refusal::UnknownKey),
        },
        Presented::Nothing if state.open_when_empty() && app.tenants().count().await? == 0 => {
            Identified::Tenant(DEFAULT_TENANT.to_owned())
        }
        Presented::Nothing => Identified::Refused(Refusal::Missing),
        Presented::Token(token) => {
            let Some(oauth) = &state.oauth else {
                return Ok(Identified::Refused(Refusal::UnknownKey));
            };
            let tenant = match oauth.tenant_of(token).await {
                Ok(t) => t,
                Err(e) => return Ok(Identified::Refused(Refusal::Token(e))),
            };
            if !app.tenants().exists(&tenant).await? {
                if !oauth.creates_tenants() {
                    return Ok(Identified::Refused(Refusal::UnknownTenant(tenant)));
                }
                if let Err(e) = app
                    .tenants()
                    .admin("oauth")
                    .ensure_keyless_tenant(&tenant)
                    .await
                {
                    tracing::error!("creating tenant {tenant:?} for a token: {e}");
                    return Ok(Identified::Refused(Refusal::UnknownTenant(tenant)));
                }
            }
            Identified::Tenant(tenant)
        }
    })
}

fn refuse(state: &AuthState, why: Refusal) -> Response {
    let challenge = |e: Option<&TokenError>| match &state.oauth {
        Some(o) => o.challenge(e),
        None => state.key_challenge.clone(),
    };
    let (status, message, header_value) = match why {
        Refusal::Missing => (
            StatusCode::UNAUTHORIZED,
            "missing bearer key: send `Authorization: Bearer KEY`".to_owned(),
            challenge(None),
        ),
        Refusal::UnknownKey => (
            StatusCode::UNAUTHORIZED,
            "unknown API key".to_owned(),
            challenge(None),
        ),
        Refusal::ExpiredKey(id) => (
            StatusCode::UNAUTHORIZED,
            format!("API key {id} has expired: ask the operator for a new one"),
            challenge(None),
        ),
        Refusal::UnknownTenant(t) => {
            let e = TokenError::Scope(format!("the token's tenant {t:?} does not exist here"));
            (StatusCode::FORBIDDEN, e.to_string(), challenge(Some(&e)))
        }
        Refusal::Token(e @ TokenError::Invalid(_)) => {
            (StatusCode::UNAUTHORIZED, e.to_string(), challenge(Some(&e)))
        }
        Refusal::Token(e @ TokenError::Scope(_)) => {
            (StatusCode::FORBIDDEN, e.to_string(), challenge(Some(&e)))
        }
        Refusal::Token(e @ TokenError::Unavailable(_)) => {
            let mut r = (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return r;
        }
    };
    let mut r = (status, message).into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, header_value);
    r
}

/// The credential a request was admitted with, so that what it opens (an
/// event stream, a WebSocket feed) can end when the credential does.
#[derive(Clone)]
pub(super) struct Credential {
    state: AuthState,
    presented: Presented,
    tenant: String,
}

impl Credential {
    /// Whether it still admits its tenant (a database error counts as yes:
    /// an outage must not cut every stream).
    pub async fn still_valid(&self) -> bool {
        match identify(&self.state, &self.presented).await {
            Ok(Identified::Tenant(t)) => t == self.tenant,
            Ok(Identified::Refused(_)) => false,
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
