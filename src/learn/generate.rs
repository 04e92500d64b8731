//! Skills from a plain-English request: spec, candidates, tests, agreement,
//! repair. Nothing is stored here; the caller verifies, scores and stores.
//!
//! 1. **spec**: the model drafts a name, description, parameters (each
//!    described), the result's type and a few extra example inputs;
//! 2. **candidates**: k samples at spread temperatures, each given the
//!    exact signature, docstring and the user's examples;
//! 3. **inputs**: the user's examples (a hard gate), edge inputs from the
//!    schema ([`super::edges`]) and the model's own inputs;
//! 4. **agreement**: every candidate on every input in the sandbox; the
//!    largest group that passes the examples wins ([`super::agree`]);
//! 5. **repair**: failures go back to the model, up to `repair_rounds`.

use serde_json::{Map, Value, json};
use tokio::task::JoinSet;

use super::agree::{self, Outcome, Verdict};
use super::edges::edge_inputs;
use crate::llm::{ChatRequest, Llm, LlmError, Message, ModelRole, Usage, json as llm_json};
use crate::sandbox::{Determinism, ResourceLimits, Sandbox, SkillCode};
use crate::skills::{Example, SkillManifest, infer_input_schema, is_reserved};
use crate::text::quote;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    /// The task, in plain English.
    pub request: String,
    /// Worked examples the skill must reproduce (the hard gate).
    pub examples: Vec<Example>,
    /// The skill's name, if the caller chose one.
    pub name: Option<String>,
}

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct GenerateOptions {
    /// Candidates sampled per round. Default: 4.
    pub candidates: usize,
    /// Rounds of repair after the first. Default: 2.
    pub repair_rounds: usize,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            candidates: 4,
            repair_rounds: 2,
        }
    }
}

/// An input on which passing candidates disagreed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EdgeCase {
    /// The input.
    pub input: Value,
    /// What the winner did (kept as a regression test when a value).
    pub agreed: Outcome,
    /// What each passing candidate did.
    pub outcomes: Vec<Outcome>,
}

/// A winning candidate and the evidence for it.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The skill: the winner's code, the spec, the user's examples plus the
    /// discovered edge cases as regression tests.
    pub manifest: SkillManifest,
    /// Independent agreement with the winner, 0 to 1.
    pub agreement: f64,
    /// Candidates sampled, repairs included.
    pub candidates: usize,
    /// Repair rounds it took.
    pub repair_rounds: usize,
    /// Inputs where passing candidates disagreed.
    pub edge_cases: Vec<EdgeCase>,
    /// Model calls made and what they cost.
    pub llm_calls: u32,
    /// Tokens used.
    pub usage: Usage,
}

/// Generation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// The model could not be used.
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// No candidate passed the examples, repairs included.
    #[error("no candidate passed every example after {candidates} candidates:\n- {}", .reasons.join("\n- "))]
    NoCandidate {
        /// Candidates sampled.
        candidates: usize,
        /// What went wrong, per candidate.
        reasons: Vec<String>,
    },
}

const SYSTEM: &str = "You write small, correct Python 3 functions. Use only the standard library \
(json, re, math, statistics, datetime, decimal, fractions, collections, itertools, functools, heapq, \
bisect, string, textwrap, unicodedata, csv, io, hashlib, base64, random, dataclasses, typing, difflib, \
html, urllib.parse). No files, network, input() or print(). Return JSON-serializable values \
(dict, list, str, int, float, bool, None). Handle empty and unusual inputs sensibly.";

/// The model's spec of a skill.
struct Spec {
    name: String,
    description: String,
    input_schema: Value,
    output_type: Option<String>,
    extra_inputs: Vec<Value>,
}

fn spec_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "parameters": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"},
                "type": {"enum": ["string", "integer", "number", "boolean", "array", "object"]},
                "description": {"type": "string"}
            }, "required": ["name", "type", "description"]}},
            "returns": {"enum": ["string", "integer", "number", "boolean", "array", "object"]},
            "example_inputs": {"type": "array", "items": {"type": "object"}}
        },
        "required": ["name", "description", "parameters"]
    })
}

struct Session {
    llm: Llm,
    calls: u32,
    usage: Usage,
}

impl Session {
    async fn ask(&mut self, req: ChatRequest) -> Result<String, LlmError> {
        let r = self.llm.chat(req).await?;
        self.calls += 1;
        self.usage += r.usage;
        Ok(r.text)
    }
}

async fn draft_spec(s: &mut Session, req: &GenerateRequest) -> Result<Spec, GenerateError> {
    let examples: Vec<String> = req
        .examples
        .iter()
        .map(|e| format!("input {} -> output {}", quote(&e.input), quote(&e.output)))
        .collect();
    let prompt = format!(
        "Design a function for this task: {}\n{}\nAnswer with JSON: a snake_case `name`, a one-sentence \
         `description`, its `parameters` (name, JSON type, description; the keys of the example inputs, \
         if any), the JSON type it `returns`, and three `example_inputs` that differ from the examples.",
        req.request,
        if examples.is_empty() {
            String::new()
        } else {
            format!("Examples:\n{}", examples.join("\n"))
        }
    );
    let text = s
        .ask(ChatRequest {
            role: ModelRole::Reasoning,
            messages: vec![Message::system(SYSTEM), Message::user(prompt)],
            temperature: 0.2,
            max_tokens: 800,
            json_schema: Some(spec_schema()),
            expect_code: false,
        })
        .await?;
    let v = llm_json::extract(&text)
        .ok_or_else(|| LlmError::Malformed("the spec is not JSON".into()))?;
    Ok(spec_from(&v, req))
}

/// Turn the model's spec into a usable one; the user's choices win.
fn spec_from(v: &Value, req: &GenerateRequest) -> Spec {
    let proposed = v["name"].as_str().and_then(crate::learn::crystallize::slug);
    let name = req
        .name
        .clone()
        .or(proposed)
        .or_else(|| crate::learn::crystallize::slug(&req.request))
        .filter(|n| !is_reserved(n))
        .unwrap_or_else(|| "generated_skill".into());
    let mut props = Map::new();
    for p in v["parameters"].as_array().into_iter().flatten() {
        let (Some(pname), Some(ty)) = (p["name"].as_str(), p["type"].as_str()) else {
            continue;
        };
        if is_python_name(pname) {
            props.insert(
                pname.to_owned(),
                json!({"type": ty, "description": p["description"].as_str().unwrap_or("")}),
            );
        }
    }
    // The examples' keys are the truth about the parameters.
    let inferred = infer_input_schema(req.examples.iter().map(|e| &e.input));
    if let Some(keys) = inferred["properties"].as_object().filter(|k| !k.is_empty()) {
        let mut merged = Map::new();
        for (k, ty) in keys {
            let mut p = ty.clone();
            if let Some(d) = props.get(k).and_then(|p| p.get("description")) {
                p["description"] = d.clone();
            }
            merged.insert(k.clone(), p);
        }
        props = merged;
    }
    let required: Vec<&String> = props.keys().collect();
    let input_schema = json!({"type": "object", "properties": props, "required": required});
    Spec {
        name,
        description: v["description"].as_str().unwrap_or(&req.request).to_owned(),
        input_schema,
        output_type: v["returns"].as_str().map(str::to_owned),
        extra_inputs: v["example_inputs"].as_array().cloned().unwrap_or_default(),
    }
}

fn is_python_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        && s.len() <= 64
}

fn signature(spec: &Spec, entry: &str) -> String {
    let props = spec.input_schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let params: Vec<&String> = props.keys().collect();
    let args: Vec<String> = props
        .iter()
        .map(|(k, p)| {
            format!(
                "        {k} ({}): {}",
                p["type"].as_str().unwrap_or("any"),
                p["description"].as_str().unwrap_or("")
            )
        })
        .collect();
    format!(
        "def {entry}({}):\n    \"\"\"{}\n\n    Args:\n{}\n    \"\"\"",
        params
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        spec.description,
        args.join("\n")
    )
}

fn candidate_prompt(
    req: &GenerateRequest,
    spec: &Spec,
    entry: &str,
    feedback: Option<&str>,
) -> String {
    let examples: Vec<String> = req
        .examples
        .iter()
        .map(|e| {
            let args: Vec<String> = e
                .input
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("{entry}({}) == {}", args.join(", "), e.output)
        })
        .collect();
    let mut p = format!(
        "Task: {}\n\nComplete this function (keep the signature and docstring):\n```python\n{}\n```\n",
        req.request,
        signature(spec, entry)
    );
    if !examples.is_empty() {
        p.push_str(&format!("\nIt must satisfy:\n{}\n", examples.join("\n")));
    }
    if let Some(f) = feedback {
        p.push_str(&format!("\nA previous attempt failed:\n{f}\nFix it.\n"));
    }
    p.push_str("\nAnswer with the complete function in one ```python block.");
    p
}

/// Sample `n` candidates concurrently at spread temperatures.
async fn sample(s: &mut Session, prompts: Vec<String>) -> Vec<String> {
    const TEMPERATURES: [f32; 6] = [0.2, 0.6, 0.9, 1.1, 0.4, 0.8];
    let mut set = JoinSet::new();
    for (i, prompt) in prompts.into_iter().enumerate() {
        let llm = s.llm.clone();
        set.spawn(async move {
            let r = llm
                .chat(ChatRequest {
                    role: ModelRole::Reasoning,
                    messages: vec![Message::system(SYSTEM), Message::user(prompt)],
                    temperature: TEMPERATURES[i % TEMPERATURES.len()],
                    max_tokens: 1200,
                    json_schema: None,
                    expect_code: true,
                })
                .await;
            (i, r)
        });
    }
    let mut out: Vec<(usize, String)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok((i, Ok(r))) = joined {
            s.calls += 1;
            s.usage += r.usage;
            if let Some(code) = llm_json::python_code(&r.text) {
                out.push((i, code));
            }
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, c)| c).collect()
}

/// Run `source` on every input.
async fn behaviour(
    sandbox: &Sandbox,
    name: &str,
    source: &str,
    entry: &str,
    inputs: &[Value],
    limits: &ResourceLimits,
) -> Vec<Outcome> {
    let code = SkillCode {
        name,
        source,
        entry,
    };
    let mut out = Vec::with_capacity(inputs.len());
    for input in inputs {
        out.push(
            match sandbox
                .run(code, &input.to_string(), limits, Determinism::Seeded(0))
                .await
            {
                Ok(o) => Outcome::Value(serde_json::from_str(&o.json).unwrap_or(Value::Null)),
                Err(e) => Outcome::Error(e.kind().as_str().to_owned()),
            },
        );
    }
    out
}

/// Why a candidate fails the examples, for the repair prompt.
fn failures(runs: &[Outcome], examples: &[Example]) -> Vec<String> {
    examples
        .iter()
        .zip(runs)
        .filter(|(e, o)| **o != Outcome::Value(e.output.clone()))
        .map(|(e, o)| {
            let got = match o {
                Outcome::Value(v) => quote(v),
                Outcome::Error(k) => format!("an error ({k})"),
            };
            format!(
                "input {} should give {} but gave {got}",
                quote(&e.input),
                quote(&e.output)
            )
        })
        .collect()
}

/// Run the pipeline. Sandbox calls use `limits` (a normal call's).
pub async fn generate(
    llm: Llm,
    sandbox: &Sandbox,
    req: &GenerateRequest,
    opts: GenerateOptions,
    limits: &ResourceLimits,
) -> Result<Generated, GenerateError> {
    let mut s = Session {
        llm,
        calls: 0,
        usage: Usage::default(),
    };
    let spec = draft_spec(&mut s, req).await?;
    let entry = spec.name.replace('-', "_");

    // Inputs: the examples first (the gate), then edges and the model's.
    let mut inputs: Vec<Value> = req.examples.iter().map(|e| e.input.clone()).collect();
    let base = inputs
        .first()
        .or(spec.extra_inputs.first())
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for extra in spec
        .extra_inputs
        .iter()
        .filter(|v| v.is_object())
        .cloned()
        .chain(edge_inputs(&spec.input_schema, &base))
    {
        if !inputs.contains(&extra) && inputs.len() < 40 {
            inputs.push(extra);
        }
    }
    let expected: Vec<Value> = req.examples.iter().map(|e| e.output.clone()).collect();

    let k = opts.candidates.max(1);
    let mut codes: Vec<String> = sample(
        &mut s,
        (0..k)
            .map(|_| candidate_prompt(req, &spec, &entry, None))
            .collect(),
    )
    .await;
    let mut runs: Vec<Vec<Outcome>> = Vec::new();
    let mut round = 0;
    let verdict: Verdict = loop {
        for code in &codes[runs.len()..] {
            runs.push(behaviour(sandbox, &spec.name, code, &entry, &inputs, limits).await);
        }
        if let Some(v) = agree::decide(&runs, &expected) {
            break v;
        }
        let reasons: Vec<String> = runs
            .iter()
            .enumerate()
            .map(|(c, r)| {
                format!(
                    "candidate {}: {}",
                    c + 1,
                    failures(r, &req.examples).join("; ")
                )
            })
            .collect();
        if round >= opts.repair_rounds {
            return Err(GenerateError::NoCandidate {
                candidates: codes.len(),
                reasons,
            });
        }
        round += 1;
        // Repair the candidates that came closest.
        let mut ranked: Vec<usize> = (0..codes.len()).collect();
        ranked.sort_by_key(|&c| failures(&runs[c], &req.examples).len());
        let prompts: Vec<String> = if ranked.is_empty() {
            (0..k)
                .map(|_| candidate_prompt(req, &spec, &entry, None))
                .collect()
        } else {
            ranked
                .iter()
                .take(2)
                .map(|&c| {
                    let feedback = format!(
                        "```python\n{}```\n{}",
                        codes[c],
                        failures(&runs[c], &req.examples).join("\n")
                    );
                    candidate_prompt(req, &spec, &entry, Some(&feedback))
                })
                .collect()
        };
        codes.extend(sample(&mut s, prompts).await);
    };

    let winner = &runs[verdict.winner];
    let edge_cases: Vec<EdgeCase> = verdict
        .disputed
        .iter()
        .map(|&i| EdgeCase {
            input: inputs[i].clone(),
            agreed: winner[i].clone(),
            outcomes: verdict
                .passing
                .iter()
                .map(|&c| runs[c][i].clone())
                .collect(),
        })
        .collect();
    let mut examples = req.examples.clone();
    for e in edge_cases.iter().take(8) {
        if let Outcome::Value(v) = &e.agreed {
            examples.push(Example {
                input: e.input.clone(),
                output: v.clone(),
            });
        }
    }
    // The result type is declared only when every value the winner gave
    // has it.
    let output_schema = spec
        .output_type
        .as_ref()
        .filter(|ty| {
            winner.iter().all(|o| match o {
                Outcome::Value(v) => json_type_is(v, ty),
                Outcome::Error(_) => true,
            })
        })
        .map(|ty| json!({"type": ty}));
    Ok(Generated {
        manifest: SkillManifest {
            name: spec.name.clone(),
            description: spec.description.clone(),
            input_schema: spec.input_schema.clone(),
            output_schema,
            source: codes[verdict.winner].clone(),
            entry,
            examples,
        },
        agreement: agree::agreement(verdict.group.len(), codes.len()),
        candidates: codes.len(),
        repair_rounds: round,
        edge_cases,
        llm_calls: s.calls,
        usage: s.usage,
    })
}

fn json_type_is(v: &Value, ty: &str) -> bool {
    match ty {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}
