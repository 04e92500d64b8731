//! Crystallization with a model: a better name, description, parameter
//! descriptions and generalizations (hard-coded constants become
//! parameters with defaults) for a skill built mechanically from a trace.
//!
//! The model only proposes. A proposal must keep the entry's signature
//! callable as before and reproduce every recorded result in the sandbox;
//! the caller then puts it through the normal verification gate. Anything
//! less, and the mechanical skill stands.

use serde_json::{Value, json};

use crate::llm::{ChatRequest, Llm, Message, ModelRole, Usage, json as llm_json};
use crate::sandbox::{Determinism, ResourceLimits, Sandbox, SkillCode};
use crate::skills::{SkillManifest, is_reserved};

/// A proposal the sandbox confirmed, and what asking cost.
pub struct Refined {
    /// The improved manifest.
    pub manifest: SkillManifest,
    /// Tokens used.
    pub usage: Usage,
}

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "parameters": {"type": "object", "additionalProperties": {"type": "string"}},
            "source": {"type": "string"}
        },
        "required": ["description", "parameters"]
    })
}

/// Ask `llm` to improve `mechanical`; `Ok(None)` when the proposal does
/// not hold up. `keep_name` keeps a name the caller chose.
pub async fn refine(
    llm: &Llm,
    sandbox: &Sandbox,
    mechanical: &SkillManifest,
    keep_name: bool,
    limits: &ResourceLimits,
) -> Option<Refined> {
    let prompt = format!(
        "This Python function was built from an agent's steps for the task: {}\n```python\n{}```\n\
         Improve how it presents itself. Answer JSON with: `name` (snake_case, what it does), \
         `description` (one sentence), `parameters` (a description for each parameter), and `source`: \
         the same function, with a docstring, where constants a caller may want to change become \
         parameters with defaults. Keep the function's name `{}`. With the defaults it must behave \
         exactly as before.",
        mechanical.description, mechanical.source, mechanical.entry
    );
    let answer = llm
        .chat(ChatRequest {
            role: ModelRole::Reasoning,
            messages: vec![Message::user(prompt)],
            temperature: 0.2,
            max_tokens: 1500,
            json_schema: Some(schema()),
            expect_code: false,
            tools: Vec::new(),
        })
        .await
        .ok()?;
    let v = llm_json::extract(&answer.text)?;
    let mut m = mechanical.clone();
    if !keep_name
        && let Some(name) = v["name"].as_str().and_then(crate::learn::crystallize::slug)
        && !is_reserved(&name)
    {
        m.name = name;
    }
    if let Some(d) = v["description"].as_str().filter(|d| !d.trim().is_empty()) {
        m.description = d.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    if let Some(props) = m
        .input_schema
        .get_mut("properties")
        .and_then(Value::as_object_mut)
    {
        for (p, schema) in props.iter_mut() {
            if let Some(d) = v["parameters"][p].as_str() {
                schema["description"] = json!(d);
            }
        }
    }
    if let Some(source) = v["source"]
        .as_str()
        .and_then(|s| llm_json::python_code(s).or(Some(s.to_owned())))
    {
        m.source = source;
    }
    // The entry keeps its name (so the source need not change for a rename).
    let code = SkillCode {
        deps: &[],
        name: &m.name,
        source: &m.source,
        entry: &m.entry,
        runtime: m.runtime,
    };
    for ex in &m.examples {
        let out = sandbox
            .run(code, &ex.input.to_string(), limits, Determinism::Seeded(0))
            .await
            .ok()?;
        let got: Value = serde_json::from_str(&out.json).ok()?;
        if !crate::skills::same_value(&got, &ex.output) {
            return None;
        }
    }
    Some(Refined {
        manifest: m,
        usage: answer.usage,
    })
}
