//! The agent's side of MCP: an rmcp client session with an AutoLearn server,
//! over Streamable HTTP (any server, local or remote, with a key) or over
//! any byte stream (the web UI's chat talks MCP to its own server over an
//! in-process pipe, which the server's side wires up: see
//! `crate::mcp::in_process`). The agent knows MCP, never the server.

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::Value;

use super::AgentError;

/// A connected MCP client session.
pub struct Host {
    client: RunningService<RoleClient, ()>,
}

/// What a tool answered.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolAnswer {
    /// The tool reported a failure (`isError`).
    pub is_error: bool,
    /// Its structured content, or its text parsed as JSON, or the text.
    pub structured: Value,
    /// Its first text block, as sent.
    pub text: String,
}

impl Host {
    /// Connect over Streamable HTTP to `url` (an AutoLearn `/mcp` endpoint),
    /// with a bearer `key` when the server has tenants.
    pub async fn connect(url: &str, key: Option<&str>) -> Result<Self, AgentError> {
        // One process-wide TLS provider (https URLs); a second install is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut config = StreamableHttpClientTransportConfig::with_uri(url);
        config.auth_header = key.map(str::to_owned);
        let client =
            ().serve(StreamableHttpClientTransport::from_config(config))
                .await
                .map_err(|e| AgentError::Connect(format!("{url}: {e}")))?;
        Ok(Self { client })
    }

    /// Start a session over `stream`, whose other end an MCP server
    /// serves: the same messages as over HTTP, without a socket.
    pub async fn over<S>(stream: S) -> Result<Self, AgentError>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        let client = ()
            .serve(stream)
            .await
            .map_err(|e| AgentError::Connect(format!("in-process: {e}")))?;
        Ok(Self { client })
    }

    /// Call `tool` with `arguments` (an object).
    pub async fn call(&self, tool: &str, arguments: Value) -> Result<ToolAnswer, AgentError> {
        let params = CallToolRequestParams::new(tool.to_owned())
            .with_arguments(arguments.as_object().cloned().unwrap_or_default());
        let result = self
            .client
            .call_tool(params)
            .await
            .map_err(|e| AgentError::Tool {
                tool: tool.to_owned(),
                message: e.to_string(),
            })?;
        let text = result
            .content
            .iter()
            .find_map(|c| c.as_text().map(|t| t.text.clone()))
            .unwrap_or_default();
        let structured = match result.structured_content {
            Some(v) => v,
            None => serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone())),
        };
        Ok(ToolAnswer {
            is_error: result.is_error == Some(true),
            structured,
            text,
        })
    }

    /// What an MCP client sees of the server: its `initialize` answer
    /// (server info, protocol version, capabilities, instructions) and
    /// every tool of `tools/list`, all pages.
    pub async fn describe(&self) -> Result<Value, AgentError> {
        let tools = self
            .client
            .list_all_tools()
            .await
            .map_err(|e| AgentError::Tool {
                tool: "tools/list".into(),
                message: e.to_string(),
            })?;
        Ok(serde_json::json!({
            "initialize": self.client.peer_info(),
            "tools": tools,
        }))
    }

    /// End the session.
    pub async fn close(self) {
        let _ = self.client.cancel().await;
    }
}
