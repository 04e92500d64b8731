//! Crystallization without an LLM: turn an agent's recorded `run_python`
//! steps into a parameterized skill.
//!
//! The trace is sliced by dataflow (see [`super::slice`]): failed steps,
//! superseded retries and unrelated cells are dropped, inputs are wired to
//! the steps that computed them, and what no step computed becomes a
//! parameter. The cells are composed (in the sandbox, with Python's own
//! `ast`) into one function whose return value is the final step's value.
//! Before anything is stored, the composed skill must reproduce the
//! recorded result for the recorded inputs, twice, with fresh entropy and
//! the real clock each time: a trace whose result depends on chance or time
//! is not worth a skill.

use serde_json::Value;

use super::slice;
use crate::runtime::Runtime;
use crate::sandbox::{CallError, Determinism, ResourceLimits, Sandbox, SkillCode};
use crate::skills::{Example, SkillManifest, infer_input_schema, is_reserved};
use crate::text::quote;
use crate::trace::Step;

/// Why a trace was not turned into a skill.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum Refusal {
    /// More steps than a trace may hold.
    #[error(
        "{steps} steps, {bytes} bytes: over the {max_steps} steps and {max_bytes} bytes a trace may hold"
    )]
    TooLarge {
        /// Steps given.
        steps: usize,
        /// Their size.
        bytes: usize,
        /// The step cap.
        max_steps: usize,
        /// The byte cap.
        max_bytes: usize,
    },
    /// The trace id names no trace of this tenant.
    #[error("no trace {0:?}: run_python returns the id of the trace each step joined")]
    UnknownTrace(String),
    /// Nothing ran.
    #[error("the trace has no code: run the work with run_python first, or pass steps")]
    NoCode,
    /// Every step failed: there is no run that worked to learn from.
    #[error(
        "all {steps} steps of the trace failed (the last: {error}); crystallize a trace with a step that worked"
    )]
    AllFailed {
        /// How many steps there were.
        steps: usize,
        /// The last step's error.
        error: String,
    },
    /// No result to reproduce.
    #[error(
        "the trace produced no result (null); the last step should end in an expression or set `result`"
    )]
    NoResult,
    /// The composed skill gives something else.
    #[error("the composed skill does not reproduce the trace: expected {expected}, got {got}")]
    DoesNotReproduce {
        /// Recorded.
        expected: String,
        /// Produced.
        got: String,
    },
    /// Two runs disagreed.
    #[error(
        "the result is not deterministic (two runs gave {first} and {second}); it depends on chance or time"
    )]
    NonDeterministic {
        /// First run.
        first: String,
        /// Second run.
        second: String,
    },
    /// The composed skill failed to run.
    #[error("the composed skill fails: {0}")]
    Fails(String),
    /// The name cannot be a tool name.
    #[error("cannot derive a skill name from the request; pass `name`")]
    NoName,
}

impl crate::fault::Classify for Refusal {
    fn kind(&self) -> &'static str {
        match self {
            Self::UnknownTrace(_) => "not_found",
            _ => "not_crystallized",
        }
    }
}

/// Build a skill manifest from a trace, every sandbox call under `limits`.
/// Nothing is stored here.
pub async fn prepare(
    sandbox: &Sandbox,
    request: &str,
    steps: &[Step],
    final_result: Option<&Value>,
    name: Option<&str>,
    limits: &ResourceLimits,
) -> Result<SkillManifest, Refusal> {
    if steps.is_empty() || steps.iter().all(|s| s.code.trim().is_empty()) {
        return Err(Refusal::NoCode);
    }
    let ok: Vec<usize> = (0..steps.len())
        .filter(|&i| steps[i].error.is_none() && !steps[i].code.trim().is_empty())
        .collect();
    let Some(&last_ok) = ok.last() else {
        return Err(Refusal::AllFailed {
            steps: steps.len(),
            error: steps
                .last()
                .and_then(|s| s.error.clone())
                .unwrap_or_default(),
        });
    };
    // The final step: the last that produced the wanted result, else the
    // last that worked.
    let last = final_result
        .and_then(|want| {
            ok.iter()
                .rev()
                .find(|&&i| steps[i].value.as_ref() == Some(want))
                .copied()
        })
        .unwrap_or(last_ok);
    let expected = final_result
        .or(steps[last].value.as_ref())
        .filter(|v| !v.is_null())
        .cloned()
        .ok_or(Refusal::NoResult)?;

    let plan = slice::plan(steps, &ok, last);
    let name = match name {
        Some(n) => n.to_owned(),
        None => slug(request).ok_or(Refusal::NoName)?,
    };
    let entry = name.replace('-', "_");
    // One line, so the docstring is one line of the composed source.
    let doc = request.split_whitespace().collect::<Vec<_>>().join(" ");
    let source = sandbox
        .compose(&plan.cells, &plan.params, &entry, &doc, limits)
        .await
        .map_err(|e| Refusal::Fails(e.to_string()))?;

    let input_value = Value::Object(plan.input);
    // A trace that used numpy or pandas anywhere becomes a data skill.
    let runtime = steps
        .iter()
        .map(|s| s.runtime)
        .find(|r| *r == Runtime::Data)
        .unwrap_or_default();
    let code = SkillCode::new(&name, &source, &entry).on(runtime);
    let first = run_once(sandbox, code, &input_value, limits).await?;
    let second = run_once(sandbox, code, &input_value, limits).await?;
    if first != second {
        return Err(Refusal::NonDeterministic {
            first: quote(&first),
            second: quote(&second),
        });
    }
    if first != expected {
        return Err(Refusal::DoesNotReproduce {
            expected: quote(&expected),
            got: quote(&first),
        });
    }
    Ok(SkillManifest {
        runtime,
        memoize: false,
        requires: Vec::new(),
        name,
        description: doc,
        input_schema: infer_input_schema([&input_value]),
        output_schema: None,
        source,
        entry,
        examples: vec![Example {
            input: input_value,
            output: expected,
        }],
    })
}

async fn run_once(
    sandbox: &Sandbox,
    code: SkillCode<'_>,
    input: &Value,
    limits: &ResourceLimits,
) -> Result<Value, Refusal> {
    let out = sandbox
        .run(code, &input.to_string(), limits, Determinism::Live)
        .await
        .map_err(|e: CallError| Refusal::Fails(format!("{e} ({})", e.kind())))?;
    serde_json::from_str(&out.json).map_err(|e| Refusal::Fails(e.to_string()))
}

/// The composed source without what does not change behaviour: the
/// function's name and its (one-line) docstring. Two crystallizations of the
/// same trace under different names or wordings have the same fingerprint.
pub fn fingerprint(source: &str, entry: &str) -> String {
    let def = format!("def {entry}(");
    let mut out = Vec::new();
    let mut lines = source.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with(&def) {
            out.push(line.replacen(&def, "def _(", 1));
            if let Some(next) = lines.peek() {
                let t = next.trim_start();
                if t.starts_with('"') || t.starts_with('\'') {
                    lines.next();
                }
            }
        } else {
            out.push(line.to_owned());
        }
    }
    out.join("\n")
}

/// `"Count the vowels in a text!"` → `count_the_vowels_in_a_text`. A
/// slug that would be a built-in's name gets a `_skill` suffix: names are
/// reserved after derivation, not only when given.
pub fn slug(request: &str) -> Option<String> {
    let words: Vec<String> = request
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .take(6)
        .collect();
    let mut s = words.join("_");
    s.truncate(48);
    let mut s = s.trim_end_matches('_').to_owned();
    if is_reserved(&s) {
        s.push_str("_skill");
    }
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        .then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_the_name_and_docstring_only() {
        let a = "import re\n\ndef alpha(text):\n    \"\"\"Count.\"\"\"\n    return len(text)\n";
        let b = "import re\n\ndef beta(text):\n    'Other words.'\n    return len(text)\n";
        let c = "import re\n\ndef beta(text):\n    'Other words.'\n    return len(text) + 1\n";
        assert_eq!(fingerprint(a, "alpha"), fingerprint(b, "beta"));
        assert_ne!(fingerprint(a, "alpha"), fingerprint(c, "beta"));
    }

    #[test]
    fn slugs_are_tool_names() {
        assert_eq!(
            slug("Count the vowels in a text!").as_deref(),
            Some("count_the_vowels_in_a_text")
        );
        assert_eq!(slug("42 things"), None);
        assert_eq!(slug("Run Python!").as_deref(), Some("run_python_skill"));
        assert_eq!(slug("   "), None);
    }
}
