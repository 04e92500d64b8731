//! Candidates: the prompt that asks for one, sampling several at spread
//! temperatures, and running each on every test input in the sandbox.

use serde_json::Value;
use tokio::task::JoinSet;

use super::spec::{Spec, signature};
use super::{GenerateRequest, Session};
use crate::learn::agree::{Expect, Outcome};
use crate::llm::{ChatRequest, Message, ModelRole, json as llm_json};
use crate::sandbox::{CallError, Determinism, ErrorKind, ResourceLimits, Sandbox, SkillCode};
use crate::text::{MAX_QUOTE_BYTES, truncate};

use super::checks::without_checks;
pub(super) use super::python::{call, py};
use crate::python_imports::with_imports;
use crate::python_methods::with_python_methods;

pub(super) fn candidate_prompt(
    req: &GenerateRequest,
    spec: &Spec,
    entry: &str,
    feedback: Option<&str>,
) -> String {
    let examples: Vec<String> = req
        .examples
        .iter()
        .map(|e| {
            format!(
                "assert {} == {}",
                call(entry, &e.input),
                truncate(&py(&e.output), MAX_QUOTE_BYTES)
            )
        })
        .collect();
    let mut p = format!(
        "Task: {}\n\nComplete this function (keep the signature and docstring):\n```python\n{}\n```\n",
        req.request,
        signature(spec, entry)
    );
    if !examples.is_empty() {
        p.push_str(&format!("\nIt must pass:\n{}\n", examples.join("\n")));
    }
    if !req.building_blocks.is_empty() {
        let blocks: Vec<String> = req
            .building_blocks
            .iter()
            .map(|b| {
                let name = &b.requirement.name;
                format!(
                    "from skills.{name} import {name}  # {}: {}",
                    truncate(&b.signature, 200),
                    truncate(&b.description, 300)
                )
            })
            .collect();
        p.push_str(&format!(
            "\nThese tested skills are available; import and call them where they help:\n```python\n{}\n```\n",
            blocks.join("\n")
        ));
    }
    if !req.context.is_empty() {
        let lines: Vec<String> = req
            .context
            .iter()
            .take(8)
            .map(|c| format!("- {}", truncate(c, 300)))
            .collect();
        p.push_str(&format!(
            "\nLearned from earlier work:\n{}\n",
            lines.join("\n")
        ));
    }
    if let Some(f) = feedback {
        p.push_str(&format!("\nA previous attempt failed:\n{f}\nFix it.\n"));
    }
    p.push_str("\nAnswer with the complete function in one ```python block.");
    p
}

/// Sample one candidate per prompt, concurrently, at spread temperatures
/// from `TEMPERATURES[offset]` on; the first round starts greedy
/// (temperature 0, the single most likely answer), repairs start warmer so
/// that they do not repeat themselves.
pub(super) async fn sample(s: &mut Session, prompts: Vec<String>, offset: usize) -> Vec<String> {
    const TEMPERATURES: [f32; 8] = [0.0, 0.6, 0.9, 1.1, 0.4, 0.8, 1.0, 0.7];
    // Identical prompts (the first round's) are one request at several
    // temperatures, which a local model decodes as one batch.
    let mut groups: Vec<(String, Vec<(usize, f32)>)> = Vec::new();
    for (i, prompt) in prompts.into_iter().enumerate() {
        let t = TEMPERATURES[(i + offset) % TEMPERATURES.len()];
        match groups.iter_mut().find(|(p, _)| *p == prompt) {
            Some((_, slots)) => slots.push((i, t)),
            None => groups.push((prompt, vec![(i, t)])),
        }
    }
    let mut set = JoinSet::new();
    for (prompt, slots) in groups {
        let (llm, system) = (s.llm.clone(), s.system);
        set.spawn(async move {
            let request = ChatRequest {
                role: ModelRole::Reasoning,
                messages: vec![Message::system(system), Message::user(prompt)],
                temperature: 0.0,
                max_tokens: 800,
                json_schema: None,
                expect_code: true,
                tools: Vec::new(),
            };
            let answers = llm
                .chat_many(request, slots.iter().map(|&(_, t)| t).collect())
                .await;
            slots
                .into_iter()
                .map(|(i, _)| i)
                .zip(answers)
                .collect::<Vec<_>>()
        });
    }
    let mut out: Vec<(usize, String)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        for (i, answer) in joined.unwrap_or_default() {
            let Ok(r) = answer else { continue };
            s.calls += 1;
            s.usage += r.usage;
            if let Some(code) = llm_json::python_code(&r.text) {
                out.push((
                    i,
                    with_imports(&with_python_methods(&without_checks(&code))),
                ));
            }
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, c)| c).collect()
}

/// Run `source` (with `deps` importable) on every input.
pub(super) async fn behaviour(
    sandbox: &Sandbox,
    code: SkillCode<'_>,
    inputs: &[Value],
    limits: &ResourceLimits,
) -> Vec<Outcome> {
    let mut out = Vec::with_capacity(inputs.len());
    for input in inputs {
        out.push(
            match sandbox
                .run(code, &input.to_string(), limits, Determinism::Seeded(0))
                .await
            {
                Ok(o) => Outcome::Value(serde_json::from_str(&o.json).unwrap_or(Value::Null)),
                Err(e) => Outcome::Error(error_of(&e)),
            },
        );
    }
    out
}

/// The program without comments, blank lines and trailing spaces: two
/// samples that differ only there are one program, not two votes.
pub(super) fn normalized(code: &str) -> String {
    code.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What an error was, as a behaviour: the exception type and message for
/// an exception (two candidates that raise different errors behave
/// differently, and the repair prompt needs the message), else its kind.
fn error_of(e: &CallError) -> String {
    match e {
        CallError::Guest(f) if f.kind == ErrorKind::Exception => {
            truncate(&format!("{}: {}", f.error_type, f.message), 200)
        }
        other => other.kind().as_str().to_owned(),
    }
}

/// Why a candidate fails the gate (the examples, the person's answers),
/// for the repair prompt.
pub(super) fn failures(
    run: &[Outcome],
    gate: &[(usize, Expect)],
    inputs: &[Value],
    entry: &str,
) -> Vec<String> {
    gate.iter()
        .filter(|(i, want)| !want.met_by(&run[*i]))
        .map(|(i, want)| {
            let got = match &run[*i] {
                Outcome::Value(v) => format!("returned {}", truncate(&py(v), MAX_QUOTE_BYTES)),
                Outcome::Error(k) => format!("raised {k}"),
            };
            let should = match want {
                Expect::Value(v) => format!("return {}", truncate(&py(v), MAX_QUOTE_BYTES)),
                Expect::Raises => "raise an error (the input is invalid)".into(),
            };
            format!("{} should {should} but {got}", call(entry, &inputs[*i]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn examples_are_shown_as_python() {
        assert_eq!(
            call(
                "f",
                &json!({"a": null, "b": [true, false], "c": {"k": "v"}})
            ),
            r#"f(a=None, b=[True, False], c={"k": "v"})"#
        );
        assert_eq!(py(&json!(1.5)), "1.5");
    }

    #[test]
    fn programs_that_differ_only_in_comments_and_blanks_are_one() {
        let a = "def f(x):\n    # double it\n    return 2 * x\n";
        let b = "def f(x):\n\n    return 2 * x   \n# done\n";
        assert_eq!(normalized(a), normalized(b));
        assert_ne!(normalized(a), normalized("def f(x):\n    return x + x\n"));
    }
}
