//! Whether a trace nobody crystallized is worth keeping as a skill. Pure.
//!
//! Agents will not always call `crystallize`. A quiet trace is worth a
//! skill when it ends in a successful computation that takes inputs (a
//! skill without parameters is a constant) and is more than a one-liner of
//! arithmetic; a small computation is worth one too when several traces
//! show it (the caller counts its [`NotWorth::pattern`]). Determinism and
//! "not already a skill" are checked by crystallization itself, which the
//! caller runs next.

use sha2::{Digest, Sha256};

use super::slice;
use crate::trace::Step;

/// Kept cells shorter than this, all together, are too small to be a skill.
const MIN_CODE_CHARS: usize = 24;

/// Traces that must show a small computation before it is kept.
pub const PATTERN_TRACES: u32 = 3;

/// Why a trace is not worth a skill on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotWorth {
    /// The reason.
    pub reason: String,
    /// When the only objection is size: a fingerprint of the computation
    /// (sha256 of its code, whitespace aside), the same in every trace that
    /// repeats it whatever the inputs.
    pub pattern: Option<String>,
}

impl From<&str> for NotWorth {
    fn from(reason: &str) -> Self {
        Self {
            reason: reason.to_owned(),
            pattern: None,
        }
    }
}

/// `Ok(())` when the trace is worth crystallizing, else why not.
pub fn worth_keeping(steps: &[Step]) -> Result<(), NotWorth> {
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
        let mut hash = Sha256::new();
        for cell in &plan.cells {
            for word in cell.code.split_whitespace() {
                hash.update(word.as_bytes());
                hash.update(b" ");
            }
            hash.update(b"\n");
        }
        return Err(NotWorth {
            reason: format!("{code} characters of code: too small to be worth a skill"),
            pattern: Some(hex::encode(hash.finalize())),
        });
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
            answer: false,
            runtime: Default::default(),
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
        let no = worth_keeping(&constant).unwrap_err();
        assert!(no.reason.contains("no inputs") && no.pattern.is_none());
        let tiny = [step("x + 1", json!({"x": 1}), json!(2))];
        let small = worth_keeping(&tiny).unwrap_err();
        assert!(small.reason.contains("too small"));
        // The same computation on other inputs, spaced otherwise, is the
        // same pattern; another computation is not.
        let again = [step("x  +  1", json!({"x": 41}), json!(42))];
        assert_eq!(worth_keeping(&again).unwrap_err().pattern, small.pattern);
        let other = [step("x + 2", json!({"x": 1}), json!(3))];
        assert_ne!(worth_keeping(&other).unwrap_err().pattern, small.pattern);
        let failed = [Step {
            error: Some("boom".into()),
            value: None,
            ..step("1/0", json!({}), json!(null))
        }];
        assert!(worth_keeping(&failed).is_err());
    }
}
