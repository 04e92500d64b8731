//! Whether a trace nobody crystallized is worth keeping as a skill. Pure.
//!
//! Agents will not always call `crystallize`. A quiet trace is worth a
//! skill when it ends in a successful computation that takes inputs (a
//! skill without parameters is a constant) and is more than a one-liner of
//! arithmetic. Determinism and "not already a skill" are checked by
//! crystallization itself, which the caller runs next.

use super::slice;
use crate::trace::Step;

/// Kept cells shorter than this, all together, are too small to be a skill.
const MIN_CODE_CHARS: usize = 24;

/// `Ok(())` when the trace is worth crystallizing, else why not.
pub fn worth_keeping(steps: &[Step]) -> Result<(), String> {
    let ok: Vec<usize> = (0..steps.len())
        .filter(|&i| steps[i].error.is_none() && !steps[i].code.trim().is_empty())
        .collect();
    let Some(&last) = ok
        .iter()
        .rev()
        .find(|&&i| steps[i].value.as_ref().is_some_and(|v| !v.is_null()))
    else {
        return Err("no step produced a result".into());
    };
    let plan = slice::plan(steps, &ok, last);
    if plan.params.is_empty() {
        return Err("the result takes no inputs: a constant, not a skill".into());
    }
    let code: usize = plan.cells.iter().map(|c| c.code.trim().len()).sum();
    if code < MIN_CODE_CHARS {
        return Err(format!(
            "{code} characters of code: too small to be worth a skill"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use serde_json::json;

    fn step(code: &str, inputs: serde_json::Value, value: serde_json::Value) -> Step {
        Step {
            code: code.into(),
            inputs: inputs.as_object().cloned().unwrap_or_default(),
            value: Some(value),
            names: vec![],
            bound: Default::default(),
            error: None,
        }
    }

    #[test]
    fn only_real_computations_on_inputs_are_kept() {
        let real = [step(
            "sorted(set(w.lower() for w in text.split()))",
            json!({"text": "A a b"}),
            json!(["a", "b"]),
        )];
        assert!(worth_keeping(&real).is_ok());
        let constant = [step(
            "sum(range(100)) * 2 + len('hello world')",
            json!({}),
            json!(9911),
        )];
        assert!(worth_keeping(&constant).unwrap_err().contains("no inputs"));
        let tiny = [step("x + 1", json!({"x": 1}), json!(2))];
        assert!(worth_keeping(&tiny).unwrap_err().contains("too small"));
        let failed = [Step {
            error: Some("boom".into()),
            value: None,
            ..step("1/0", json!({}), json!(null))
        }];
        assert!(worth_keeping(&failed).is_err());
    }
}
