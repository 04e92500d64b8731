//! What a client can learn about this server before it connects, all
//! public and static:
//! - the Server Card (SEP-2127, schema v1) at
//!   `/.well-known/mcp/server-card.json`, and an AI Catalog listing it at
//!   `/.well-known/ai-catalog.json`: name, version, the Streamable HTTP
//!   endpoint and the protocol versions it speaks;
//! - when no OAuth issuer is configured, the protected-resource metadata
//!   (RFC 9728) of a server guarded by API keys: bearer keys in the
//!   `Authorization` header, issued by the operator, so no authorization
//!   server is named. With OAuth, `oauth::OAuth::metadata` serves it.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The Server Card's name (reverse DNS, `namespace/name`), as in the
/// registry's `server.json` at the repository's root.
pub const SERVER_NAME: &str = "io.github.autolearn/autolearn";

const CARD_SCHEMA: &str =
    "https://static.modelcontextprotocol.io/schemas/v1/server-card.schema.json";
/// The card's media type.
pub const CARD_MEDIA_TYPE: &str = "application/mcp-server-card+json";
/// Where the card is served.
pub const CARD_PATH: &str = "/.well-known/mcp/server-card.json";
/// Where the catalog is served.
pub const CATALOG_PATH: &str = "/.well-known/ai-catalog.json";
/// Where the key-mode protected-resource metadata is served.
pub const RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// The Server Card of the server at `base` (`http://HOST:PORT`).
pub fn server_card(base: &str) -> Value {
    let versions: Vec<&str> = rmcp::model::ProtocolVersion::KNOWN_VERSIONS
        .iter()
        .map(|v| v.as_str())
        .collect();
    json!({
        "$schema": CARD_SCHEMA,
        "name": SERVER_NAME,
        "title": "AutoLearn",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "An MCP server that learns skills: verified Python functions, run in a CPython-on-WebAssembly sandbox, offered as tools and as Agent Skills.",
        "remotes": [{
            "type": "streamable-http",
            "url": format!("{base}/mcp"),
            "supportedProtocolVersions": versions,
            "headers": [{
                "name": "Authorization",
                "description": "A tenant's API key (`autolearn tenant create`), or an OAuth access token where an issuer is configured. Not needed on a loopback server with no tenants.",
                "isRequired": false,
                "isSecret": true,
                "value": "Bearer {key}",
                "variables": {"key": {"description": "The API key or access token.", "isRequired": true, "isSecret": true}}
            }]
        }]
    })
}

/// The AI Catalog naming the card.
pub fn catalog(base: &str) -> Value {
    json!({
        "specVersion": "1.0",
        "entries": [{
            "identifier": "urn:air:autolearn:mcp:autolearn",
            "type": CARD_MEDIA_TYPE,
            "url": format!("{base}{CARD_PATH}"),
        }]
    })
}

/// RFC 9728 metadata of a server guarded by API keys alone.
pub fn key_metadata(base: &str) -> Value {
    json!({
        "resource": format!("{base}/mcp"),
        "bearer_methods_supported": ["header"],
        "resource_name": "AutoLearn",
    })
}

/// The `WWW-Authenticate` challenge of a key-guarded server: a bearer key,
/// and where the metadata says so.
pub fn key_challenge(base: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "Bearer resource_metadata=\"{base}{RESOURCE_METADATA_PATH}\""
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}

/// `value` as a response of media type `media`.
pub fn typed(value: &Value, media: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(media))],
        value.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name and fields the card schema requires, in the form it
    /// requires them.
    #[test]
    fn the_card_has_what_schema_v1_requires() {
        let card = server_card("http://127.0.0.1:8765");
        let name = card["name"].as_str().unwrap_or_default();
        let (namespace, server) = name.split_once('/').unwrap_or_default();
        assert!(!namespace.is_empty() && !server.contains('/'), "{name}");
        for field in ["$schema", "name", "version", "description"] {
            assert!(card[field].is_string(), "{field}");
        }
        assert_eq!(card["remotes"][0]["url"], "http://127.0.0.1:8765/mcp");
        let versions = card["remotes"][0]["supportedProtocolVersions"].to_string();
        assert!(versions.contains("2026-07-28") && versions.contains("2025-11-25"));
    }

    /// The registry entry at the repository's root names this server and
    /// this version: it cannot drift from the card.
    #[test]
    fn server_json_agrees_with_the_card() {
        let entry: Value =
            serde_json::from_str(include_str!("../../server.json")).unwrap_or_default();
        assert_eq!(entry["name"], SERVER_NAME);
        assert_eq!(entry["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(entry["remotes"][0]["type"], "streamable-http");
        assert!(
            entry["description"]
                .as_str()
                .is_some_and(|d| d.len() <= 100)
        );
    }
}
