//! The spec: the skill's name, description, parameters, result type and
//! extra inputs. With examples, it follows from them and no model is asked
//! (a small model asked to design a signature it was shown gets it wrong
//! more often than right); without, the model drafts it, and the user's
//! choices win over the model's. Either way the description is the user's
//! request, verbatim: a summary loses the details a correct function needs.

use serde_json::{Map, Value, json};

use super::{GenerateError, GenerateRequest, Session};
use crate::llm::{ChatRequest, LlmError, Message, ModelRole, json as llm_json};
use crate::skills::{infer_input_schema, is_reserved, json_type};
use crate::text::{quote, truncate};

use super::python::py;

/// The model's spec of a skill.
#[derive(Clone)]
pub(super) struct Spec {
    pub(super) name: String,
    pub(super) description: String,
    pub(super) input_schema: Value,
    pub(super) output_type: Option<String>,
    pub(super) extra_inputs: Vec<Value>,
}

fn spec_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "parameters": {"type": "array", "maxItems": 12, "items": {"type": "object", "properties": {
                "name": {"type": "string"},
                "type": {"enum": ["string", "integer", "number", "boolean", "array", "object"]},
                "description": {"type": "string"}
            }, "required": ["name", "type", "description"]}},
            "returns": {"enum": ["string", "integer", "number", "boolean", "array", "object"]},
            // Bounded: a small model otherwise lists inputs until the
            // token limit, and the spec never closes.
            "example_inputs": {"type": "array", "maxItems": 3, "items": {"type": "object"}}
        },
        "required": ["name", "description", "parameters"]
    })
}

pub(super) async fn draft_spec(
    s: &mut Session,
    req: &GenerateRequest,
) -> Result<Spec, GenerateError> {
    let implied = (!req.examples.is_empty()).then(|| from_examples(req));
    if let Some(spec) = implied.as_ref().filter(|_| req.name.is_some()) {
        return Ok(spec.clone());
    }
    let examples: Vec<String> = req
        .examples
        .iter()
        .map(|e| format!("input {} -> output {}", quote(&e.input), quote(&e.output)))
        .collect();
    let prompt = format!(
        "Design a function for this task: {}\n{}\nAnswer with JSON: a snake_case `name`, a one-sentence \
         `description`, its `parameters` (name, JSON type, description; the keys of the example inputs, \
         if any), the JSON type it `returns`, and three `example_inputs` that differ from the examples.",
        req.request,
        if examples.is_empty() {
            String::new()
        } else {
            format!("Examples:\n{}", examples.join("\n"))
        }
    );
    let answer = s
        .ask(ChatRequest {
            role: ModelRole::Reasoning,
            messages: vec![Message::system(s.system), Message::user(prompt)],
            temperature: 0.2,
            max_tokens: 800,
            json_schema: Some(spec_schema()),
            expect_code: false,
            tools: Vec::new(),
        })
        .await;
    let drafted = answer.and_then(|text| {
        llm_json::extract(&text).ok_or_else(|| LlmError::Malformed("the spec is not JSON".into()))
    });
    match (drafted, implied) {
        // The examples fixed the signature; the model only names it and
        // describes the parameters.
        (Ok(v), Some(implied)) => {
            let mut spec = spec_from(&v, req);
            spec.output_type = implied.output_type;
            Ok(spec)
        }
        (Ok(v), None) => Ok(spec_from(&v, req)),
        // A model that cannot draft a spec need not stop a request whose
        // examples imply one.
        (Err(LlmError::Malformed(_)), Some(implied)) => Ok(implied),
        (Err(e), _) => Err(e.into()),
    }
}

/// The skill's name: the user's, else `proposed`, else the request's first
/// words.
fn name_of(req: &GenerateRequest, proposed: Option<String>) -> String {
    req.name
        .clone()
        .or(proposed)
        .or_else(|| crate::learn::crystallize::slug(&req.request))
        .filter(|n| !is_reserved(n))
        .unwrap_or_else(|| "generated_skill".into())
}

/// The spec the examples imply: their keys are the parameters (each
/// described by an example value), their outputs' common type the result.
pub(super) fn from_examples(req: &GenerateRequest) -> Spec {
    let mut input_schema = infer_input_schema(req.examples.iter().map(|e| &e.input));
    let first = req.examples.first().map(|e| &e.input);
    if let Some(props) = input_schema["properties"].as_object_mut() {
        for (k, p) in props.iter_mut() {
            if let Some(v) = first.and_then(|i| i.get(k)) {
                p["description"] = json!(format!("for example {}", truncate(&py(v), 80)));
            }
        }
    }
    let mut types = req.examples.iter().map(|e| json_type(&e.output));
    let first_type = types.next();
    let output_type = types
        .try_fold(first_type.unwrap_or("null"), |acc, t| match (acc, t) {
            (a, b) if a == b => Some(a),
            ("integer", "number") | ("number", "integer") => Some("number"),
            _ => None,
        })
        .filter(|t| *t != "null")
        .map(str::to_owned);
    Spec {
        name: name_of(req, None),
        description: req.request.trim().to_owned(),
        input_schema,
        output_type,
        extra_inputs: Vec::new(),
    }
}

/// Turn the model's spec into a usable one; the user's choices win.
fn spec_from(v: &Value, req: &GenerateRequest) -> Spec {
    let proposed = v["name"].as_str().and_then(crate::learn::crystallize::slug);
    let name = name_of(req, proposed);
    let mut props = Map::new();
    for p in v["parameters"].as_array().into_iter().flatten() {
        let (Some(pname), Some(ty)) = (p["name"].as_str(), p["type"].as_str()) else {
            continue;
        };
        if is_python_name(pname) {
            props.insert(
                pname.to_owned(),
                json!({"type": ty, "description": p["description"].as_str().unwrap_or("")}),
            );
        }
    }
    // The examples' keys are the truth about the parameters.
    let inferred = infer_input_schema(req.examples.iter().map(|e| &e.input));
    if let Some(keys) = inferred["properties"].as_object().filter(|k| !k.is_empty()) {
        let mut merged = Map::new();
        for (k, ty) in keys {
            let mut p = ty.clone();
            if let Some(d) = props.get(k).and_then(|p| p.get("description")) {
                p["description"] = d.clone();
            }
            merged.insert(k.clone(), p);
        }
        props = merged;
    }
    let required: Vec<&String> = props.keys().collect();
    let input_schema = json!({"type": "object", "properties": props, "required": required});
    Spec {
        name,
        description: req.request.trim().to_owned(),
        input_schema,
        output_type: v["returns"].as_str().map(str::to_owned),
        extra_inputs: v["example_inputs"].as_array().cloned().unwrap_or_default(),
    }
}

fn is_python_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        && s.len() <= 64
}

pub(super) fn signature(spec: &Spec, entry: &str) -> String {
    let props = spec.input_schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let params: Vec<&String> = props.keys().collect();
    let args: Vec<String> = props
        .iter()
        .map(|(k, p)| {
            format!(
                "        {k} ({}): {}",
                p["type"].as_str().unwrap_or("any"),
                p["description"].as_str().unwrap_or("")
            )
        })
        .collect();
    // The request verbatim, as a docstring that cannot end early.
    let doc = spec
        .description
        .replace('\\', "\\\\")
        .replace("\"\"\"", "\\\"\"\"")
        .lines()
        .collect::<Vec<_>>()
        .join("\n    ");
    format!(
        "def {entry}({}):\n    \"\"\"{doc}\n\n    Args:\n{}\n    \"\"\"",
        params
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        args.join("\n")
    )
}
