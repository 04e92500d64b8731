//! Inputs to test a skill on, beyond its examples: edge values derived from
//! the input schema. Pure.
//!
//! Starting from a typical input (an example), one parameter at a time is
//! set to a value that breaks careless code: empty, zero, negative, huge,
//! non-ASCII, a date or number boundary, or left out when optional.
//! Then every example is mutated deep inside ([`mutations`]): each number,
//! string, list and record in it, nested ones included, is changed on its
//! own (a record loses a key, or is empty, or null), so
//! that inputs exercise what the examples only hint at (a zero count inside
//! a list of records, a ratio that does not come out round, a duplicate).
//! Candidates that disagree on these are where the request was ambiguous
//! or some candidate is wrong: the pipeline records them as discovered
//! edge cases. Inputs on which every candidate agrees prove little, so the
//! inputs must be able to tell programs apart.

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

/// At most this many mutations per example.
pub const MAX_MUTATIONS: usize = 32;
/// Nodes of an example visited at most (a bound on untrusted input).
const MAX_NODES: usize = 256;

/// Variants of one node: a leaf's value changed, or a list's items.
fn variants(v: &Value) -> Vec<Value> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                [
                    0,
                    i.saturating_add(1),
                    i.saturating_neg(),
                    i.saturating_mul(3).saturating_add(7),
                ]
                .into_iter()
                .map(Value::from)
                .collect()
            } else {
                let x = n.as_f64().unwrap_or(0.0);
                [0.0, -x, x * 2.5 + 0.35, x / 3.0]
                    .into_iter()
                    .filter_map(|f| serde_json::Number::from_f64(f).map(Value::Number))
                    .collect()
            }
        }
        Value::String(s) => {
            let mut out = vec![json!(""), json!(s.to_uppercase()), json!(format!("  {s} "))];
            if s.len() <= 256 {
                out.push(json!(format!("{s}{s}")));
            }
            out
        }
        Value::Bool(b) => vec![json!(!b)],
        // A nested record: a key left out (an optional field missing, the
        // commonest shape of real data a user's one example does not
        // show), empty, or null.
        Value::Object(m) if !m.is_empty() => {
            let mut out: Vec<Value> = m
                .keys()
                .take(4)
                .map(|k| {
                    let mut c = m.clone();
                    c.remove(k);
                    Value::Object(c)
                })
                .collect();
            out.push(json!({}));
            out.push(Value::Null);
            out
        }
        Value::Array(items) if !items.is_empty() => {
            let mut out = vec![json!([]), json!([items[0].clone()])];
            let mut reversed = items.clone();
            reversed.reverse();
            out.push(Value::Array(reversed));
            let mut doubled = items.clone();
            doubled.push(items[0].clone());
            out.push(Value::Array(doubled));
            if items.len() > 2 {
                out.push(Value::Array(items[1..].to_vec()));
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Paths (keys and indices) to every node under `v`, bounded.
fn paths(v: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    if out.len() >= MAX_NODES {
        return;
    }
    if !prefix.is_empty() {
        out.push(prefix.clone());
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(json!(k));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate().take(8) {
                prefix.push(json!(i));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |node, step| match step {
        Value::String(k) => node.get_mut(k.as_str()),
        Value::Number(i) => node.get_mut(usize::try_from(i.as_u64()?).ok()?),
        _ => None,
    })
}

/// Examples larger than this (as JSON) are not mutated: each mutation is a
/// whole copy, and the inputs come from a user.
pub const MAX_MUTATED_BYTES: usize = 16 * 1024;

/// Copies of `example` (a skill's input), each with one node changed,
/// taken round-robin over the nodes so that every part of the input gets
/// its turn; deduplicated, at most [`MAX_MUTATIONS`]. Copies are made only
/// for the mutations kept, so memory stays within `MAX_MUTATIONS` copies of
/// an example of at most [`MAX_MUTATED_BYTES`].
pub fn mutations(example: &Value) -> Vec<Value> {
    if example.to_string().len() > MAX_MUTATED_BYTES {
        return Vec::new();
    }
    let mut all = Vec::new();
    paths(example, &mut Vec::new(), &mut all);
    let mut out: Vec<Value> = Vec::new();
    // A node has at most 6 variants (see `variants`).
    for round in 0..6 {
        for path in &all {
            if out.len() >= MAX_MUTATIONS {
                return out;
            }
            let mut copy = example.clone();
            let Some(slot) = at_mut(&mut copy, path) else {
                continue;
            };
            let Some(v) = variants(slot).into_iter().nth(round) else {
                continue;
            };
            *slot = v;
            if copy != *example && !out.contains(&copy) {
                out.push(copy);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn mutations_reach_inside_lists_of_records() {
        let example = json!({"days": [{"carts": 10, "orders": 3}, {"carts": 10, "orders": 5}]});
        let m = mutations(&example);
        assert!(m.len() <= MAX_MUTATIONS && m.len() >= 10, "{}", m.len());
        assert!(!m.contains(&example));
        // A zero inside a record, an emptied list, a duplicate item.
        assert!(
            m.contains(&json!({"days": [{"carts": 0, "orders": 3}, {"carts": 10, "orders": 5}]}))
        );
        assert!(m.contains(&json!({"days": []})));
        assert!(m.contains(&json!({"days": [{"carts": 10, "orders": 3}, {"carts": 10, "orders": 5}, {"carts": 10, "orders": 3}]})));
        // Round-robin: the second record's fields change before any field
        // gets its third variant.
        let first_orders_five = m
            .iter()
            .position(|v| v["days"][1]["orders"] == json!(0))
            .unwrap();
        assert!(first_orders_five < 10, "{first_orders_five}");
    }

    #[test]
    fn a_huge_or_deep_example_is_bounded() {
        let huge = json!({"rows": vec![json!({"a": 1, "b": "x".repeat(100)}); 2000]});
        let started = std::time::Instant::now();
        assert!(mutations(&huge).is_empty());
        let mut deep = json!(1);
        for _ in 0..100 {
            deep = json!({"k": [deep, 2]});
        }
        let m = mutations(&deep);
        assert!(m.len() <= MAX_MUTATIONS);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn a_nested_record_loses_a_key_or_is_empty_or_null() {
        let example = json!({"order": {"id": 1, "customer": {"email": "A@B.c"}, "total": "9.5"}});
        let m = mutations(&example);
        assert!(m.contains(&json!({"order": {"id": 1, "total": "9.5"}})));
        assert!(m.contains(&json!({"order": {"id": 1, "customer": {}, "total": "9.5"}})));
        assert!(m.contains(&json!({"order": {"id": 1, "customer": null, "total": "9.5"}})));
    }

    #[test]
    fn mutations_of_strings_and_floats() {
        let m = mutations(&json!({"email": "Bob@X.com", "rate": 1.5}));
        assert!(m.contains(&json!({"email": "", "rate": 1.5})));
        assert!(m.contains(&json!({"email": "BOB@X.COM", "rate": 1.5})));
        assert!(m.contains(&json!({"email": "Bob@X.com", "rate": 0.0})));
        assert!(m.contains(&json!({"email": "Bob@X.com", "rate": 0.5})));
    }

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
