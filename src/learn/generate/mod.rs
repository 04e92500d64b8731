//! Skills from a plain-English request: spec, candidates, tests, agreement,
//! repair. Nothing is stored here; the caller verifies, scores and stores.
//!
//! 1. **spec**: the model drafts a name, description, parameters (each
//!    described), the result's type and a few extra example inputs;
//! 2. **candidates**: k samples at spread temperatures, each given the
//!    exact signature, docstring and the user's examples;
//! 3. **inputs**: the user's examples (a hard gate), edge inputs from the
//!    schema ([`super::edges`]) and the model's own inputs;
//! 4. **agreement**: every candidate on every input in the sandbox; among
//!    those that pass the examples, the one the most evidence agrees with
//!    wins ([`super::agree`]);
//! 5. **questions**: where passing candidates disagree and someone can be
//!    asked ([`GenerateOptions::ask`]), the most informative disputed input
//!    is put to them; the answer joins the examples and step 4 runs again;
//! 6. **repair**: failures go back to the model, up to `repair_rounds`.

mod asking;
mod candidates;
mod checks;
mod inputs;
mod manifest;
mod programs;
mod python;
mod spec;
mod types;

use super::agree::{self, Outcome, Verdict};
use super::confirm;
use super::promises::{Broken, Promises};
use crate::llm::{ChatRequest, Llm, LlmError, Usage};
use crate::runtime::Runtime;
use crate::sandbox::{ResourceLimits, Sandbox, SkillCode};
use crate::skills::{Example, SkillManifest};
use asking::{expect_of, phrased};
use candidates::{behaviour, call, candidate_prompt, failures};
use inputs::test_inputs;
use manifest::{output_schema, pins};
use programs::{add_candidates, add_program};
pub use python::{call as python_call, py as python_literal};
use spec::draft_spec;
pub use types::{
    Answer, Asked, Asker, BuildingBlock, EdgeCase, GenerateError, GenerateOptions, GenerateRequest,
    Generated, Observer, Progress, Question, Settled,
};

const SYSTEM: &str = "You write small, correct Python 3 functions. Use only the standard library \
(json, re, math, statistics, datetime, decimal, fractions, collections, itertools, functools, heapq, \
bisect, string, textwrap, unicodedata, csv, io, hashlib, base64, random, dataclasses, typing, difflib, \
html, ipaddress, urllib.parse). No files, network, input() or print(). Return JSON-serializable values \
(dict, list, str, int, float, bool, None). Handle empty and unusual inputs sensibly.";

/// The same, for the data runtime: numpy and pandas are there.
const SYSTEM_DATA: &str = "You write small, correct Python 3 functions. You may use numpy (import numpy as np) \
and pandas (import pandas as pd), and the standard library (json, re, math, statistics, datetime, \
decimal, collections, itertools, functools). Tabular input comes as a list of records: build a \
DataFrame with pd.DataFrame(rows). No files, network, input() or print(). Return plain values, \
a numpy value, a pandas Series or a DataFrame (records). Handle empty and unusual inputs sensibly.";

/// Which runtime a request needs when the caller did not say: `data` when
/// it names numpy, pandas or a data frame, else `core`.
pub fn runtime_for(request: &str) -> Runtime {
    let text = request.to_lowercase();
    let data = ["pandas", "numpy", "dataframe", "data frame", "np.", "pd."]
        .iter()
        .any(|w| text.contains(w));
    if data { Runtime::Data } else { Runtime::Core }
}

struct Session {
    llm: Llm,
    /// The system prompt: what the runtime offers.
    system: &'static str,
    calls: u32,
    usage: Usage,
    observer: Option<Observer>,
}

impl Session {
    fn tell(&self, p: Progress) {
        if let Some(o) = &self.observer {
            o(p);
        }
    }

    async fn ask(&mut self, req: ChatRequest) -> Result<String, LlmError> {
        let r = self.llm.chat(req).await?;
        self.calls += 1;
        self.usage += r.usage;
        Ok(r.text)
    }
}

/// What to ask a person about `verdict`, the most informative first:
/// the inputs passing candidates dispute; when there are none and the
/// candidates are too few to publish, the winner's answers to confirm.
fn worth_asking(
    runs: &[Vec<Outcome>],
    verdict: &Verdict,
    gate: &[(usize, agree::Expect)],
) -> Vec<agree::Question> {
    let disputed = agree::questions(runs, verdict);
    if disputed.is_empty() {
        confirm::confirmations(runs, verdict, gate)
    } else {
        disputed
    }
}

/// Run the pipeline. Sandbox calls use `limits` (a normal call's).
pub async fn generate(
    llm: Llm,
    sandbox: &Sandbox,
    req: &GenerateRequest,
    opts: GenerateOptions,
    limits: &ResourceLimits,
) -> Result<Generated, GenerateError> {
    let runtime = req.runtime.unwrap_or_else(|| runtime_for(&req.request));
    let mut s = Session {
        llm,
        system: match runtime {
            Runtime::Core => SYSTEM,
            Runtime::Data => SYSTEM_DATA,
        },
        calls: 0,
        usage: Usage::default(),
        observer: opts.observer.clone(),
    };
    let spec = draft_spec(&mut s, req).await?;
    let entry = spec.name.replace('-', "_");
    let inputs = test_inputs(req, &spec);
    s.tell(Progress::Spec {
        name: spec.name.clone(),
        entry: entry.clone(),
        inputs: inputs.len(),
    });

    // The request as the candidates see it: the person's answers join the
    // examples, and every later prompt shows them.
    let mut req = req.clone();
    let mut gate = agree::examples_gate(
        &req.examples
            .iter()
            .map(|e| e.output.clone())
            .collect::<Vec<_>>(),
    );
    let examples = gate.len();
    // Earlier answers join the gate after the examples, as answers given
    // now do: the panel that backs a winner stays every program that
    // passes the examples.
    for settled in &req.answers {
        let Some(index) = inputs.iter().position(|i| *i == settled.input) else {
            continue;
        };
        gate.push((index, expect_of(&settled.answer)));
    }
    for settled in std::mem::take(&mut req.answers) {
        if let Answer::Value(output) = settled.answer {
            req.examples.push(Example {
                input: settled.input,
                output,
            });
        }
    }
    // What the request promises of every result, unless the examples
    // show the words were misread.
    let promises = Promises::read(&req.request).kept_by_examples(&req.examples);
    let mut asked: Vec<Asked> = Vec::new();
    let mut unanswered: Vec<usize> = Vec::new();
    let budget = opts.max_questions.saturating_sub(gate.len() - examples);

    let k = opts.candidates.max(1);
    let mut codes: Vec<String> = Vec::new();
    // Samples of each program: a repeat of a passing program is neither
    // support nor dissent.
    let mut copies: Vec<usize> = Vec::new();
    for code in std::mem::take(&mut req.prior) {
        add_program(&s, &mut codes, &mut copies, code, 0);
    }
    if codes.is_empty() {
        let first = (0..k)
            .map(|_| candidate_prompt(&req, &spec, &entry, None))
            .collect();
        add_candidates(&mut s, &mut codes, &mut copies, first, 0).await;
    }
    let mut runs: Vec<Vec<Outcome>> = Vec::new();
    // Per candidate, the first promise it breaks.
    let mut broken: Vec<Option<Broken>> = Vec::new();
    let mut round = 0;
    let verdict: Verdict = loop {
        for code in &codes[runs.len()..] {
            let program = SkillCode {
                name: &spec.name,
                source: code,
                entry: &entry,
                deps: &req.deps,
                runtime,
            };
            let run = behaviour(sandbox, program, &inputs, limits).await;
            s.tell(Progress::Tested {
                index: runs.len(),
                passed: gate
                    .iter()
                    .filter(|(i, want)| want.met_by(&run[*i]))
                    .count(),
                examples: gate.len(),
            });
            broken.push(promises.broken_by(&run, &inputs));
            runs.push(run);
        }
        let ruled_out: Vec<usize> = (0..runs.len()).filter(|&c| broken[c].is_some()).collect();
        // Why a candidate fails, for the repair prompt and the error.
        let why = |c: usize| {
            let mut out = failures(&runs[c], &gate, &inputs, &entry);
            out.extend(
                broken[c]
                    .as_ref()
                    .map(|b| b.explain(&call(&entry, &inputs[b.input]))),
            );
            out
        };
        // Every attempt asked for counts, but a repeat of a program that
        // passes the examples: it adds no independent evidence either way.
        let repeats: usize = agree::passing(&runs, &gate[..examples])
            .iter()
            .filter(|c| !ruled_out.contains(c))
            .map(|&c| copies[c] - 1)
            .sum();
        let attempts = k.saturating_sub(repeats);
        if let Some(v) = agree::decide(&runs, &gate, examples, attempts, &ruled_out) {
            // Every behaviour is copied for the observer: only when one
            // is watching.
            if s.observer.is_some() {
                s.tell(Progress::Decided {
                    verdict: v.clone(),
                    agreement: v.agreement(),
                    inputs: inputs.clone(),
                    runs: runs.clone(),
                });
            }
            let Some(ask) = opts.ask.as_ref().filter(|_| asked.len() < budget) else {
                break v;
            };
            let Some(q) = worth_asking(&runs, &v, &gate)
                .into_iter()
                .find(|q| !unanswered.contains(&q.input))
            else {
                break v;
            };
            let index = q.input;
            let question = phrased(&entry, &inputs, q);
            let answer = ask(question.clone()).await;
            s.tell(Progress::Asked {
                question: question.clone(),
                answer: answer.clone(),
            });
            match &answer {
                Some(a) => {
                    gate.push((index, expect_of(a)));
                    if let Answer::Value(out) = a {
                        req.examples.push(Example {
                            input: question.input.clone(),
                            output: out.clone(),
                        });
                    }
                }
                None => unanswered.push(index),
            }
            asked.push(Asked { question, answer });
            // Decide again on the same candidates with the answer in the
            // gate; if none passes now, repair.
            continue;
        }
        let reasons: Vec<String> = runs
            .iter()
            .enumerate()
            .map(|(c, _)| format!("candidate {}: {}", c + 1, why(c).join("; ")))
            .collect();
        if round >= opts.repair_rounds {
            return Err(GenerateError::NoCandidate {
                candidates: codes.len(),
                reasons,
                llm_calls: s.calls,
                usage: s.usage,
                asked,
            });
        }
        round += 1;
        s.tell(Progress::Repair { round });
        // Repair the candidates that came closest.
        let mut ranked: Vec<usize> = (0..codes.len()).collect();
        ranked.sort_by_key(|&c| why(c).len());
        let prompts: Vec<String> = if ranked.is_empty() {
            (0..k)
                .map(|_| candidate_prompt(&req, &spec, &entry, None))
                .collect()
        } else {
            ranked
                .iter()
                .take(2)
                .map(|&c| {
                    let feedback = format!("```python\n{}```\n{}", codes[c], why(c).join("\n"));
                    candidate_prompt(&req, &spec, &entry, Some(&feedback))
                })
                .collect()
        };
        add_candidates(&mut s, &mut codes, &mut copies, prompts, round).await;
    };

    let open_questions = worth_asking(&runs, &verdict, &gate)
        .into_iter()
        .filter(|q| !unanswered.contains(&q.input))
        .take(budget.saturating_sub(asked.len()))
        .map(|q| phrased(&entry, &inputs, q))
        .collect();
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
        if let Outcome::Value(v) = &e.agreed
            && !examples.iter().any(|x| x.input == e.input)
        {
            examples.push(Example {
                input: e.input.clone(),
                output: v.clone(),
            });
        }
    }
    let output_schema = output_schema(spec.output_type.as_deref(), winner);
    Ok(Generated {
        manifest: SkillManifest {
            runtime,
            memoize: false,
            requires: pins(&req.building_blocks, &codes[verdict.winner]),
            name: spec.name.clone(),
            description: spec.description.clone(),
            input_schema: spec.input_schema.clone(),
            output_schema,
            source: codes[verdict.winner].clone(),
            entry,
            examples,
        },
        agreement: verdict.agreement(),
        candidates: codes.len(),
        repair_rounds: round,
        edge_cases,
        ruled_out: verdict.ruled_out.len(),
        asked,
        open_questions,
        programs: codes,
        llm_calls: s.calls,
        usage: s.usage,
    })
}
