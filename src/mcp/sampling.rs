//! A language model borrowed from the connected client: MCP sampling.
//!
//! Deprecated in the 2026-07-28 protocol (SEP-2577) and impossible there
//! (no server-to-client requests), but legacy clients that declare the
//! capability still offer it. Used for a call when no other model is
//! configured and the client offers it.
#![allow(
    deprecated,
    reason = "sampling is deprecated by SEP-2577; kept for the clients that still offer it"
)]

use rmcp::RoleServer;
use rmcp::model::{CreateMessageRequestParams, SamplingMessage};
use rmcp::service::Peer;

use crate::llm::{BackendInfo, ChatFuture, ChatModel, ChatRequest, ChatResponse, LlmError, Usage};

/// The client's model, through `sampling/createMessage`.
pub struct Sampling {
    peer: Peer<RoleServer>,
}

impl Sampling {
    /// The client's model, if its session declared sampling.
    pub fn of(peer: &Peer<RoleServer>) -> Option<Self> {
        let offered = peer
            .peer_info()
            .is_some_and(|info| info.capabilities.sampling.is_some());
        offered.then(|| Self { peer: peer.clone() })
    }
}

impl ChatModel for Sampling {
    fn info(&self) -> BackendInfo {
        BackendInfo {
            backend: "sampling".into(),
            reasoning_model: None,
            fast_model: None,
            base_url: None,
        }
    }

    fn chat(&self, request: ChatRequest) -> ChatFuture<'_> {
        if !request.tools.is_empty() {
            // Sampling has no tools of its own: the call is asked for as JSON.
            let tools = request.tools.clone();
            let text = self.chat(crate::llm::tools::as_text_request(&request));
            return Box::pin(async move { crate::llm::tools::read_call(text.await?, &tools) });
        }
        Box::pin(async move {
            let mut system = Vec::new();
            let mut messages = Vec::new();
            for m in &request.messages {
                match m.role.as_str() {
                    "system" => system.push(m.content.clone()),
                    "assistant" => {
                        messages.push(SamplingMessage::assistant_text(m.content.clone()))
                    }
                    _ => messages.push(SamplingMessage::user_text(m.content.clone())),
                }
            }
            if let Some(schema) = &request.json_schema {
                messages.push(SamplingMessage::user_text(format!(
                    "Answer with JSON only, fitting this JSON Schema: {schema}"
                )));
            }
            let mut params = CreateMessageRequestParams::new(messages, request.max_tokens);
            params.temperature = Some(request.temperature);
            if !system.is_empty() {
                params.system_prompt = Some(system.join("\n\n"));
            }
            let result = self.peer.create_message(params).await.map_err(|e| {
                LlmError::Transport(format!("sampling through the client failed: {e}"))
            })?;
            let text = result
                .message
                .content
                .first()
                .and_then(|c| c.as_text())
                .map(|t| t.text.clone())
                .ok_or_else(|| LlmError::Malformed("the client's sample has no text".into()))?;
            Ok(ChatResponse {
                text,
                usage: Usage::default(),
                tool_calls: Vec::new(),
            })
        })
    }
}
