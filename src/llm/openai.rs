//! Any OpenAI-compatible chat completions API: OpenAI itself, Ollama,
//! llama.cpp's server, vLLM, llama-cpp-python.
//!
//! Structured output differs between servers, so the client learns what a
//! server takes: `response_format` with a JSON schema first; a server that
//! rejects it (llama-cpp-python answers 500) gets `json_object` with the
//! schema inside, as llama.cpp servers read it; one that rejects that too
//! gets a plain request, and [`super::json::extract`] reads the answer.
//! 429 and 5xx are retried with backoff, honouring `Retry-After`; every
//! call has a timeout; answers are read up to a size cap.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use super::{
    BackendInfo, ChatFuture, ChatModel, ChatRequest, ChatResponse, LlmError, ModelRole, Usage,
};

/// Largest response body read from the endpoint.
const MAX_RESPONSE_BYTES: usize = 8 << 20;
/// Longest wait a `Retry-After` may ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// How to reach the endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// Base URL, up to and including `/v1`.
    pub base_url: String,
    /// Whether the base URL was configured (rather than the default).
    pub base_url_given: bool,
    /// Bearer key; local servers need none.
    pub api_key: Option<String>,
    /// Model for [`ModelRole::Reasoning`]. Default: gpt-4.1.
    pub reasoning_model: String,
    /// Model for [`ModelRole::Fast`]. Default: gpt-4.1-mini.
    pub fast_model: String,
    /// Per-call timeout. Default: 120 s.
    pub timeout: Duration,
    /// Retries of a 429 or 5xx. Default: 3.
    pub retries: u32,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self {
            base_url: "https://api.openai.com/v1".into(),
            base_url_given: false,
            api_key: None,
            reasoning_model: "gpt-4.1".into(),
            fast_model: "gpt-4.1-mini".into(),
            timeout: Duration::from_secs(120),
            retries: 3,
        }
    }
}

/// Structured-output modes, best first.
const SCHEMA: u8 = 0;
const JSON_OBJECT: u8 = 1;
const PLAIN: u8 = 2;

/// The client.
pub struct OpenAi {
    config: OpenAiConfig,
    http: reqwest::Client,
    /// The best structured-output mode this server has accepted so far.
    format: AtomicU8,
    /// Whether the server has not refused native `tools` yet.
    native_tools: AtomicBool,
}

impl OpenAi {
    /// A client for `config`.
    pub fn new(config: OpenAiConfig) -> Result<Self, LlmError> {
        // One process-wide TLS provider; a second install is a no-op error.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| LlmError::Transport(e.to_string()))?;
        Ok(Self {
            config,
            http,
            format: AtomicU8::new(SCHEMA),
            native_tools: AtomicBool::new(true),
        })
    }

    fn model(&self, role: ModelRole) -> &str {
        match role {
            ModelRole::Reasoning => &self.config.reasoning_model,
            ModelRole::Fast => &self.config.fast_model,
        }
    }

    fn body(&self, r: &ChatRequest, format: u8) -> Value {
        let mut body = json!({
            "model": self.model(r.role),
            "messages": r.messages.iter().map(wire_message).collect::<Vec<_>>(),
            "temperature": r.temperature,
            "max_tokens": r.max_tokens,
        });
        if !r.tools.is_empty() {
            let tools: Vec<Value> = r
                .tools
                .iter()
                .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}))
                .collect();
            body["tools"] = tools.into();
            body["tool_choice"] = "required".into();
        }
        if let Some(schema) = &r.json_schema {
            match format {
                SCHEMA => {
                    body["response_format"] = json!({
                        "type": "json_schema",
                        "json_schema": {"name": "answer", "schema": schema, "strict": false},
                    });
                }
                JSON_OBJECT => {
                    body["response_format"] = json!({"type": "json_object", "schema": schema});
                }
                _ => {}
            }
        }
        body
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        if request.tools.is_empty() {
            return self.complete_once(&request).await;
        }
        if self.native_tools.load(Ordering::Relaxed) {
            match self.complete_once(&request).await {
                // A server without tool support (llama.cpp's without
                // --jinja, many proxies) refuses them: ask as text from now on.
                Err(LlmError::Status { status, .. }) if status == 400 || status == 500 => {
                    tracing::info!("the endpoint refused native tools; asking for calls as JSON");
                    self.native_tools.store(false, Ordering::Relaxed);
                }
                // No call at all, though one was required: read the text.
                Ok(r) if r.tool_calls.is_empty() => {
                    return super::tools::read_call(r, &request.tools);
                }
                other => return other,
            }
        }
        let text = self
            .complete_once(&super::tools::as_text_request(&request))
            .await?;
        super::tools::read_call(text, &request.tools)
    }

    async fn complete_once(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let request = request.clone();
        let url = format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        );
        let mut attempt = 0;
        loop {
            let format = self.format.load(Ordering::Relaxed);
            let mut call = self.http.post(&url).json(&self.body(&request, format));
            if let Some(key) = &self.config.api_key {
                call = call.bearer_auth(key);
            }
            let response = match call.send().await {
                Ok(r) => r,
                Err(e) if attempt < self.config.retries && (e.is_timeout() || e.is_connect()) => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(LlmError::Transport(e.to_string())),
            };
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
            let body = read_capped(response).await?;
            if status.is_success() {
                return parse(&body);
            }
            // A server that does not take this structured-output mode:
            // step down once, at once.
            let format_refused = request.json_schema.is_some()
                && format < PLAIN
                && (status.is_client_error() && status.as_u16() != 429 || status.as_u16() == 500);
            if format_refused {
                let _ = self.format.compare_exchange(
                    format,
                    format + 1,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
                continue;
            }
            if (status.as_u16() == 429 || status.is_server_error()) && attempt < self.config.retries
            {
                attempt += 1;
                tokio::time::sleep(retry_after.unwrap_or_else(|| backoff(attempt))).await;
                continue;
            }
            return Err(LlmError::Status {
                status: status.as_u16(),
                body: crate::text::truncate(&String::from_utf8_lossy(&body), 512),
            });
        }
    }
}

/// 0.5 s, 1 s, 2 s, ... up to 8 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500 << attempt.saturating_sub(1).min(4))
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, LlmError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| LlmError::Transport(e.to_string()))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(LlmError::Malformed(format!(
                "the response is over {MAX_RESPONSE_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A message as the chat completions API takes it: tool calls with their
/// arguments as a JSON string, tool results with the id they answer.
fn wire_message(m: &super::Message) -> Value {
    let mut v = json!({"role": m.role, "content": m.content});
    if !m.tool_calls.is_empty() {
        v["tool_calls"] = m
            .tool_calls
            .iter()
            .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments.to_string()}}))
            .collect::<Vec<_>>()
            .into();
    }
    if let Some(id) = &m.tool_call_id {
        v["tool_call_id"] = id.as_str().into();
    }
    v
}

/// The tool calls of an answer; their arguments arrive as JSON text.
fn tool_calls(message: &Value) -> Result<Vec<super::ToolCall>, LlmError> {
    let Some(calls) = message["tool_calls"].as_array() else {
        return Ok(Vec::new());
    };
    calls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let name = c["function"]["name"]
                .as_str()
                .ok_or_else(|| LlmError::Malformed("a tool call has no name".into()))?;
            let arguments = match &c["function"]["arguments"] {
                Value::String(text) if text.trim().is_empty() => json!({}),
                Value::String(text) => super::json::extract(text).ok_or_else(|| {
                    LlmError::Malformed(format!("the arguments of {name} are not JSON"))
                })?,
                other => other.clone(),
            };
            Ok(super::ToolCall {
                id: c["id"]
                    .as_str()
                    .map_or_else(|| format!("call_{i}"), str::to_owned),
                name: name.to_owned(),
                arguments,
            })
        })
        .collect()
}

fn parse(body: &[u8]) -> Result<ChatResponse, LlmError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| LlmError::Malformed(format!("not JSON: {e}")))?;
    let message = &v["choices"][0]["message"];
    let tool_calls = tool_calls(message)?;
    let text = match message["content"].as_str() {
        Some(t) => t.to_owned(),
        None if !tool_calls.is_empty() => String::new(),
        None => return Err(LlmError::Malformed("no choices[0].message.content".into())),
    };
    let n = |k: &str| v["usage"][k].as_u64().unwrap_or(0);
    // llama.cpp's server reports its own timings; others do not.
    let ms = |k: &str| v["timings"][k].as_f64().map_or(0, |t| t.max(0.0) as u64);
    Ok(ChatResponse {
        text,
        usage: Usage {
            prompt_tokens: n("prompt_tokens"),
            completion_tokens: n("completion_tokens"),
            prompt_ms: ms("prompt_ms"),
            decode_ms: ms("predicted_ms"),
        },
        tool_calls,
    })
}

impl ChatModel for OpenAi {
    fn info(&self) -> BackendInfo {
        BackendInfo {
            backend: "openai".into(),
            reasoning_model: Some(self.config.reasoning_model.clone()),
            fast_model: Some(self.config.fast_model.clone()),
            base_url: Some(self.config.base_url.clone()),
        }
    }

    fn chat(&self, request: ChatRequest) -> ChatFuture<'_> {
        Box::pin(self.complete(request))
    }
}
