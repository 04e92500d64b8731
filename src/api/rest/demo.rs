//! What the web UI's demo needs beyond skills: who the caller is, the smart
//! examples, the MCP view of the server, a chat with the consumer agent
//! (its steps stream over `/api/events`), and reset.

use std::sync::{Arc, LazyLock};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{busy, error, failure, internal, parse};
use crate::agent::{AgentError, AgentNotice, AgentOptions, AgentStep, Host};
use crate::app::TenantId;
use crate::app::{App, Event, Notice};
use crate::mcp::McpServer;
use crate::slots::{Slot, TenantSlots};

/// The smart examples, embedded at build time.
const EXAMPLES: &str = include_str!("../../../examples/demo/examples.json");
/// Chats one tenant may run at once.
const MAX_CHATS: usize = 2;
/// Chats the process runs at once, whoever's.
const TOTAL_CHATS: usize = 16;
/// Longest prompt, in bytes.
const MAX_PROMPT_BYTES: usize = 256 * 1024;

/// `GET /api/whoami`: the caller's tenant and the server's model.
pub(super) async fn whoami(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
) -> Response {
    Json(json!({"tenant": tenant, "llm": app.model().info(), "chat": app.model().has_own()}))
        .into_response()
}

/// `GET /api/examples`: the smart examples.
pub(super) async fn examples() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        EXAMPLES,
    )
        .into_response()
}

/// `GET /api/mcp`: the server as an MCP client of this tenant sees it,
/// asked over MCP itself (an in-process session): `initialize`'s answer
/// and the whole `tools/list`.
pub(super) async fn mcp_view(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
) -> Response {
    let host = match Host::over(McpServer::in_process(app, &tenant)).await {
        Ok(h) => h,
        Err(e) => return internal("mcp view", e),
    };
    let view = host.describe().await;
    host.close().await;
    match view {
        Ok(v) => Json(v).into_response(),
        Err(e) => internal("mcp view", e),
    }
}

/// `POST /api/reset`: clear the tenant's skills, traces, executions and
/// learnings. Reaching here takes a key, or a loopback server with no
/// tenants; the origin guard keeps other web pages out.
pub(super) async fn reset(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
) -> Response {
    match app.reset(&tenant).await {
        Ok(counts) => Json(json!({"reset": true, "cleared": counts})).into_response(),
        Err(e) => failure("reset", &e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChatBody {
    prompt: String,
}

/// Chats running in the process: [`MAX_CHATS`] per tenant, and a bound in
/// all (each holds the model's turns and sandbox calls while it runs).
static CHATS: LazyLock<TenantSlots> = LazyLock::new(|| TenantSlots::new(TOTAL_CHATS, MAX_CHATS));

/// `POST /api/agent {"prompt"}`: start a chat with the consumer agent,
/// which talks MCP to this server as the caller's tenant. Answers 202 with
/// the chat id at once; each step arrives over `/api/events` as
/// `agent_step`, and the end as `agent_done`.
pub(super) async fn agent(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
    body: Bytes,
) -> Response {
    let body: ChatBody = match parse(&body, "{prompt}") {
        Ok(b) => b,
        Err(r) => return *r,
    };
    if body.prompt.trim().is_empty() || body.prompt.len() > MAX_PROMPT_BYTES {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the prompt must be 1 to {MAX_PROMPT_BYTES} bytes"),
        );
    }
    if !app.model().has_own() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_llm",
            "the chat needs a language model: run `autolearn model fetch` (or `make run`, which does), or set OPENAI_API_KEY / OPENAI_BASE_URL, and restart".into(),
        );
    }
    let slot = match CHATS.take(&tenant) {
        Ok(slot) => slot,
        Err(full) => return busy(full, "chats"),
    };
    let chat = format!("chat-{}", hex::encode(rand::random::<[u8; 6]>()));
    tokio::spawn(run_chat(app, tenant, chat.clone(), body.prompt, slot));
    (StatusCode::ACCEPTED, Json(json!({"chat": chat}))).into_response()
}

async fn run_chat(app: App, tenant: String, chat: String, prompt: String, _slot: Slot) {
    let notifier = app.clone();
    let (who, id) = (tenant.clone(), chat.clone());
    let options = AgentOptions {
        observer: Some(Arc::new(move |step: &AgentStep| {
            let notice = AgentNotice::AgentStep {
                chat: id.clone(),
                step: step.clone(),
            };
            notifier.notify(&who, Event::Agent(Notice::of(&notice)));
        })),
        ..AgentOptions::default()
    };
    let outcome = match Host::over(McpServer::in_process(app.clone(), &tenant)).await {
        Ok(host) => {
            let llm = app.model().for_tenant(&tenant);
            let r = super::caught(crate::agent::run(llm.as_ref(), &host, &prompt, &options))
                .await
                .unwrap_or_else(|bug| Err(AgentError::Internal(bug.into())));
            host.close().await;
            r
        }
        Err(e) => Err(e),
    };
    let (report, error) = match outcome {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let done = AgentNotice::AgentDone {
        chat,
        report,
        error,
    };
    app.notify(&tenant, Event::Agent(Notice::of(&done)));
}
