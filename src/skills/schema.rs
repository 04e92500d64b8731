//! Input schemas: validating a call's input on the host before it reaches
//! wasm, and inferring a schema from examples when a skill has none.

use serde_json::{Map, Value, json};

/// A schema that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum SchemaError {
    /// Not valid JSON Schema.
    #[error("invalid JSON Schema: {0}")]
    Invalid(String),
    /// The input schema must describe an object (keyword arguments).
    #[error("the input schema must have \"type\": \"object\"")]
    NotObject,
}

/// A compiled JSON Schema.
pub struct InputValidator(jsonschema::Validator);

impl InputValidator {
    /// Compile `schema`.
    pub fn new(schema: &Value) -> Result<Self, SchemaError> {
        jsonschema::validator_for(schema)
            .map(Self)
            .map_err(|e| SchemaError::Invalid(e.to_string()))
    }

    /// Every way `value` breaks the schema, one line each, or `Ok`.
    pub fn validate(&self, value: &Value) -> Result<(), String> {
        let errors: Vec<String> = self
            .0
            .iter_errors(value)
            .take(5)
            .map(|e| {
                let at = e.instance_path.to_string();
                if at.is_empty() {
                    e.to_string()
                } else {
                    format!("{at}: {e}")
                }
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

/// A schema for the inputs seen in `inputs`: each key's JSON type, and the
/// keys present in every input as `required`. With no inputs, any object.
pub fn infer_input_schema<'a>(inputs: impl IntoIterator<Item = &'a Value>) -> Value {
    let mut properties: Map<String, Value> = Map::new();
    let mut required: Option<Vec<String>> = None;
    for input in inputs {
        let Some(obj) = input.as_object() else {
            continue;
        };
        for (key, value) in obj {
            let ty = json_type(value);
            match properties.get_mut(key) {
                None => {
                    properties.insert(key.clone(), json!({ "type": ty }));
                }
                Some(existing) => widen(existing, ty),
            }
        }
        let keys: Vec<String> = obj.keys().cloned().collect();
        required = Some(match required {
            None => keys,
            Some(r) => r.into_iter().filter(|k| obj.contains_key(k)).collect(),
        });
    }
    let mut schema = json!({ "type": "object", "properties": properties });
    if let Some(r) = required.filter(|r| !r.is_empty()) {
        schema["required"] = json!(r);
    }
    schema
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Merge a newly seen type into a property's schema.
fn widen(prop: &mut Value, ty: &str) {
    let current: Vec<String> = match &prop["type"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => return,
    };
    if current
        .iter()
        .any(|t| t == ty || (t == "number" && ty == "integer"))
    {
        return;
    }
    let mut types: Vec<String> = current
        .into_iter()
        .filter(|t| !(t == "integer" && ty == "number"))
        .collect();
    types.push(ty.to_owned());
    prop["type"] = if types.len() == 1 {
        json!(types[0])
    } else {
        json!(types)
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn infers_types_and_required_keys() {
        let a = json!({"text": "hi", "n": 1});
        let b = json!({"text": "yo", "n": 2.5, "flag": true});
        let s = infer_input_schema([&a, &b]);
        assert_eq!(s["properties"]["text"]["type"], "string");
        assert_eq!(s["properties"]["n"]["type"], "number");
        assert_eq!(s["properties"]["flag"]["type"], "boolean");
        assert_eq!(s["required"], json!(["n", "text"]));
    }

    #[test]
    fn validator_reports_where_input_is_wrong() {
        let v = InputValidator::new(
            &json!({"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}),
        )
        .unwrap();
        assert!(v.validate(&json!({"x": 3})).is_ok());
        let err = v.validate(&json!({"x": "three"})).unwrap_err();
        assert!(err.contains("/x"), "{err}");
        assert!(v.validate(&json!({})).unwrap_err().contains("required"));
    }

    #[test]
    fn invalid_schema_is_rejected() {
        assert!(InputValidator::new(&json!({"type": 12})).is_err());
    }
}
