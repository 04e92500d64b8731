//! Which of a step's candidates to keep, once all of them have run.
//!
//! Running is cheap (milliseconds in the sandbox) next to sampling, so every
//! candidate runs and the evidence decides, as the generation pipeline's
//! consensus does: a value that several independently sampled programs
//! computed is likelier right than one a single program did, and an empty
//! value (`[]`, `{}`, `""`) is the typical result of a filter that matched
//! nothing. Ties go to the earlier candidate (the greedy one first).

use serde_json::Value;

/// The index of the candidate to keep among `values` (`None`: it failed),
/// or `None` when every candidate failed. A value shaped like a tool call
/// (`{"tool": "finish", "arguments": {}}`, a small model writing its call
/// as code) is no result.
pub fn choose(values: &[Option<Value>]) -> Option<usize> {
    let support = |v: &Value| values.iter().flatten().filter(|w| *w == v).count();
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.as_ref().map(|v| (i, v)))
        .filter(|(_, v)| !is_tool_call(v))
        .max_by_key(|&(i, v)| (!is_empty(v), support(v), std::cmp::Reverse(i)))
        .map(|(i, _)| i)
}

/// `{"tool" | "name": ..., "arguments": ...}` and nothing else.
pub fn is_tool_call(v: &Value) -> bool {
    v.as_object().is_some_and(|o| {
        o.len() == 2
            && o.contains_key("arguments")
            && (o.contains_key("tool") || o.contains_key("name"))
    })
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::String(s) => s.trim().is_empty(),
        Value::Null => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_value_most_candidates_computed_wins() {
        let values = [
            Some(json!({"EU": 25.0})),
            None,
            Some(json!({"EU": 30.0})),
            Some(json!({"EU": 30.0})),
        ];
        assert_eq!(choose(&values), Some(2));
    }

    #[test]
    fn ties_go_to_the_first_and_empty_values_last() {
        assert_eq!(choose(&[Some(json!(1)), Some(json!(2))]), Some(0));
        assert_eq!(
            choose(&[Some(json!([])), Some(json!([])), Some(json!([3]))]),
            Some(2)
        );
        assert_eq!(choose(&[None, Some(json!({}))]), Some(1));
        assert_eq!(choose(&[None, None]), None);
        let call = json!({"arguments": {}, "tool": "finish"});
        assert_eq!(choose(&[Some(call.clone()), Some(json!([1]))]), Some(1));
        assert_eq!(choose(&[Some(call)]), None);
    }
}
