//! Values and calls written as Python, as the model reads them in prompts
//! and a person reads them in questions.

use serde_json::Value;

use crate::text::{MAX_QUOTE_BYTES, truncate};

/// `v` as a Python literal (`None`, `True`, `{"k": 1}`): the model reads
/// examples as Python, and `null` in an assertion is a name error to it.
pub fn py(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(_) | Value::String(_) => v.to_string(),
        Value::Array(items) => format!("[{}]", items.iter().map(py).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), py(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A call of `entry` with `input`'s fields as keyword arguments, bounded.
pub fn call(entry: &str, input: &Value) -> String {
    let args: Vec<String> = input
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", py(v)))
        .collect();
    truncate(&format!("{entry}({})", args.join(", ")), MAX_QUOTE_BYTES)
}
