//! Tool calling. An OpenAI-compatible server takes `tools` natively; a
//! model that only writes text (the embedded one, MCP sampling) gets the
//! same request rewritten: the tools listed in the system message, earlier
//! calls and results as plain turns, and the answer constrained to one
//! JSON object `{"tool": NAME, "arguments": {...}}` whose arguments fit
//! that tool's schema (a local model is held to it by a grammar). Either
//! way the caller gets [`ToolCall`]s back, and still validates them: what a
//! model writes is untrusted.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ChatRequest, ChatResponse, LlmError, Message};

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Its name.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of its arguments (an object schema).
    pub parameters: Value,
}

/// A call the model made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The id that the tool's result message refers to.
    pub id: String,
    /// Which tool.
    pub name: String,
    /// Its arguments (an object, unvalidated).
    pub arguments: Value,
}

/// Largest tool result, in bytes, shown back to a model.
pub const MAX_RESULT_BYTES: usize = 4096;

/// The schema of one call among `tools`.
pub fn choice_schema(tools: &[ToolSpec]) -> Value {
    let options: Vec<Value> = tools
        .iter()
        .map(|t| {
            json!({
                "type": "object",
                "properties": {"tool": {"const": t.name}, "arguments": t.parameters},
                "required": ["tool", "arguments"],
            })
        })
        .collect();
    match options.len() {
        1 => options.into_iter().next().unwrap_or_default(),
        _ => json!({"anyOf": options}),
    }
}

/// `request` for a model without native tools: tools described in the
/// system message, calls and results as text, the answer constrained to
/// one call.
pub fn as_text_request(request: &ChatRequest) -> ChatRequest {
    let listing: Vec<String> = request
        .tools
        .iter()
        .map(|t| {
            format!(
                "- {}: {} Arguments: {}",
                t.name, t.description, t.parameters
            )
        })
        .collect();
    let instructions = format!(
        "You act by calling one tool per answer. Tools:\n{}\nAnswer with one JSON object only: \
         {{\"tool\": NAME, \"arguments\": {{...}}}}.",
        listing.join("\n")
    );
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    let mut system_done = false;
    for m in &request.messages {
        match m.role.as_str() {
            "system" if !system_done => {
                messages.push(Message::system(format!("{}\n\n{instructions}", m.content)));
                system_done = true;
            }
            "assistant" if !m.tool_calls.is_empty() => {
                let calls: Vec<Value> = m
                    .tool_calls
                    .iter()
                    .map(|c| json!({"tool": c.name, "arguments": c.arguments}))
                    .collect();
                let text = match calls.as_slice() {
                    [one] => one.to_string(),
                    _ => Value::Array(calls).to_string(),
                };
                messages.push(Message::assistant(text));
            }
            "tool" => messages.push(Message::user(format!("Tool result:\n{}", m.content))),
            _ => messages.push(m.clone()),
        }
    }
    if !system_done {
        messages.insert(0, Message::system(instructions));
    }
    ChatRequest {
        messages,
        json_schema: Some(choice_schema(&request.tools)),
        expect_code: false,
        tools: Vec::new(),
        ..request.clone()
    }
}

/// Read the call out of a text model's answer to [`as_text_request`].
pub fn read_call(response: ChatResponse, tools: &[ToolSpec]) -> Result<ChatResponse, LlmError> {
    let value = super::json::extract(&response.text)
        .ok_or_else(|| LlmError::Malformed("the tool call is not JSON".into()))?;
    let name = value["tool"]
        .as_str()
        .filter(|n| tools.iter().any(|t| t.name == *n))
        .ok_or_else(|| LlmError::Malformed("the answer names no offered tool".into()))?
        .to_owned();
    let arguments = match value.get("arguments") {
        Some(a @ Value::Object(_)) => a.clone(),
        None | Some(Value::Null) => json!({}),
        Some(_) => {
            return Err(LlmError::Malformed(
                "tool arguments must be an object".into(),
            ));
        }
    };
    Ok(ChatResponse {
        tool_calls: vec![ToolCall {
            id: "call_0".into(),
            name,
            arguments,
        }],
        ..response
    })
}

/// A tool's result as a model will read it: JSON, cut to
/// [`MAX_RESULT_BYTES`].
pub fn result_text(value: &Value) -> String {
    let text = value.to_string();
    if text.len() <= MAX_RESULT_BYTES {
        return text;
    }
    format!(
        "{} ... [cut: {} bytes in all]",
        crate::text::truncate(&text, MAX_RESULT_BYTES),
        text.len()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::llm::{ModelRole, Usage};

    fn tools() -> Vec<ToolSpec> {
        vec![
            ToolSpec {
                name: "run_python".into(),
                description: "Run code.".into(),
                parameters: json!({"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]}),
            },
            ToolSpec {
                name: "finish".into(),
                description: "Done.".into(),
                parameters: json!({"type": "object", "properties": {}}),
            },
        ]
    }

    #[test]
    fn a_text_request_lists_the_tools_and_replays_calls_as_text() {
        let call = ToolCall {
            id: "c1".into(),
            name: "run_python".into(),
            arguments: json!({"code": "1+1"}),
        };
        let request = ChatRequest {
            role: ModelRole::Reasoning,
            messages: vec![
                Message::system("Be brief."),
                Message::user("add"),
                Message::assistant_calls(vec![call]),
                Message::tool_result("c1", "2"),
            ],
            temperature: 0.0,
            max_tokens: 100,
            json_schema: None,
            expect_code: false,
            tools: tools(),
        };
        let text = as_text_request(&request);
        assert!(text.tools.is_empty());
        assert!(text.messages[0].content.contains("- run_python: Run code."));
        assert_eq!(
            text.messages[2].content,
            r#"{"arguments":{"code":"1+1"},"tool":"run_python"}"#
        );
        assert_eq!(text.messages[3].role, "user");
        assert_eq!(
            text.json_schema.as_ref().unwrap()["anyOf"][1]["properties"]["tool"]["const"],
            "finish"
        );
    }

    #[test]
    fn a_call_is_read_only_when_it_names_an_offered_tool() {
        let answer = |text: &str| ChatResponse {
            text: text.into(),
            usage: Usage::default(),
            tool_calls: Vec::new(),
        };
        let ok = read_call(answer(r#"{"tool": "finish", "arguments": {}}"#), &tools()).unwrap();
        assert_eq!(ok.tool_calls[0].name, "finish");
        assert!(read_call(answer(r#"{"tool": "rm_rf", "arguments": {}}"#), &tools()).is_err());
        assert!(read_call(answer(r#"{"tool": "finish", "arguments": 3}"#), &tools()).is_err());
        assert!(read_call(answer("no"), &tools()).is_err());
    }

    #[test]
    fn long_results_are_cut_with_their_size() {
        let big = json!("x".repeat(10_000));
        let text = result_text(&big);
        assert!(text.len() < MAX_RESULT_BYTES + 64);
        assert!(text.ends_with("[cut: 10002 bytes in all]"));
    }
}
