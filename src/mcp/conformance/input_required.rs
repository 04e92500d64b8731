//! The conformance suite's fixtures for input-required results (SEP-2322,
//! 2026-07-28: a tool call or prompt answered with "input required" and
//! retried by the client with `inputResponses` and the echoed
//! `requestState`), and the diagnostic tools `server-stateless` probes.
//! The request state is sealed (`RequestStateCodec`, HMAC) with a key of
//! this process, so a state the client changed is refused.

use std::sync::LazyLock;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientCapabilities, ContentBlock,
    GetPromptRequestParams, GetPromptResponse, GetPromptResult, InputRequests, InputRequiredResult,
    InputResponses, PromptMessage, RequestStateCodec, Role, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::{Value, json};

use super::empty;

/// Seals fixture request states; the key lives and dies with the process.
static CODEC: LazyLock<RequestStateCodec> = LazyLock::new(|| {
    let mut key = [0u8; 32];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut key);
    RequestStateCodec::new(key.to_vec())
});

const ELICITATION: &str = "test_input_required_result_elicitation";
const SAMPLING: &str = "test_input_required_result_sampling";
const LIST_ROOTS: &str = "test_input_required_result_list_roots";
const REQUEST_STATE: &str = "test_input_required_result_request_state";
const MULTIPLE: &str = "test_input_required_result_multiple_inputs";
const MULTI_ROUND: &str = "test_input_required_result_multi_round";
const TAMPERED: &str = "test_input_required_result_tampered_state";
const CAPABILITIES: &str = "test_input_required_result_capabilities";
/// The prompt that asks for input.
pub const PROMPT: &str = "test_input_required_result_prompt";

/// The fixture tools of this module, with what they do.
const TOOLS: [(&str, &str); 11] = [
    (ELICITATION, "Asks the user's name (input required)"),
    (
        SAMPLING,
        "Asks the client's model a question (input required)",
    ),
    (LIST_ROOTS, "Asks for the client's roots (input required)"),
    (REQUEST_STATE, "Round-trips a sealed request state"),
    (MULTIPLE, "Asks for three inputs at once"),
    (MULTI_ROUND, "Asks in two rounds"),
    (TAMPERED, "Refuses a request state the client changed"),
    (CAPABILITIES, "Asks only for what the client declared"),
    (
        "test_missing_capability",
        "Needs sampling, which the caller must declare",
    ),
    (
        "test_streaming_elicitation",
        "Elicits without a server request",
    ),
    ("test_logging_tool", "Logs only when the request asks to"),
];

/// The fixture tools of this module.
pub fn tools() -> Vec<Tool> {
    TOOLS
        .iter()
        .map(|(n, d)| Tool::new(*n, *d, empty()))
        .collect()
}

pub(super) fn elicit(message: &str, field: &str, ty: &str) -> Value {
    json!({"method": "elicitation/create", "params": {
        "message": message,
        "requestedSchema": {"type": "object", "properties": {field: {"type": ty}}, "required": [field]}
    }})
}

fn sample(text: &str, max_tokens: u32) -> Value {
    json!({"method": "sampling/createMessage", "params": {
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
        "maxTokens": max_tokens
    }})
}

fn roots() -> Value {
    json!({"method": "roots/list", "params": {}})
}

/// An input-required result asking `requests`, with `state` sealed.
pub(super) fn ask(requests: Value, state: Option<Value>) -> Result<InputRequiredResult, McpError> {
    let requests: InputRequests = serde_json::from_value(requests)
        .map_err(|e| McpError::internal_error(format!("fixture request: {e}"), None))?;
    let state = match state {
        Some(s) => Some(
            CODEC
                .seal_json(&s)
                .map_err(|e| McpError::internal_error(e.to_string(), None))?,
        ),
        None => None,
    };
    Ok(InputRequiredResult::new(Some(requests), state))
}

/// The state a retry carries, opened; a changed or foreign one is refused.
fn opened(state: Option<&str>) -> Result<Option<Value>, McpError> {
    state
        .map(|s| {
            CODEC.open_json::<Value>(s).map_err(|e| {
                McpError::invalid_params(
                    format!("requestState failed its integrity check: {e}"),
                    None,
                )
            })
        })
        .transpose()
}

/// The answer to `key`, when the client gave one that is an object.
pub(super) fn answer<'a>(responses: Option<&'a InputResponses>, key: &str) -> Option<&'a Value> {
    responses?.get(key).filter(|v| v.is_object())
}

/// An elicitation answer's field, when the user accepted.
pub(super) fn accepted<'a>(v: &'a Value, field: &str) -> Option<&'a Value> {
    (v.get("action").and_then(Value::as_str) == Some("accept"))
        .then(|| v.get("content").and_then(|c| c.get(field)))
        .flatten()
}

fn text(s: impl Into<String>) -> CallToolResponse {
    CallToolResult::success(vec![ContentBlock::text(s)]).into()
}

/// Answers in `responses` must be objects: anything else is malformed.
fn check_shapes(responses: Option<&InputResponses>) -> Result<(), McpError> {
    for (key, value) in responses.into_iter().flatten() {
        if !value.is_object() {
            return Err(McpError::invalid_params(
                format!("inputResponses.{key} must be an object (the client's result)"),
                None,
            ));
        }
    }
    Ok(())
}

/// Call a fixture tool of this module; `None` if `name` is not one.
pub fn call(
    request: &CallToolRequestParams,
    cx: &RequestContext<RoleServer>,
) -> Option<Result<CallToolResponse, McpError>> {
    let name = request.name.as_ref();
    if !TOOLS.iter().any(|(n, _)| *n == name) {
        return None;
    }
    Some(answer_call(name, request, cx))
}

fn answer_call(
    name: &str,
    request: &CallToolRequestParams,
    cx: &RequestContext<RoleServer>,
) -> Result<CallToolResponse, McpError> {
    let responses = request.input_responses.as_ref();
    let state = request.request_state.as_deref();
    check_shapes(responses)?;
    {
        match name {
            ELICITATION => match answer(responses, "user_name") {
                Some(a) => {
                    let name = accepted(a, "name")
                        .and_then(Value::as_str)
                        .unwrap_or("stranger");
                    Ok(text(format!("Hello, {name}!")))
                }
                None => Ok(ask(
                    json!({"user_name": elicit("What is your name?", "name", "string")}),
                    None,
                )?
                .into()),
            },
            SAMPLING => match answer(responses, "capital_question") {
                Some(a) => {
                    let said = a
                        .pointer("/content/text")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    Ok(text(format!("The model said: {said}")))
                }
                None => Ok(ask(
                    json!({"capital_question": sample("What is the capital of France?", 100)}),
                    None,
                )?
                .into()),
            },
            LIST_ROOTS => match answer(responses, "client_roots") {
                Some(a) => {
                    let uris: Vec<&str> = a
                        .get("roots")
                        .and_then(Value::as_array)
                        .map(|r| r.iter().filter_map(|x| x.get("uri")?.as_str()).collect())
                        .unwrap_or_default();
                    Ok(text(format!("Roots: {}", uris.join(", "))))
                }
                None => Ok(ask(json!({"client_roots": roots()}), None)?.into()),
            },
            REQUEST_STATE | TAMPERED => {
                let opened = opened(state)?;
                match (answer(responses, "confirm"), opened) {
                    (Some(_), Some(s)) if s["tool"] == name => {
                        Ok(text("state-ok: the request state came back intact"))
                    }
                    _ => Ok(ask(
                        json!({"confirm": elicit("Please confirm", "ok", "boolean")}),
                        Some(json!({"tool": name, "round": 1})),
                    )?
                    .into()),
                }
            }
            MULTIPLE => {
                let opened = opened(state)?;
                let keys = ["user_name", "greeting", "client_roots"];
                if opened.is_some() && keys.iter().all(|k| answer(responses, k).is_some()) {
                    return Ok(text("Received all three inputs"));
                }
                Ok(ask(
                    json!({
                        "user_name": elicit("What is your name?", "name", "string"),
                        "greeting": sample("Generate a greeting", 50),
                        "client_roots": roots(),
                    }),
                    Some(json!({"tool": MULTIPLE})),
                )?
                .into())
            }
            MULTI_ROUND => {
                let round = opened(state)?
                    .and_then(|s| s.get("round").and_then(Value::as_u64))
                    .unwrap_or(0);
                match round {
                    1 if answer(responses, "step1").is_some() => {
                        let name = answer(responses, "step1")
                            .and_then(|a| accepted(a, "name"))
                            .cloned()
                            .unwrap_or(Value::Null);
                        Ok(ask(
                            json!({"step2": elicit("Step 2: What is your favorite color?", "color", "string")}),
                            Some(json!({"round": 2, "name": name})),
                        )?
                        .into())
                    }
                    2 if answer(responses, "step2").is_some() => Ok(text("Both steps answered")),
                    _ => Ok(ask(
                        json!({"step1": elicit("Step 1: What is your name?", "name", "string")}),
                        Some(json!({"round": 1})),
                    )?
                    .into()),
                }
            }
            CAPABILITIES => {
                let caps = cx.client_capabilities().unwrap_or_default();
                let mut requests = serde_json::Map::new();
                if caps.elicitation.is_some() {
                    requests.insert(
                        "user_name".into(),
                        elicit("What is your name?", "name", "string"),
                    );
                }
                if caps.sampling.is_some() {
                    requests.insert("greeting".into(), sample("Generate a greeting", 50));
                }
                if caps.roots.is_some() {
                    requests.insert("client_roots".into(), roots());
                }
                if requests.is_empty() || responses.is_some_and(|r| !r.is_empty()) {
                    return Ok(text("Nothing more to ask"));
                }
                Ok(ask(Value::Object(requests), None)?.into())
            }
            "test_missing_capability" => {
                let caps = cx.client_capabilities().unwrap_or_default();
                if caps.sampling.is_none() {
                    let mut required = ClientCapabilities::default();
                    required.sampling = Some(Default::default());
                    return Err(McpError::missing_required_client_capability(required));
                }
                Ok(text("sampling is declared"))
            }
            "test_streaming_elicitation" => match answer(responses, "input") {
                Some(_) => Ok(text("Elicitation answered")),
                None => Ok(ask(
                    json!({"input": elicit("Anything to add?", "note", "string")}),
                    None,
                )?
                .into()),
            },
            // Logs go out only to requests that set a log level; this one
            // has nothing to log otherwise.
            "test_logging_tool" => Ok(text("Logging tool done")),
            _ => Ok(text(format!("{name}: not a fixture"))),
        }
    }
}

/// Render the fixture prompt that asks for input; `None` if `name` is not it.
pub fn prompt(request: &GetPromptRequestParams) -> Option<Result<GetPromptResponse, McpError>> {
    if request.name != PROMPT {
        return None;
    }
    let responses = request.input_responses.as_ref();
    Some(check_shapes(responses).and_then(|()| match answer(responses, "user_context") {
        Some(a) => {
            let context = accepted(a, "context").and_then(Value::as_str).unwrap_or("none");
            Ok(GetPromptResult::new(vec![PromptMessage::new_text(
                Role::User,
                format!("Answer with this context: {context}"),
            )])
            .into())
        }
        None => Ok(ask(
            json!({"user_context": elicit("What context should the prompt use?", "context", "string")}),
            None,
        )?
        .into()),
    }))
}
