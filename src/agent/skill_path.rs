//! The skill path: a published skill that fits answers in one call.
//!
//! `search_skills` ranks the tenant's skills for the task; the model sees
//! the best published hits as tools (their own input schemas) beside
//! `solve_step_by_step`, and calls the one that does the task, or that.
//! Its judgement is needed because a ranked hit is only a similar skill;
//! a skill made from this very request, whose parameters the attached data
//! fills, is called without asking (the second run of a prompt).
//! Data attached to the prompt goes to the parameter of the same name (or
//! to the only parameter of its type), so the model only chooses and fills
//! small arguments; it never copies data.

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::{AgentError, AgentStep, Prompt, Run};
use crate::llm::{ChatRequest, Message, ModelRole, ToolSpec};

/// The tool that means "no skill fits".
pub(super) const NONE_FITS: &str = "solve_step_by_step";
/// Most hits shown to the model.
const MAX_HITS: usize = 3;

/// The skill's name and its answer, or `None` to solve step by step.
pub(super) async fn try_skill(run: &mut Run<'_>) -> Result<Option<(String, Value)>, AgentError> {
    let query = crate::text::truncate(&run.prompt.task, 1024);
    let found = run
        .call("search_skills", json!({"query": query, "limit": 10}))
        .await?;
    if found.is_error {
        tracing::warn!("search_skills failed: {}", found.text);
        return Ok(None);
    }
    let hits: Vec<&Value> = found.structured["skills"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|s| s["status"] == "published")
                .take(MAX_HITS)
                .collect()
        })
        .unwrap_or_default();
    run.emit(AgentStep::Search {
        hits: hits
            .iter()
            .filter_map(|h| h["name"].as_str().map(str::to_owned))
            .collect(),
    });
    if hits.is_empty() {
        return Ok(None);
    }
    // The very request a skill was made from, with its data bound: no
    // judgement needed (this is the second run of a prompt).
    let task = crate::text::truncate(&run.prompt.task, 2048);
    let exact = hits.iter().find(|h| {
        h["description"].as_str().map(str::trim) == Some(task.trim())
            && unfilled(&h["input_schema"], &run.prompt).is_empty()
    });
    if let Some(hit) = exact {
        let name = hit["name"].as_str().unwrap_or_default().to_owned();
        run.emit(AgentStep::Judged {
            skill: Some(name.clone()),
        });
        let input = bind(&json!({}), &hit["input_schema"], &run.prompt);
        return call_skill(run, name, input).await;
    }
    let mut tools: Vec<ToolSpec> = hits
        .iter()
        .filter_map(|h| {
            Some(ToolSpec {
                name: h["name"].as_str()?.to_owned(),
                description: h["description"].as_str().unwrap_or("").to_owned(),
                parameters: unbound(&h["input_schema"], &run.prompt),
            })
        })
        .collect();
    tools.push(ToolSpec {
        name: NONE_FITS.into(),
        description:
            "None of the skills does exactly what the task asks: work it out with code instead."
                .into(),
        parameters: json!({"type": "object", "properties": {}}),
    });
    let mut system = "You decide whether one of the user's saved skills does exactly what the task asks. \
        If one does, call it with its arguments. If none does (a different computation, other outputs), \
        call solve_step_by_step."
        .to_owned();
    if !run.prompt.attachments.is_empty() {
        system.push_str(&format!(
            "\nThe task's data is passed to the skill for you:\n{}",
            run.prompt.describe_attachments()
        ));
    }
    let answer = run
        .ask(ChatRequest {
            role: ModelRole::Fast,
            messages: vec![
                Message::system(system),
                Message::user(run.prompt.task.clone()),
            ],
            temperature: 0.0,
            max_tokens: 512,
            json_schema: None,
            expect_code: false,
            tools: tools.clone(),
        })
        .await?;
    let chosen = answer
        .tool_calls
        .into_iter()
        .next()
        .filter(|c| c.name != NONE_FITS && tools.iter().any(|t| t.name == c.name));
    run.emit(AgentStep::Judged {
        skill: chosen.as_ref().map(|c| c.name.clone()),
    });
    let Some(call) = chosen else {
        return Ok(None);
    };
    let schema = hits
        .iter()
        .find(|h| h["name"] == call.name.as_str())
        .map(|h| h["input_schema"].clone())
        .unwrap_or_default();
    let input = bind(&call.arguments, &schema, &run.prompt);
    call_skill(run, call.name, input).await
}

/// Call the chosen skill; its answer, or `None` when it fails (solving it
/// by hand still may work).
async fn call_skill(
    run: &mut Run<'_>,
    name: String,
    input: Value,
) -> Result<Option<(String, Value)>, AgentError> {
    let started = Instant::now();
    let result = run
        .call("call_skill", json!({"name": name, "input": input}))
        .await?;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if result.is_error {
        // A skill that fails on this input is not the answer; solving it
        // by hand still may be.
        run.emit(AgentStep::SkillCall {
            skill: name,
            ok: false,
            output: result.structured["error"].clone(),
            ms,
        });
        return Ok(None);
    }
    // The text block is the skill's return value as JSON, unwrapped.
    let value = serde_json::from_str(&result.text).unwrap_or(result.structured);
    run.emit(AgentStep::SkillCall {
        skill: name.clone(),
        ok: true,
        output: value.clone(),
        ms,
    });
    Ok(Some((name, value)))
}

/// Which attachment fills which parameter of `schema`: the one of the same
/// name, else the only attachment into the only parameter of its type.
fn bindings<'p>(schema: &Value, prompt: &'p Prompt) -> Vec<(String, &'p Value)> {
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    let by_name: Vec<(String, &Value)> = prompt
        .attachments
        .iter()
        .filter(|(n, _)| properties.contains_key(n))
        .map(|(n, v)| (n.clone(), v))
        .collect();
    if !by_name.is_empty() {
        return by_name;
    }
    let [(_, value)] = prompt.attachments.as_slice() else {
        return Vec::new();
    };
    let wanted = match value {
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        _ => return Vec::new(),
    };
    let fits: Vec<&String> = properties
        .iter()
        .filter(|(_, p)| p["type"] == wanted)
        .map(|(n, _)| n)
        .collect();
    match fits.as_slice() {
        [one] => vec![((*one).clone(), value)],
        _ => Vec::new(),
    }
}

/// The required parameters of `schema` that no attachment fills.
fn unfilled(schema: &Value, prompt: &Prompt) -> Vec<String> {
    let bound: Vec<String> = bindings(schema, prompt)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    schema["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .filter(|n| !bound.iter().any(|b| b == n))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `schema` without the parameters the attachments fill.
fn unbound(schema: &Value, prompt: &Prompt) -> Value {
    let mut schema = if schema.is_object() {
        schema.clone()
    } else {
        json!({"type": "object", "properties": {}})
    };
    for (name, _) in bindings(&schema.clone(), prompt) {
        if let Some(p) = schema["properties"].as_object_mut() {
            p.remove(&name);
        }
        if let Some(r) = schema["required"].as_array_mut() {
            r.retain(|n| n != name.as_str());
        }
    }
    schema
}

/// The model's arguments with the attachments bound in.
fn bind(arguments: &Value, schema: &Value, prompt: &Prompt) -> Value {
    let mut input: Map<String, Value> = arguments.as_object().cloned().unwrap_or_default();
    for (name, value) in bindings(schema, prompt) {
        input.insert(name, value.clone());
    }
    Value::Object(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_fill_parameters_by_name_then_by_type() {
        let prompt = Prompt::parse("Sum:\n```csv\na\n1\n```");
        let named = json!({"type": "object", "properties": {"data": {"type": "string"}, "top": {"type": "integer"}}, "required": ["data", "top"]});
        assert_eq!(
            bind(&json!({"top": 3}), &named, &prompt),
            json!({"data": "a\n1\n", "top": 3})
        );
        assert_eq!(
            unbound(&named, &prompt),
            json!({"type": "object", "properties": {"top": {"type": "integer"}}, "required": ["top"]})
        );
        let typed = json!({"type": "object", "properties": {"csv_text": {"type": "string"}, "n": {"type": "integer"}}});
        assert_eq!(
            bind(&json!({}), &typed, &prompt),
            json!({"csv_text": "a\n1\n"})
        );
        let ambiguous = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}});
        assert_eq!(
            bind(&json!({"a": "x"}), &ambiguous, &prompt),
            json!({"a": "x"})
        );
    }
}
