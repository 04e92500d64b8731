//! The inputs every candidate runs on: the user's examples first (the
//! gate), the answers a person gave, then the model's own inputs, mutations
//! of the examples and edges of the schema.

use serde_json::Value;

use super::GenerateRequest;
use super::spec::Spec;
use crate::learn::edges::{edge_inputs, mutations};

/// Inputs every candidate runs on, examples included.
const MAX_INPUTS: usize = 64;

/// Inputs every candidate runs on: the examples first (the gate), then the
/// model's own, mutations of the examples, and edges of the schema.
pub(super) fn test_inputs(req: &GenerateRequest, spec: &Spec) -> Vec<Value> {
    let mut inputs: Vec<Value> = req.examples.iter().map(|e| e.input.clone()).collect();
    for settled in &req.answers {
        if !inputs.contains(&settled.input) {
            inputs.push(settled.input.clone());
        }
    }
    let base = inputs
        .first()
        .or(spec.extra_inputs.first())
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mutated = req
        .examples
        .iter()
        .take(4)
        .flat_map(|e| mutations(&e.input));
    for extra in spec
        .extra_inputs
        .iter()
        .filter(|v| v.is_object())
        .cloned()
        .chain(mutated)
        .chain(edge_inputs(&spec.input_schema, &base))
    {
        if !inputs.contains(&extra) && inputs.len() < MAX_INPUTS {
            inputs.push(extra);
        }
    }
    inputs
}
