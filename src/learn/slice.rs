//! Which steps of a trace a skill needs, and how they connect: a backward
//! slice by dataflow. Pure: no sandbox, no store.
//!
//! Each `run_python` cell ran alone with its `inputs` bound, so data moves
//! between steps only through inputs. An input of a later step is wired to
//! the earlier step that computed it: the cell that bound that name to that
//! value, or (under any name) the cell whose value, or one of whose bound
//! values, equals it. What no earlier step computed is a parameter of the
//! skill. Starting from the step that produced the final result, only the
//! steps it depends on are kept: failed attempts, retries that were
//! superseded and unrelated cells fall away.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::trace::Step;

/// One cell of the composed skill.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cell {
    /// Its code.
    pub code: String,
    /// Bind the cell's value to this name for the cells after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assign: Option<String>,
}

/// How to compose a skill from a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Cells in order; the last one's value is the result.
    pub cells: Vec<Cell>,
    /// Parameters, in the order they first appear.
    pub params: Vec<String>,
    /// The parameters' recorded values: the input to reproduce the trace.
    pub input: Map<String, Value>,
    /// Steps kept (0-based indices into the trace).
    pub kept: Vec<usize>,
}

/// Where an input came from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// A name the cell bound.
    Bound { step: usize, name: String },
    /// The cell's value.
    Value { step: usize },
}

/// Values too plain to say that two steps are connected just because they
/// are equal (a `2` or `true` here and there is a coincidence).
fn distinctive(v: &Value) -> bool {
    match v {
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::String(s) => s.chars().count() >= 4,
        Value::Number(n) => n
            .as_f64()
            .is_some_and(|f| f.fract() != 0.0 || f.abs() >= 1000.0),
        _ => false,
    }
}

fn source(steps: &[Step], ok: &[usize], consumer: usize, name: &str, v: &Value) -> Option<Source> {
    let earlier: Vec<usize> = ok.iter().copied().filter(|&i| i < consumer).rev().collect();
    // The same name, bound to the same value (or to a value we did not
    // keep, which is the best evidence there is).
    for &i in &earlier {
        if steps[i].names.iter().any(|n| n == name)
            && steps[i].bound.get(name).is_none_or(|b| b == v)
        {
            return Some(Source::Bound {
                step: i,
                name: name.to_owned(),
            });
        }
    }
    if !distinctive(v) {
        return None;
    }
    for &i in &earlier {
        if steps[i].value.as_ref() == Some(v) {
            return Some(Source::Value { step: i });
        }
        if let Some((m, _)) = steps[i].bound.iter().find(|(_, b)| *b == v) {
            return Some(Source::Bound {
                step: i,
                name: m.clone(),
            });
        }
    }
    None
}

/// Plan the skill whose result is step `last`'s value. `ok` are the steps
/// that succeeded, in order.
pub fn plan(steps: &[Step], ok: &[usize], last: usize) -> Plan {
    let mut kept = BTreeSet::from([last]);
    let mut wires: BTreeMap<(usize, String), Source> = BTreeMap::new();
    let mut todo = vec![last];
    while let Some(j) = todo.pop() {
        for (k, v) in &steps[j].inputs {
            if let Some(src) = source(steps, ok, j, k, v) {
                let from = match &src {
                    Source::Bound { step, .. } | Source::Value { step } => *step,
                };
                if kept.insert(from) {
                    todo.push(from);
                }
                wires.insert((j, k.clone()), src);
            }
        }
    }

    // A producer's value goes to the first name a consumer used for it.
    let mut assign: BTreeMap<usize, String> = BTreeMap::new();
    for ((_, k), src) in &wires {
        if let Source::Value { step } = src {
            assign.entry(*step).or_insert_with(|| k.clone());
        }
    }
    let mut params = Vec::new();
    let mut input = Map::new();
    let mut cells = Vec::new();
    for &j in &kept {
        // Aliases: `k = m` where a consumer names a value differently.
        for (k, _) in &steps[j].inputs {
            let alias_of = match wires.get(&(j, k.clone())) {
                Some(Source::Bound { name, .. }) => Some(name.clone()),
                Some(Source::Value { step }) => assign.get(step).cloned(),
                None => {
                    if !input.contains_key(k) {
                        params.push(k.clone());
                        input.insert(k.clone(), steps[j].inputs[k].clone());
                    }
                    None
                }
            };
            if let Some(m) = alias_of.filter(|m| m != k) {
                cells.push(Cell {
                    code: format!("{k} = {m}"),
                    assign: None,
                });
            }
        }
        cells.push(Cell {
            code: steps[j].code.clone(),
            assign: assign.get(&j).cloned(),
        });
    }
    Plan {
        cells,
        params,
        input,
        kept: kept.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn step(code: &str, inputs: Value, value: Value, bound: Value) -> Step {
        let bound = bound.as_object().cloned().unwrap_or_default();
        Step {
            code: code.into(),
            inputs: inputs.as_object().cloned().unwrap_or_default(),
            value: Some(value),
            names: bound.keys().cloned().collect(),
            bound,
            error: None,
            answer: false,
            runtime: Default::default(),
        }
    }

    #[test]
    fn a_value_passed_under_a_new_name_is_wired_not_a_parameter() {
        let words = json!(["the", "cat"]);
        let steps = [
            step(
                "text.split()",
                json!({"text": "the cat"}),
                words.clone(),
                json!({}),
            ),
            step("len(ws)", json!({"ws": words}), json!(2), json!({})),
        ];
        let p = plan(&steps, &[0, 1], 1);
        assert_eq!(p.params, vec!["text"]);
        assert_eq!(p.cells[0].assign.as_deref(), Some("ws"));
        assert_eq!(p.cells.len(), 2);
    }

    #[test]
    fn unrelated_and_superseded_steps_fall_away() {
        let steps = [
            step(
                "words = text.split()",
                json!({"text": "a bb"}),
                json!(null),
                json!({"words": ["a", "bb"]}),
            ),
            step(
                "import math\nmath.e * 2",
                json!({}),
                json!(5.43656),
                json!({}),
            ),
            step(
                "sum(len(w) for w in words) / len(words)",
                json!({"words": ["a", "bb"]}),
                json!(1.5),
                json!({}),
            ),
        ];
        let p = plan(&steps, &[0, 1, 2], 2);
        assert_eq!(p.kept, vec![0, 2]);
        assert_eq!(p.params, vec!["text"]);
        assert!(p.cells.iter().all(|c| !c.code.contains("math")));
    }

    #[test]
    fn plain_values_are_never_wired_by_coincidence() {
        let steps = [
            step("2", json!({}), json!(2), json!({})),
            step("x * 10", json!({"x": 2}), json!(20), json!({})),
        ];
        let p = plan(&steps, &[0, 1], 1);
        assert_eq!(p.kept, vec![1]);
        assert_eq!(p.params, vec!["x"]);
    }

    #[test]
    fn a_bound_name_under_another_name_gets_an_alias() {
        let steps = [
            step(
                "counts = {'a': 3}",
                json!({}),
                json!(null),
                json!({"counts": {"a": 3}}),
            ),
            step(
                "max(c, key=c.get)",
                json!({"c": {"a": 3}}),
                json!("a"),
                json!({}),
            ),
        ];
        let p = plan(&steps, &[0, 1], 1);
        assert!(p.params.is_empty());
        assert_eq!(p.cells[1].code, "c = counts");
    }
}
