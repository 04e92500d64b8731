//! `GET /api/events`: the tenant's live feed over a WebSocket, for the web
//! UI: `skill_added`, `skill_retired`, `skill_executed`, `mcp_updated`,
//! `agent_step`, `agent_done`, `reset`, each one JSON text message with a
//! `type`. A page that falls behind gets `lagged` and reloads its lists.
//!
//! Browsers cannot set headers on a WebSocket, so the key comes as the
//! subprotocol `bearer.KEY` next to `autolearn` (see `api::auth`), and the
//! server answers with `autolearn`.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::api::auth::Credential;
use crate::app::App;
use crate::app::TenantId;
use crate::slots::{Full, TenantSlots};

/// The subprotocol the server speaks.
pub(in crate::api) const PROTOCOL: &str = "autolearn";
/// A client that takes longer than this to accept a message is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Keep-alive pings, so proxies do not close a quiet feed.
const PING_EVERY: Duration = Duration::from_secs(20);
/// Open feeds, at most, in the whole process. An upgraded connection
/// leaves the listener's connection cap, so feeds have their own.
const MAX_FEEDS: usize = 256;
/// Open feeds of one tenant, at most (a person with a few tabs, a few
/// people on one tenant), so no tenant can take every feed of the server.
pub(in crate::api) const TENANT_FEEDS: usize = 16;

static FEEDS: std::sync::LazyLock<TenantSlots> =
    std::sync::LazyLock::new(|| TenantSlots::new(MAX_FEEDS, TENANT_FEEDS));

pub(super) async fn events(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
    Extension(credential): Extension<Credential>,
    ws: WebSocketUpgrade,
) -> Response {
    let slot = match FEEDS.take(&tenant) {
        Ok(slot) => slot,
        Err(full @ Full::Tenant(_)) => {
            let message = format!("{full}: close a page's live feed first");
            return super::error(StatusCode::TOO_MANY_REQUESTS, "too_many_feeds", message);
        }
        Err(full) => {
            let message = format!("{full}: too many live feeds are open");
            return super::error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message);
        }
    };
    ws.protocols([PROTOCOL])
        // The page sends nothing but pongs and closes.
        .max_message_size(4096)
        .on_upgrade(move |socket| async move {
            feed(socket, app, tenant, credential).await;
            drop(slot);
        })
}

async fn send(socket: &mut WebSocket, message: Message) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(message)).await,
        Ok(Ok(()))
    )
}

async fn feed(mut socket: WebSocket, app: App, tenant: String, credential: Credential) {
    let mut events = app.subscribe();
    // The feed ends when the key it was opened with is revoked or expires.
    let revoked = credential.revoked();
    tokio::pin!(revoked);
    let hello = json!({"type": "hello", "tenant": tenant}).to_string();
    if !send(&mut socket, Message::Text(hello.into())).await {
        return;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        let message = tokio::select! {
            event = events.recv() => match event {
                Ok(e) if *e.tenant != *tenant => continue,
                Ok(e) => serde_json::to_string(&*e.event).unwrap_or_default(),
                Err(RecvError::Lagged(n)) => json!({"type": "lagged", "missed": n}).to_string(),
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_) | Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            },
            () = &mut revoked => {
                let bye = CloseFrame { code: 1008, reason: "the API key was revoked or expired".into() };
                let _ = send(&mut socket, Message::Close(Some(bye))).await;
                return;
            }
            _ = ping.tick() => {
                if !send(&mut socket, Message::Ping(Vec::new().into())).await {
                    return;
                }
                continue;
            }
        };
        if !send(&mut socket, Message::Text(message.into())).await {
            return;
        }
    }
}
