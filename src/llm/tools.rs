//! Tool calling. An OpenAI-compatible server takes `tools` natively; a
//! model that only writes text (the embedded one, MCP sampling) gets the
//! same request rewritten: the tools listed in the system message, earlier
//! calls and results as plain turns, and the answer constrained (by a
//! grammar, for the local model) to one call. A call is one JSON object
//! `{"tool": NAME, "arguments": {...}}` whose arguments fit that tool's
//! schema; except that a tool whose one argument is `code` is called with a
//! fenced ```python block: small models write code well and JSON-escaped
//! code badly (a `'\n'` inside a JSON string breaks the program). Either
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

/// Whether `tool` takes exactly one argument, a required string `code`: it
/// is called with a fenced code block rather than JSON.
pub fn is_code_tool(tool: &ToolSpec) -> bool {
    let p = &tool.parameters;
    p["properties"].as_object().is_some_and(|props| {
        props.len() == 1 && props.get("code").is_some_and(|c| c["type"] == "string")
    }) && p["required"]
        .as_array()
        .is_some_and(|r| r.len() == 1 && r[0] == "code")
}

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
    let code_tool = request.tools.iter().find(|t| is_code_tool(t));
    let json_tools: Vec<ToolSpec> = request
        .tools
        .iter()
        .filter(|t| Some(*t) != code_tool)
        .cloned()
        .collect();
    let listing: Vec<String> = request
        .tools
        .iter()
        .map(|t| {
            if Some(t) == code_tool {
                format!(
                    "- {}: {} Call it by answering with the code in one ```python block.",
                    t.name, t.description
                )
            } else if t.parameters["properties"]
                .as_object()
                .is_none_or(|p| p.is_empty())
            {
                format!(
                    "- {}: {} Call it by answering exactly: {}",
                    t.name,
                    t.description,
                    json!({"tool": t.name, "arguments": {}})
                )
            } else {
                format!(
                    "- {}: {} Call it by answering {{\"tool\": \"{}\", \"arguments\": {{...}}}} with arguments that fit: {}",
                    t.name, t.description, t.name, t.parameters
                )
            }
        })
        .collect();
    let mut instructions = format!(
        "You act by calling one tool per answer. Tools:\n{}",
        listing.join("\n")
    );
    if !json_tools.is_empty() {
        instructions.push_str("\nA JSON call is the whole answer: nothing before or after it.");
    }
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    let mut system_done = false;
    for m in &request.messages {
        match m.role.as_str() {
            "system" if !system_done => {
                messages.push(Message::system(format!("{}\n\n{instructions}", m.content)));
                system_done = true;
            }
            "assistant" if !m.tool_calls.is_empty() => {
                let calls: Vec<String> = m
                    .tool_calls
                    .iter()
                    .map(|c| match (code_tool, c.arguments["code"].as_str()) {
                        (Some(t), Some(code)) if t.name == c.name => {
                            format!("```python\n{}\n```", code.trim_end())
                        }
                        _ => json!({"tool": c.name, "arguments": c.arguments}).to_string(),
                    })
                    .collect();
                messages.push(Message::assistant(calls.join("\n")));
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
        // With both set, the answer is either (see `ChatRequest`).
        json_schema: (!json_tools.is_empty()).then(|| choice_schema(&json_tools)),
        expect_code: code_tool.is_some(),
        tools: Vec::new(),
        ..request.clone()
    }
}

/// Read the call out of a text model's answer to [`as_text_request`].
pub fn read_call(response: ChatResponse, tools: &[ToolSpec]) -> Result<ChatResponse, LlmError> {
    let call = |name: String, arguments: Value| ToolCall {
        id: "call_0".into(),
        name,
        arguments,
    };
    let text = response.text.trim_start();
    if let Some(tool) = tools.iter().find(|t| is_code_tool(t))
        && text.starts_with("```")
        && let Some(code) = super::json::python_code(text)
        // A small model sometimes fences a JSON call: read it as one.
        && !is_json_call(&code)
    {
        return Ok(ChatResponse {
            tool_calls: vec![call(tool.name.clone(), json!({"code": code}))],
            ..response
        });
    }
    let value = super::json::extract(&response.text).ok_or_else(|| {
        LlmError::Malformed(format!(
            "the tool call is not JSON: {:?}",
            crate::text::truncate(&response.text, 300)
        ))
    })?;
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
        tool_calls: vec![call(name, arguments)],
        ..response
    })
}

/// Whether `text` is a JSON tool call rather than code.
fn is_json_call(text: &str) -> bool {
    serde_json::from_str::<Value>(text.trim()).is_ok_and(|v| v["tool"].is_string())
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
        // Code goes in a fence, not a JSON string; other calls are JSON.
        assert_eq!(text.messages[2].content, "```python\n1+1\n```");
        assert_eq!(text.messages[3].role, "user");
        assert!(text.expect_code);
        assert_eq!(
            text.json_schema.as_ref().unwrap()["properties"]["tool"]["const"],
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
        let code = read_call(answer("```python\nx = '\\n'.join(['a'])\nx\n```"), &tools()).unwrap();
        assert_eq!(code.tool_calls[0].name, "run_python");
        assert_eq!(
            code.tool_calls[0].arguments["code"],
            "x = '\\n'.join(['a'])\nx\n"
        );
        let fenced_json = read_call(
            answer("```python\n{\"tool\": \"finish\", \"arguments\": {}}\n```"),
            &tools(),
        )
        .unwrap();
        assert_eq!(fenced_json.tool_calls[0].name, "finish");
    }

    #[test]
    fn long_results_are_cut_with_their_size() {
        let big = json!("x".repeat(10_000));
        let text = result_text(&big);
        assert!(text.len() < MAX_RESULT_BYTES + 64);
        assert!(text.ends_with("[cut: 10002 bytes in all]"));
    }
}
