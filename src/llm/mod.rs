//! Language models, behind one trait: [`ChatModel`]. AutoLearn never
//! needs one (skills can always come from an agent's own code), so every
//! caller handles [`LlmError::Unavailable`].
//!
//! Backends: an OpenAI-compatible HTTP API ([`openai`]: OpenAI, Ollama,
//! llama.cpp's server, vLLM), and none. Knows nothing of storage or the
//! sandbox. Model output is untrusted text: [`json`] extracts what we asked
//! for without trusting its shape.

pub mod fetch;
pub mod json;
pub mod local;
pub mod openai;
pub mod tools;

pub use tools::{ToolCall, ToolSpec};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Which model a request wants: a stronger one for drafting and writing
/// code, a cheaper one for small structured answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelRole {
    /// Specs and code.
    Reasoning,
    /// Small structured answers.
    Fast,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    /// The text (a tool's result, for `tool`).
    pub content: String,
    /// The tools an `assistant` message called.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// The call a `tool` message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Self::plain("system", text)
    }

    /// A user message.
    pub fn user(text: impl Into<String>) -> Self {
        Self::plain("user", text)
    }

    /// An assistant message.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::plain("assistant", text)
    }

    /// The assistant's tool calls, replayed.
    pub fn assistant_calls(calls: Vec<ToolCall>) -> Self {
        Self {
            tool_calls: calls,
            ..Self::plain("assistant", "")
        }
    }

    /// A tool's result, answering the call `id`.
    pub fn tool_result(id: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            tool_call_id: Some(id.into()),
            ..Self::plain("tool", text)
        }
    }

    fn plain(role: &str, text: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            content: text.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
}

/// A chat completion request.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// Which model.
    pub role: ModelRole,
    /// The conversation.
    pub messages: Vec<Message>,
    /// Sampling temperature.
    pub temperature: f32,
    /// Most tokens to generate.
    pub max_tokens: u32,
    /// When set, the answer must be JSON fitting this schema (the backend
    /// constrains it where it can; the caller still validates).
    pub json_schema: Option<serde_json::Value>,
    /// The answer is one fenced Python function (a local model is held to
    /// that by a grammar). With `json_schema` too, the answer is either a
    /// fitting JSON value or one fenced Python block (a text model's tool
    /// call, see [`tools`]).
    pub expect_code: bool,
    /// Tools the model must call one of (see [`tools`]); none: a text answer.
    pub tools: Vec<ToolSpec>,
}

/// Tokens a call used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
    /// Milliseconds spent reading the prompt, when the backend measures it
    /// (the local model does; a remote API's time includes the network).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub prompt_ms: u64,
    /// Milliseconds spent generating, when the backend measures it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub decode_ms: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, o: Self) {
        self.prompt_tokens += o.prompt_tokens;
        self.completion_tokens += o.completion_tokens;
        self.prompt_ms += o.prompt_ms;
        self.decode_ms += o.decode_ms;
    }
}

impl Usage {
    /// Generated tokens per second, when the backend measured its time.
    pub fn decode_tokens_per_sec(&self) -> Option<f64> {
        (self.decode_ms > 0).then(|| self.completion_tokens as f64 * 1e3 / self.decode_ms as f64)
    }

    /// Prompt tokens read per second, when the backend measured its time.
    pub fn prompt_tokens_per_sec(&self) -> Option<f64> {
        (self.prompt_ms > 0).then(|| self.prompt_tokens as f64 * 1e3 / self.prompt_ms as f64)
    }
}

/// A completion.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatResponse {
    /// The text the model wrote.
    pub text: String,
    /// What it cost.
    pub usage: Usage,
    /// The tools it called (when the request offered tools).
    pub tool_calls: Vec<ToolCall>,
}

/// What a backend is, for `/healthz` and the server's instructions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackendInfo {
    /// `openai`, `local`, `sampling` or `none`.
    pub backend: String,
    /// The reasoning model, if any.
    pub reasoning_model: Option<String>,
    /// The fast model, if any.
    pub fast_model: Option<String>,
    /// Where it is served, if remote.
    pub base_url: Option<String>,
}

/// A model call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LlmError {
    /// No model is configured.
    #[error(
        "no language model is configured: set OPENAI_API_KEY or OPENAI_BASE_URL (any OpenAI-compatible server: OpenAI, Ollama, llama.cpp, vLLM) and --llm openai; everything else works without one"
    )]
    Unavailable,
    /// The endpoint could not be reached, or kept failing.
    #[error("the model endpoint failed: {0}")]
    Transport(String),
    /// The endpoint answered with an error status.
    #[error("the model endpoint answered {status}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The start of its body.
        body: String,
    },
    /// The answer was not what was asked for.
    #[error("the model's answer is unusable: {0}")]
    Malformed(String),
}

/// A model's failure shows its text: the operator chose the model, and
/// the message (none configured, the endpoint refused) says what to do.
impl crate::fault::Classify for LlmError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Unavailable => "no_llm",
            _ => "llm",
        }
    }
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Transport(_) | Self::Status { .. } => Some(std::time::Duration::from_secs(5)),
            _ => None,
        }
    }
}

/// The boxed future a [`ChatModel`] returns (the trait is used as `dyn`).
pub type ChatFuture<'a> = Pin<Box<dyn Future<Output = Result<ChatResponse, LlmError>> + Send + 'a>>;

/// The boxed future of [`ChatModel::chat_many`]: one result per temperature.
pub type ChatManyFuture<'a> =
    Pin<Box<dyn Future<Output = Vec<Result<ChatResponse, LlmError>>> + Send + 'a>>;

/// A chat model.
pub trait ChatModel: Send + Sync {
    /// What it is.
    fn info(&self) -> BackendInfo;
    /// One completion.
    fn chat(&self, request: ChatRequest) -> ChatFuture<'_>;
    /// One completion of the same request per temperature, in order. By
    /// default they are asked for concurrently; the local model decodes
    /// them as one batch that shares the prompt, which on a CPU costs
    /// little more than one.
    fn chat_many(&self, request: ChatRequest, temperatures: Vec<f32>) -> ChatManyFuture<'_> {
        Box::pin(futures_util::future::join_all(
            temperatures.into_iter().map(move |temperature| {
                self.chat(ChatRequest {
                    temperature,
                    ..request.clone()
                })
            }),
        ))
    }
}

/// The configured model, shared.
pub type Llm = Arc<dyn ChatModel>;

/// No model of our own: every call is [`LlmError::Unavailable`]. With
/// `--llm sampling` it is labelled so, and MCP calls borrow the connected
/// client's model where the client offers sampling.
pub struct NoModel {
    /// `none` or `sampling`.
    pub label: &'static str,
}

impl ChatModel for NoModel {
    fn info(&self) -> BackendInfo {
        BackendInfo {
            backend: self.label.into(),
            reasoning_model: None,
            fast_model: None,
            base_url: None,
        }
    }

    fn chat(&self, _request: ChatRequest) -> ChatFuture<'_> {
        Box::pin(async { Err(LlmError::Unavailable) })
    }
}

/// Which backend to use (`--llm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Choice {
    /// OpenAI-compatible when a key or base URL is set, else sampling where
    /// the client offers it, else none.
    Auto,
    /// An OpenAI-compatible HTTP API.
    Openai,
    /// The embedded model (`autolearn model fetch`, or `--model-path`).
    Local,
    /// The connected MCP client's model (sampling), where it offers one.
    Sampling,
    /// No model.
    None,
}

/// Pick the backend: `auto` takes the OpenAI-compatible API when a key or
/// base URL is configured, else the local model when it is fetched (or
/// `model` names one), and otherwise the client's model over MCP sampling
/// where a client offers it (see `mcp::sampling`).
pub fn select(
    choice: Choice,
    openai: openai::OpenAiConfig,
    model: Option<&std::path::Path>,
) -> Result<Llm, LlmError> {
    let configured = openai.api_key.is_some() || openai.base_url_given;
    match choice {
        Choice::Openai | Choice::Auto if configured || choice == Choice::Openai => {
            Ok(Arc::new(openai::OpenAi::new(openai)?))
        }
        Choice::Local => {
            let path = model.ok_or_else(|| {
                LlmError::Transport("no local model: run `autolearn model fetch` first, or pass --model-path FILE.gguf".into())
            })?;
            Ok(Arc::new(local::Local::load(path)?))
        }
        Choice::Auto if let Some(path) = model => Ok(Arc::new(local::Local::load(path)?)),
        Choice::Sampling => Ok(Arc::new(NoModel { label: "sampling" })),
        _ => Ok(Arc::new(NoModel { label: "none" })),
    }
}
