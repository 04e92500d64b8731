//! The two ways `bench mcp` calls a tool over Streamable HTTP: a legacy
//! session through rmcp's own client (initialize, a session id, each answer
//! as an SSE event), and the stateless 2026-07-28 revision as most new
//! clients speak it (no handshake: every request carries its protocol
//! version and capabilities in `_meta`, and a single answer comes back as
//! plain JSON).

use std::sync::Arc;

use anyhow::Context;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Map, Value, json};

const STATELESS_VERSION: &str = "2026-07-28";

/// One MCP client.
#[derive(Clone)]
pub(super) enum Caller {
    Session(Arc<RunningService<rmcp::RoleClient, ()>>),
    Stateless {
        http: reqwest::Client,
        url: String,
        key: Option<String>,
    },
}

/// What a benchmark checks of a tool's answer.
pub(super) struct Answer {
    pub is_error: bool,
    /// Its `_meta` said it came from the memo cache.
    pub cache_hit: bool,
    /// The text of its content, to explain a failure.
    pub content: String,
}

impl Caller {
    /// A legacy session through rmcp's client.
    pub async fn session(url: &str, key: Option<&str>) -> anyhow::Result<Self> {
        let mut config = StreamableHttpClientTransportConfig::with_uri(url);
        config.auth_header = key.map(str::to_owned);
        let client =
            ().serve(StreamableHttpClientTransport::from_config(config))
                .await
                .with_context(|| format!("connecting to {url}"))?;
        Ok(Self::Session(Arc::new(client)))
    }

    /// A stateless client: one kept-alive HTTP connection, no handshake.
    pub fn stateless(url: &str, key: Option<&str>) -> anyhow::Result<Self> {
        Ok(Self::Stateless {
            http: reqwest::Client::builder().build()?,
            url: url.to_owned(),
            key: key.map(str::to_owned),
        })
    }

    /// `tools/call` of `name` with `arguments`.
    pub async fn call(&self, name: &str, arguments: &Map<String, Value>) -> anyhow::Result<Answer> {
        match self {
            Self::Session(client) => {
                let params =
                    CallToolRequestParams::new(name.to_owned()).with_arguments(arguments.clone());
                let r = client.call_tool(params).await?;
                Ok(Answer {
                    is_error: r.is_error == Some(true),
                    cache_hit: r.meta.as_ref().and_then(|m| m.get("autolearn/cache"))
                        == Some(&json!("hit")),
                    content: format!("{:?}", r.content),
                })
            }
            Self::Stateless { http, url, key } => {
                let body = json!({
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "tools/call",
                    "params": {
                        "name": name,
                        "arguments": arguments,
                        "_meta": {
                            "io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
                            "io.modelcontextprotocol/clientCapabilities": {},
                        },
                    },
                });
                let mut req = http
                    .post(url)
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-protocol-version", STATELESS_VERSION)
                    .header("mcp-method", "tools/call")
                    .header("mcp-name", name)
                    .json(&body);
                if let Some(key) = key {
                    req = req.bearer_auth(key);
                }
                let response = req.send().await?;
                let status = response.status();
                let text = response.text().await?;
                anyhow::ensure!(status.is_success(), "HTTP {status}: {text}");
                let reply: Value = serde_json::from_str(&text)
                    .with_context(|| format!("a stateless answer is plain JSON, not {text:?}"))?;
                let result = reply
                    .get("result")
                    .with_context(|| format!("no result in {text}"))?;
                Ok(Answer {
                    is_error: result["isError"] == json!(true),
                    cache_hit: result["_meta"]["autolearn/cache"] == json!("hit"),
                    content: result["content"].to_string(),
                })
            }
        }
    }

    /// End a session; a stateless client has none.
    pub async fn close(self) {
        if let Self::Session(c) = self
            && let Ok(c) = Arc::try_unwrap(c)
        {
            let _ = c.cancel().await;
        }
    }
}
