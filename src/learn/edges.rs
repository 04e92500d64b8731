//! Inputs to test a skill on, beyond its examples: edge values derived from
//! the input schema. Pure.
//!
//! Starting from a typical input (an example), one parameter at a time is
//! set to a value that breaks careless code: empty, zero, negative, huge,
//! non-ASCII, a date or number boundary, or left out when optional.
//! Candidates that disagree on these are where the request was ambiguous
//! or some candidate is wrong: the pipeline records them as discovered
//! edge cases.

use serde_json::{Map, Value, json};

/// At most this many edge inputs.
pub const MAX_EDGE_INPUTS: usize = 24;

/// Edge values for one parameter's schema.
fn edge_values(schema: &Value) -> Vec<Value> {
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
    let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
    match (ty, format) {
        ("string", "date") => vec![
            json!("2024-02-29"),
            json!("1970-01-01"),
            json!("2099-12-31"),
        ],
        ("string", "date-time") => {
            vec![json!("2024-02-29T23:59:59Z"), json!("1970-01-01T00:00:00Z")]
        }
        ("string", _) => vec![
            json!(""),
            json!(" "),
            json!("Ünïcödé ✓ 東京"),
            json!("a".repeat(1000)),
        ],
        ("integer", _) => vec![json!(0), json!(-1), json!(1), json!(1_000_000_000_i64)],
        ("number", _) => vec![json!(0.0), json!(-1.5), json!(0.1), json!(1e12)],
        ("boolean", _) => vec![json!(true), json!(false)],
        ("array", _) => {
            let item = schema.get("items").map(edge_values).unwrap_or_default();
            let mut v = vec![json!([])];
            if let Some(first) = item.first() {
                v.push(json!([first]));
            }
            if item.len() >= 2 {
                v.push(Value::Array(item));
            }
            v
        }
        ("object", _) => vec![json!({})],
        _ => vec![],
    }
}

/// Edge inputs for `schema`, each a variation of `base` (a typical input),
/// deduplicated, at most [`MAX_EDGE_INPUTS`].
pub fn edge_inputs(schema: &Value, base: &Map<String, Value>) -> Vec<Value> {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out: Vec<Value> = Vec::new();
    let mut push = |v: Map<String, Value>| {
        let v = Value::Object(v);
        if !out.contains(&v) && out.len() < MAX_EDGE_INPUTS {
            out.push(v);
        }
    };
    for (name, prop) in props {
        if !required.contains(&name.as_str()) && base.contains_key(name) {
            let mut without = base.clone();
            without.remove(name);
            push(without);
        }
        for value in edge_values(prop) {
            let mut varied = base.clone();
            varied.insert(name.clone(), value);
            push(varied);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_parameter_is_varied_alone() {
        let schema = json!({"type": "object", "properties": {
            "text": {"type": "string"}, "n": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}
        }, "required": ["text", "n"]});
        let base = json!({"text": "hello", "n": 3, "tags": ["a"]})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let inputs = edge_inputs(&schema, &base);
        assert!(inputs.contains(&json!({"text": "", "n": 3, "tags": ["a"]})));
        assert!(inputs.contains(&json!({"text": "hello", "n": -1, "tags": ["a"]})));
        assert!(inputs.contains(&json!({"text": "hello", "n": 3, "tags": []})));
        // `tags` is optional: also left out.
        assert!(inputs.contains(&json!({"text": "hello", "n": 3})));
        assert!(inputs.len() <= MAX_EDGE_INPUTS);
    }
}
