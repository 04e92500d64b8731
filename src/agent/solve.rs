//! The reasoning path: the model works the task out with `run_python`, one
//! small step at a time, and the trace of what worked goes to
//! `crystallize`.
//!
//! Every step is recorded in one trace of its own. Data is bound, never
//! pasted: each cell gets the attachments and earlier results (`step1`,
//! `step2`, ...) that its code names, as `run_python` inputs, which is
//! exactly what lets `crystallize` wire the steps into one function whose
//! parameters are the data.
//!
//! A small model needs help to get that far: the agent parses the tables
//! it was given itself (step 0), cleans each candidate up before it runs
//! (`cleanup`), runs every sampled candidate and keeps the value most of
//! them computed (`choose`).

use serde_json::{Value, json};

use super::prompt::mentions;
use super::step::{RUN_PYTHON, execute, parse_tables};
use super::{AgentError, AgentStep, Run, choose, cleanup, instructions};
use crate::llm::tools::result_text;
use crate::llm::{ChatRequest, LlmError, Message, ModelRole, ToolCall, ToolSpec};

/// Most tokens a step's code may take: a few lines, with room to spare. A
/// small model that loops is cut off here, and told its code failed.
const STEP_TOKENS: u32 = 768;
/// Earlier turns shown to the model, besides the task: the last exchanges
/// only, so a long struggle does not outgrow a small model's context.
const HISTORY_MESSAGES: usize = 6;
const FINISH: &str = "finish";

/// A solved task.
pub(super) struct Solved {
    /// The last successful step's result.
    pub answer: Value,
    /// The trace its steps were recorded in.
    pub trace: String,
    /// Whether a successful step read the task's data (when it has any).
    pub used_data: bool,
}

/// The tools of a turn: `finish` only once a step has worked, so a model
/// (a small one, under a grammar) cannot end before it has an answer.
fn tools(can_finish: bool) -> Vec<ToolSpec> {
    let mut tools = vec![ToolSpec {
        name: RUN_PYTHON.into(),
        description:
            "Run one short Python step. The value of its last expression is the step's result."
                .into(),
        parameters: json!({
            "type": "object",
            "properties": {"code": {"type": "string", "description": "Python code; the last expression is the result."}},
            "required": ["code"],
        }),
    }];
    if can_finish {
        tools.push(ToolSpec {
            name: FINISH.into(),
            description: "The last step's result answers the task completely.".into(),
            parameters: json!({"type": "object", "properties": {}}),
        });
    }
    tools
}

/// A fresh trace id for this run.
fn new_trace() -> String {
    let bytes: [u8; 6] = rand::random();
    format!("agent-{}", hex::encode(bytes))
}

/// Work the task out with `run_python`.
pub(super) async fn solve(run: &mut Run<'_>) -> Result<Solved, AgentError> {
    let trace = new_trace();
    // Results of successful steps, by variable name.
    let mut results: Vec<(String, Value)> = Vec::new();
    let prepared = parse_tables(run, &trace, &mut results).await?;
    // What a function the model forgot to call takes: the parsed table,
    // else the only attachment.
    let main: Option<String> = match (prepared.first(), run.prompt.attachments.as_slice()) {
        (Some((name, _)), _) => Some(name.clone()),
        (None, [(name, _)]) => Some(name.clone()),
        _ => None,
    };
    let texts: Vec<(String, String)> = run
        .prompt
        .attachments
        .iter()
        .filter_map(|(name, v)| Some((name.clone(), v.as_str()?.to_owned())))
        .collect();
    let mut messages = vec![
        Message::system(instructions::system(
            run,
            &prepared.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>(),
        )),
        Message::user(instructions::task(
            run,
            prepared.first().map(|(name, _)| name.as_str()),
        )),
    ];
    let mut last_code: Option<String> = None;
    let mut used_data = false;
    let mut last_error: Option<String> = None;
    let mut failed: Vec<String> = Vec::new();
    let mut steps = 0;
    // Turns that ran nothing (a finish too early, an empty call) count too,
    // so a model that never acts still ends.
    for _turn in 0..run.options.max_steps * 2 {
        let request = ChatRequest {
            role: ModelRole::Reasoning,
            messages: recent(&messages),
            temperature: 0.0,
            max_tokens: STEP_TOKENS,
            json_schema: None,
            expect_code: false,
            tools: tools(results.len() > prepared.len()),
        };
        let all = match run.samples() {
            1 => vec![run.ask(request).await],
            k => run.ask_many(request, TEMPERATURES[..k].to_vec()).await,
        };
        // An answer that is no usable call (a small model naming a tool it
        // was not offered) costs a turn, not the run; any other failure of
        // the model ends it.
        let mut answers = Vec::new();
        let mut unusable = None;
        for answer in all {
            match answer {
                Ok(a) => answers.push(a),
                Err(LlmError::Malformed(why)) => {
                    unusable.get_or_insert(why);
                }
                Err(e) if answers.is_empty() && unusable.is_none() => return Err(e.into()),
                Err(_) => {}
            }
        }
        if answers.is_empty() {
            let why = unusable.unwrap_or_else(|| "no answer".into());
            messages.push(Message::user(format!(
                "That answer could not be used ({why}). Call run_python with the next step's code."
            )));
            continue;
        }
        let calls: Vec<ToolCall> = answers
            .into_iter()
            .map(|a| {
                a.tool_calls.into_iter().next().unwrap_or(ToolCall {
                    id: "call_0".into(),
                    name: FINISH.into(),
                    arguments: json!({}),
                })
            })
            .collect();
        let bound: Vec<String> = run
            .prompt
            .attachments
            .iter()
            .chain(results.iter())
            .map(|(name, _)| name.clone())
            .collect();
        let call = calls[0].clone();
        let scope = cleanup::Scope {
            bound: &bound,
            main: main.as_deref(),
            texts: &texts,
        };
        let code = cleanup::cleaned(call.arguments["code"].as_str().unwrap_or(""), scope);
        let done = call.name == FINISH
            // A model that repeats its last good step has nothing to add.
            || (call.name == RUN_PYTHON && last_code.as_deref() == Some(code.trim()));
        // The agent's own parsing is no answer: only a step of the model's.
        if done
            && results.len() > prepared.len()
            && let Some((_, answer)) = results.last()
        {
            return Ok(Solved {
                answer: answer.clone(),
                trace,
                used_data: used_data || run.prompt.attachments.is_empty(),
            });
        }
        // A code that already failed fails again: only new ones run.
        let candidates: Vec<String> = distinct_codes(&calls, scope)
            .into_iter()
            .filter(|c| !failed.contains(c))
            .collect();
        if candidates.is_empty() {
            messages.push(Message::assistant_calls(vec![call.clone()]));
            let reply = if call.name != RUN_PYTHON {
                "No step has succeeded yet: run code with run_python first.".to_owned()
            } else if code.trim().is_empty() {
                "The code is empty.".to_owned()
            } else {
                format!(
                    "This code failed before ({}). Write a different step.",
                    last_error.as_deref().unwrap_or("it did not run")
                )
            };
            messages.push(Message::tool_result(call.id, reply));
            continue;
        }
        if steps == run.options.max_steps {
            break;
        }
        steps += 1;
        // Every candidate runs (milliseconds, next to sampling them); the
        // evidence picks one. The model hears of the greedy candidate's
        // failure when none ran.
        let mut outcomes = Vec::new();
        for (i, code) in candidates.iter().enumerate() {
            outcomes.push(execute(run, &trace, steps, i + 1, code, &results).await?);
        }
        for (code, outcome) in candidates.iter().zip(&outcomes) {
            if outcome.is_err() {
                failed.push(code.clone());
            }
        }
        let values: Vec<Option<Value>> = outcomes
            .iter()
            .map(|o| o.as_ref().ok().map(|(v, _)| v.clone()))
            .collect();
        let chosen = choose::choose(&values).and_then(|i| Some((i, outcomes[i].clone().ok()?)));
        let (code, reply) = match chosen {
            Some((i, (value, stdout))) => {
                let code = candidates[i].clone();
                used_data |= run
                    .prompt
                    .attachments
                    .iter()
                    .any(|(name, _)| mentions(&code, name))
                    || prepared.iter().any(|(name, _)| mentions(&code, name));
                last_code = Some(code.trim().to_owned());
                last_error = None;
                let name = format!("step{steps}");
                let mut text = format!("{name} = {}", result_text(&value));
                if !stdout.is_empty() {
                    text.push_str(&format!(
                        "\nprinted: {}",
                        crate::text::truncate(&stdout, 1024)
                    ));
                }
                results.push((name, value));
                (code, text)
            }
            None => {
                let e = outcomes
                    .into_iter()
                    .next()
                    .and_then(Result::err)
                    .unwrap_or_default();
                last_error = Some(e.clone());
                (candidates[0].clone(), e)
            }
        };
        let id = format!("call_{steps}");
        messages.push(Message::assistant_calls(vec![ToolCall {
            id: id.clone(),
            name: RUN_PYTHON.into(),
            arguments: json!({"code": code}),
        }]));
        messages.push(Message::tool_result(id, reply));
    }
    Err(AgentError::GaveUp {
        steps,
        last_error,
        llm_calls: run.llm_calls,
        llm_tokens: run.usage.prompt_tokens + run.usage.completion_tokens,
    })
}

/// Sampling temperatures of a step's candidates: greedy first.
const TEMPERATURES: [f32; 8] = [0.0, 0.6, 0.9, 1.1, 0.4, 0.8, 1.0, 0.7];

/// The different non-empty codes among `calls` to run_python, in order,
/// cleaned up (see [`cleanup::cleaned`]).
fn distinct_codes(calls: &[ToolCall], scope: cleanup::Scope<'_>) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for c in calls.iter().filter(|c| c.name == RUN_PYTHON) {
        let code = c.arguments["code"].as_str().unwrap_or("").trim();
        if code.is_empty() {
            continue;
        }
        let code = cleanup::cleaned(code, scope);
        if !codes.iter().any(|k| k.trim() == code.trim()) {
            codes.push(code);
        }
    }
    codes
}

/// The system message and the task, then the last [`HISTORY_MESSAGES`]
/// (whole exchanges: a call and its result).
fn recent(messages: &[Message]) -> Vec<Message> {
    let (head, rest) = messages.split_at(2.min(messages.len()));
    let keep = rest.len().min(HISTORY_MESSAGES);
    let mut start = rest.len() - keep;
    // Never begin with a tool result whose call was cut.
    if rest.get(start).is_some_and(|m| m.role == "tool") {
        start += 1;
    }
    head.iter().chain(&rest[start..]).cloned().collect()
}

/// Send the trace to `crystallize`; what it said. An answer that never
/// read the task's data is not a skill worth keeping (a model that wrote
/// its answer as a constant): it is not sent.
pub(super) async fn crystallize(run: &mut Run<'_>, solved: &Solved) -> Result<Value, AgentError> {
    if !solved.used_data {
        let reason = "no step read the task's data, so the answer would not generalize";
        run.emit(AgentStep::Crystallize {
            published: false,
            draft: false,
            skill: None,
            id: None,
            reason: Some(reason.into()),
        });
        return Ok(json!({"published": false, "error": {"kind": "not_sent", "message": reason}}));
    }
    let trace = solved.trace.as_str();
    let request = crate::text::truncate(&run.prompt.task, 2048);
    let said = run
        .call(
            "crystallize",
            json!({"request": request, "trace": trace, "draft": run.options.draft_until_confirmed}),
        )
        .await?;
    let s = &said.structured;
    run.emit(AgentStep::Crystallize {
        published: s["published"] == true,
        draft: s["draft"] == true,
        skill: s["skill"]["name"].as_str().map(str::to_owned),
        id: s["skill"]["id"].as_str().map(str::to_owned),
        reason: s["error"]["message"].as_str().map(str::to_owned),
    });
    Ok(said.structured)
}
