//! Fixtures for the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`), served only with
//! `autolearn serve --conformance`. The suite checks protocol mechanics
//! with tools, resources and prompts of fixed names and contents; these
//! live here, apart from AutoLearn's own, so they never reach users.
//! Over 400 lines because it is data the suite dictates, kept in one file;
//! the fixtures of 2026-07-28's input-required results are in
//! `input_required.rs`.
#![allow(
    deprecated,
    reason = "the 2025 suites still test sampling and logging, which SEP-2577 deprecates"
)]

pub mod input_required;
pub mod tasks;

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    AudioContent, CallToolResult, CompleteRequestParams, CompletionInfo, ContentBlock,
    CreateMessageRequestParams, ElicitRequestParams, ElicitationSchema, GetPromptResult,
    ImageContent, JsonObject, LoggingLevel, LoggingMessageNotificationParam,
    ProgressNotificationParam, Prompt, PromptArgument, PromptMessage, Reference, Resource,
    ResourceContents, ResourceTemplate, Role, SamplingMessage, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::{Value, json};

/// A 1x1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==";
/// A silent WAV header.
const WAV: &str = "UklGRiQAAABXQVZFZm10IBAAAAABAAEARKwAAIhYAQACABAAZGF0YQAAAAA=";

fn object(v: Value) -> Arc<JsonObject> {
    Arc::new(v.as_object().cloned().unwrap_or_default())
}

/// The fixture whose argument travels as a header too (SEP-2243's
/// `x-mcp-header`): the transport checks `Mcp-Param-Region` against it.
const CUSTOM_HEADER: &str = "test_custom_header";

/// The fixture that announces a change of the tool list (answered by the
/// handler, which can reach the tenant's event stream).
pub const TRIGGER_TOOL_CHANGE: &str = "test_trigger_tool_change";

fn empty() -> Arc<JsonObject> {
    object(json!({"type": "object", "properties": {}}))
}

/// The fixture tools.
pub fn tools() -> Vec<Tool> {
    let simple = [
        ("test_simple_text", "Returns simple text content"),
        ("test_image_content", "Returns image content"),
        ("test_audio_content", "Returns audio content"),
        (
            "test_embedded_resource",
            "Returns embedded resource content",
        ),
        (
            "test_multiple_content_types",
            "Returns multiple content types",
        ),
        (
            "test_tool_with_logging",
            "Sends logging notifications during execution",
        ),
        ("test_error_handling", "Always returns an error"),
        ("test_tool_with_progress", "Reports progress notifications"),
        (
            "test_elicitation_sep1034_defaults",
            "Elicitation with default values (SEP-1034)",
        ),
        (
            "test_elicitation_sep1330_enums",
            "Elicitation with enum schemas (SEP-1330)",
        ),
        ("test_reconnection", "SSE reconnection behaviour"),
        (TRIGGER_TOOL_CHANGE, "Announces a change of the tool list"),
    ];
    let mut tools: Vec<Tool> = simple
        .iter()
        .map(|(n, d)| Tool::new(*n, *d, empty()))
        .collect();
    tools.push(Tool::new(
        "test_sampling",
        "Requests LLM sampling from the client",
        object(json!({"type": "object", "properties": {"prompt": {"type": "string"}}, "required": ["prompt"]})),
    ));
    tools.push(Tool::new(
        "test_elicitation",
        "Requests user input from the client",
        object(json!({"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]})),
    ));
    tools.push(Tool::new(
        "json_schema_2020_12_tool",
        "Tool with JSON Schema 2020-12 features",
        object(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {"address": {"$anchor": "addressDef", "type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
            "properties": {
                "name": {"type": "string"},
                "address": {"$ref": "#/$defs/address"},
                "contactMethod": {"type": "string", "enum": ["phone", "email"]},
                "phone": {"type": "string"},
                "email": {"type": "string"}
            },
            "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
            "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
            "then": {"required": ["phone"]},
            "else": {"required": ["email"]},
            "additionalProperties": false
        })),
    ));
    tools.push(Tool::new(
        CUSTOM_HEADER,
        "Echoes a region the client also sends as the Mcp-Param-Region header",
        object(json!({
            "type": "object",
            "properties": {"region": {"type": "string", "x-mcp-header": "Region"}},
            "required": ["region"]
        })),
    ));
    tools.extend(input_required::tools());
    tools.extend(tasks::tools());
    tools
}

fn text_resource(uri: &str, mime: &str, text: &str) -> ContentBlock {
    ContentBlock::resource(ResourceContents::TextResourceContents {
        uri: uri.into(),
        mime_type: Some(mime.into()),
        text: text.into(),
        meta: None,
    })
}

/// Call a fixture tool; `None` if `name` is not one.
pub async fn call(
    name: &str,
    args: &JsonObject,
    cx: &RequestContext<RoleServer>,
) -> Option<CallToolResult> {
    let arg = |k: &str, default: &str| {
        args.get(k)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_owned()
    };
    Some(match name {
        "test_simple_text" => CallToolResult::success(vec![ContentBlock::text(
            "This is a simple text response for testing.",
        )]),
        CUSTOM_HEADER => CallToolResult::success(vec![ContentBlock::text(format!(
            "Region: {}",
            arg("region", "")
        ))]),
        "test_image_content" => {
            CallToolResult::success(vec![ContentBlock::image(PNG, "image/png")])
        }
        "test_audio_content" => CallToolResult::success(vec![ContentBlock::Audio(
            AudioContent::new(WAV, "audio/wav"),
        )]),
        "test_embedded_resource" => CallToolResult::success(vec![text_resource(
            "test://embedded-resource",
            "text/plain",
            "This is an embedded resource content.",
        )]),
        "test_multiple_content_types" => CallToolResult::success(vec![
            ContentBlock::text("Multiple content types test:"),
            ContentBlock::image(PNG, "image/png"),
            text_resource(
                "test://mixed-content-resource",
                "application/json",
                r#"{"test":"data","value":123}"#,
            ),
        ]),
        "test_tool_with_logging" => {
            for msg in [
                "Tool execution started",
                "Tool processing data",
                "Tool execution completed",
            ] {
                let _ = cx
                    .peer
                    .notify_logging_message(
                        LoggingMessageNotificationParam::new(LoggingLevel::Info, json!(msg))
                            .with_logger("autolearn"),
                    )
                    .await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            CallToolResult::success(vec![ContentBlock::text("Logging test completed")])
        }
        "test_error_handling" => CallToolResult::error(vec![ContentBlock::text(
            "This tool intentionally returns an error for testing",
        )]),
        "test_tool_with_progress" => {
            let token = cx.meta.get_progress_token();
            for (done, msg) in [(0.0, "Starting"), (50.0, "Halfway"), (100.0, "Complete")] {
                if let Some(t) = &token {
                    let _ = cx
                        .peer
                        .notify_progress(
                            ProgressNotificationParam::new(t.clone(), done)
                                .with_total(100.0)
                                .with_message(msg),
                        )
                        .await;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            CallToolResult::success(vec![ContentBlock::text("Progress test completed")])
        }
        "test_sampling" => {
            let request = CreateMessageRequestParams::new(
                vec![SamplingMessage::user_text(arg("prompt", "Hello"))],
                100,
            );
            match cx.peer.create_message(request).await {
                Ok(r) => {
                    let text = r
                        .message
                        .content
                        .first()
                        .and_then(|c| c.as_text())
                        .map(|t| t.text.clone())
                        .unwrap_or_default();
                    CallToolResult::success(vec![ContentBlock::text(format!(
                        "LLM response: {text}"
                    ))])
                }
                Err(e) => {
                    CallToolResult::error(vec![ContentBlock::text(format!("Sampling error: {e}"))])
                }
            }
        }
        "test_elicitation" => {
            let schema = json!({
                "type": "object",
                "properties": {"username": {"type": "string", "description": "User's response"}, "email": {"type": "string", "description": "User's email address"}},
                "required": ["username", "email"]
            });
            elicit(
                cx,
                &arg("message", "Please provide your information"),
                schema,
                "User response",
            )
            .await
        }
        "test_elicitation_sep1034_defaults" => {
            let schema = json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "User's name", "default": "John Doe"},
                    "age": {"type": "integer", "description": "User's age", "default": 30},
                    "score": {"type": "number", "description": "User's score", "default": 95.5},
                    "status": {"type": "string", "description": "User's status", "enum": ["active", "inactive", "pending"], "default": "active"},
                    "verified": {"type": "boolean", "description": "Whether user is verified", "default": true}
                }
            });
            elicit(
                cx,
                "Please provide values (all have defaults)",
                schema,
                "Elicitation completed",
            )
            .await
        }
        "test_elicitation_sep1330_enums" => {
            let options = |prefix: &str, word: &str| -> Vec<Value> {
                ["First", "Second", "Third"].iter().enumerate()
                    .map(|(i, t)| json!({"const": format!("{prefix}{}", i + 1), "title": format!("{t} {word}")}))
                    .collect()
            };
            let schema = json!({
                "type": "object",
                "properties": {
                    "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
                    "titledSingle": {"type": "string", "oneOf": options("value", "Option")},
                    "legacyEnum": {"type": "string", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]},
                    "untitledMulti": {"type": "array", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                    "titledMulti": {"type": "array", "items": {"anyOf": options("value", "Choice")}}
                }
            });
            elicit(
                cx,
                "Test enum schema improvements",
                schema,
                "Enum elicitation completed",
            )
            .await
        }
        "json_schema_2020_12_tool" => CallToolResult::success(vec![ContentBlock::text(format!(
            "Hello, {}!",
            arg("name", "world")
        ))]),
        "test_reconnection" => {
            tokio::time::sleep(Duration::from_millis(100)).await;
            CallToolResult::success(vec![ContentBlock::text("Reconnection test completed")])
        }
        _ => return None,
    })
}

async fn elicit(
    cx: &RequestContext<RoleServer>,
    message: &str,
    schema: Value,
    label: &str,
) -> CallToolResult {
    let schema: ElicitationSchema = match serde_json::from_value(schema) {
        Ok(s) => s,
        Err(e) => {
            return CallToolResult::error(vec![ContentBlock::text(format!(
                "bad fixture schema: {e}"
            ))]);
        }
    };
    let request = ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: message.into(),
        requested_schema: schema,
    };
    match cx.peer.create_elicitation(request).await {
        Ok(r) => CallToolResult::success(vec![ContentBlock::text(format!(
            "{label}: action={:?}, content={:?}",
            r.action, r.content
        ))]),
        Err(e) => {
            CallToolResult::error(vec![ContentBlock::text(format!("Elicitation error: {e}"))])
        }
    }
}

/// The fixture resources.
pub fn resources() -> Vec<Resource> {
    vec![
        Resource::new("test://static-text", "Static Text Resource")
            .with_description("A static text resource for testing")
            .with_mime_type("text/plain"),
        Resource::new("test://static-binary", "Static Binary Resource")
            .with_description("A static binary resource for testing")
            .with_mime_type("image/png"),
    ]
}

/// The fixture resource templates.
pub fn resource_templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new("test://template/{id}/data", "Dynamic Resource")
            .with_description("A dynamic resource with parameter substitution")
            .with_mime_type("application/json"),
    ]
}

/// Read a fixture resource; `None` if `uri` is not one.
pub fn read(uri: &str) -> Option<Vec<ResourceContents>> {
    match uri {
        "test://static-text" => Some(vec![ResourceContents::TextResourceContents {
            uri: uri.into(),
            mime_type: Some("text/plain".into()),
            text: "This is the content of the static text resource.".into(),
            meta: None,
        }]),
        "test://static-binary" => Some(vec![ResourceContents::BlobResourceContents {
            uri: uri.into(),
            mime_type: Some("image/png".into()),
            blob: PNG.into(),
            meta: None,
        }]),
        _ => {
            let id = uri
                .strip_prefix("test://template/")?
                .strip_suffix("/data")?;
            Some(vec![ResourceContents::TextResourceContents {
                uri: uri.into(),
                mime_type: Some("application/json".into()),
                text: json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")})
                    .to_string(),
                meta: None,
            }])
        }
    }
}

/// The fixture prompts.
pub fn prompts() -> Vec<Prompt> {
    vec![
        Prompt::new(
            "test_simple_prompt",
            Some("A simple test prompt with no arguments"),
            None,
        ),
        Prompt::new(
            "test_prompt_with_arguments",
            Some("A test prompt that accepts arguments"),
            Some(vec![
                PromptArgument::new("arg1")
                    .with_description("First test argument")
                    .with_required(true),
                PromptArgument::new("arg2")
                    .with_description("Second test argument")
                    .with_required(false),
            ]),
        ),
        Prompt::new(
            "test_prompt_with_embedded_resource",
            Some("A test prompt that includes an embedded resource"),
            None,
        ),
        Prompt::new(
            "test_prompt_with_image",
            Some("A test prompt that includes an image"),
            None,
        ),
        Prompt::new(
            input_required::PROMPT,
            Some("A prompt that asks the user for context first"),
            None,
        ),
    ]
}

/// Render a fixture prompt; `None` if `name` is not one.
pub fn prompt(name: &str, args: Option<&JsonObject>) -> Option<GetPromptResult> {
    let arg = |k: &str| {
        args.and_then(|a| a.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    Some(match name {
        "test_simple_prompt" => GetPromptResult::new(vec![PromptMessage::new_text(
            Role::User,
            "This is a simple test prompt.",
        )])
        .with_description("A simple test prompt"),
        "test_prompt_with_arguments" => GetPromptResult::new(vec![PromptMessage::new_text(
            Role::User,
            format!(
                "Prompt with arguments: arg1='{}', arg2='{}'",
                arg("arg1"),
                arg("arg2")
            ),
        )])
        .with_description("A prompt with arguments"),
        "test_prompt_with_embedded_resource" => GetPromptResult::new(vec![
            PromptMessage::new_text(Role::User, "Here is a resource:"),
            PromptMessage::new_resource(
                Role::User,
                "test://static-text".into(),
                Some("text/plain".into()),
                Some("Resource content for prompt".into()),
                None,
                None,
                None,
            ),
        ])
        .with_description("A prompt with an embedded resource"),
        "test_prompt_with_image" => GetPromptResult::new(vec![
            PromptMessage::new_text(Role::User, "Here is an image:"),
            PromptMessage::new(
                Role::User,
                ContentBlock::Image(ImageContent::new(PNG, "image/png")),
            ),
        ])
        .with_description("A prompt with an image"),
        _ => return None,
    })
}

/// Completion values for the suite's references.
pub fn complete(request: &CompleteRequestParams) -> Result<CompletionInfo, McpError> {
    let values: Vec<String> = match &request.r#ref {
        Reference::Resource(_) if request.argument.name == "id" => {
            vec!["1".into(), "2".into(), "3".into()]
        }
        Reference::Prompt(p) => match request.argument.name.as_str() {
            "name" => vec!["Alice".into(), "Bob".into(), "Charlie".into()],
            "style" => vec!["friendly".into(), "formal".into(), "casual".into()],
            _ => vec![p.name.clone()],
        },
        _ => vec![],
    };
    CompletionInfo::new(values).map_err(|e| McpError::internal_error(e, None))
}
