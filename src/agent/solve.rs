//! The reasoning path: the model works the task out with `run_python`, one
//! small step at a time, and the trace of what worked goes to
//! `crystallize`.
//!
//! Every step is recorded in one trace of its own. Data is bound, never
//! pasted: each cell gets the attachments and earlier results (`step1`,
//! `step2`, ...) that its code names, as `run_python` inputs, which is
//! exactly what lets `crystallize` wire the steps into one function whose
//! parameters are the data.

use serde_json::{Map, Value, json};

use super::prompt::mentions;
use super::{AgentError, AgentStep, Run};
use crate::llm::tools::result_text;
use crate::llm::{ChatRequest, Message, ModelRole, ToolCall, ToolSpec};

const RUN_PYTHON: &str = "run_python";
const FINISH: &str = "finish";

/// A solved task.
pub(super) struct Solved {
    /// The last successful step's result.
    pub answer: Value,
    /// The trace its steps were recorded in.
    pub trace: String,
}

fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: RUN_PYTHON.into(),
            description:
                "Run one short Python step. The value of its last expression is the step's result."
                    .into(),
            parameters: json!({
                "type": "object",
                "properties": {"code": {"type": "string", "description": "Python code; the last expression is the result."}},
                "required": ["code"],
            }),
        },
        ToolSpec {
            name: FINISH.into(),
            description: "The last step's result answers the task completely.".into(),
            parameters: json!({"type": "object", "properties": {}}),
        },
    ]
}

fn system_prompt(run: &Run<'_>) -> String {
    let mut text = String::from(
        "You answer data tasks by running Python, one short step at a time (a few lines each), with run_python. \
         The value of a step's last expression is its result. Import only what the step uses, \
         from Python's standard library. Results must be plain data: dicts, lists, strings, numbers.",
    );
    if !run.prompt.attachments.is_empty() {
        text.push_str(&format!(
            "\nThese variables are already defined (use them; do not paste data into code):\n{}",
            run.prompt.describe_attachments()
        ));
    }
    text.push_str(
        "\nEach successful step's result is defined as step1, step2, ... in later steps. \
         When a step's result answers the task completely, call finish.",
    );
    text
}

/// A fresh trace id for this run.
fn new_trace() -> String {
    let bytes: [u8; 6] = rand::random();
    format!("agent-{}", hex::encode(bytes))
}

/// Work the task out with `run_python`.
pub(super) async fn solve(run: &mut Run<'_>) -> Result<Solved, AgentError> {
    let trace = new_trace();
    let tools = tools();
    let mut messages = vec![
        Message::system(system_prompt(run)),
        Message::user(run.prompt.task.clone()),
    ];
    // Results of successful steps, by variable name.
    let mut results: Vec<(String, Value)> = Vec::new();
    let mut last_code: Option<String> = None;
    let mut last_error: Option<String> = None;
    let mut steps = 0;
    // Turns that ran nothing (a finish too early, an empty call) count too,
    // so a model that never acts still ends.
    for _turn in 0..run.options.max_steps * 2 {
        let answer = run
            .ask(ChatRequest {
                role: ModelRole::Reasoning,
                messages: messages.clone(),
                temperature: 0.0,
                max_tokens: 2048,
                json_schema: None,
                expect_code: false,
                tools: tools.clone(),
            })
            .await?;
        let call = answer.tool_calls.into_iter().next().unwrap_or(ToolCall {
            id: "call_0".into(),
            name: FINISH.into(),
            arguments: json!({}),
        });
        let code = call.arguments["code"].as_str().unwrap_or("").to_owned();
        let done = call.name == FINISH
            // A model that repeats its last good step has nothing to add.
            || (call.name == RUN_PYTHON && last_code.as_deref() == Some(code.trim()));
        if done && let Some((_, answer)) = results.last() {
            return Ok(Solved {
                answer: answer.clone(),
                trace,
            });
        }
        messages.push(Message::assistant_calls(vec![call.clone()]));
        let reply = if call.name != RUN_PYTHON {
            "No step has succeeded yet: run code with run_python first.".to_owned()
        } else if code.trim().is_empty() {
            "The code is empty.".to_owned()
        } else if steps == run.options.max_steps {
            break;
        } else {
            steps += 1;
            let reply = step(run, &trace, steps, &code, &mut results).await?;
            match &reply {
                Ok(_) => {
                    last_code = Some(code.trim().to_owned());
                    last_error = None;
                }
                Err(e) => last_error = Some(e.clone()),
            }
            reply.unwrap_or_else(|e| e)
        };
        messages.push(Message::tool_result(call.id, reply));
    }
    Err(AgentError::GaveUp { steps, last_error })
}

/// Run one step; the text the model reads next, `Ok` when it succeeded.
async fn step(
    run: &mut Run<'_>,
    trace: &str,
    n: usize,
    code: &str,
    results: &mut Vec<(String, Value)>,
) -> Result<Result<String, String>, AgentError> {
    run.emit(AgentStep::Code {
        step: n,
        code: code.to_owned(),
    });
    let mut inputs = Map::new();
    for (name, value) in run.prompt.attachments.iter().chain(results.iter()) {
        if mentions(code, name) {
            inputs.insert(name.clone(), value.clone());
        }
    }
    let ran = run
        .call(
            RUN_PYTHON,
            json!({"code": code, "inputs": inputs, "trace": trace}),
        )
        .await?;
    let stdout = ran.structured["stdout"].as_str().unwrap_or("").to_owned();
    if ran.is_error {
        let error = ran.structured["error"].clone();
        run.emit(AgentStep::Output {
            step: n,
            ok: false,
            output: error.clone(),
            stdout,
        });
        let kind = error["error_type"]
            .as_str()
            .or(error["kind"].as_str())
            .unwrap_or("error");
        let message = error["message"].as_str().unwrap_or("");
        let traceback = error["traceback"].as_str().unwrap_or("");
        let tail: Vec<&str> = traceback.lines().rev().take(4).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Ok(Err(format!(
            "Step {n} failed: {kind}: {message}\n{}\nFix it and run the step again.",
            tail.join("\n")
        )));
    }
    let value = ran.structured["value"].clone();
    if value.is_null() && !stdout.is_empty() {
        // It printed its answer instead of ending with it: say so, or the
        // model takes `None` for the result.
        run.emit(AgentStep::Output {
            step: n,
            ok: false,
            output: json!({"message": "the step printed its result but its value is None"}),
            stdout: stdout.clone(),
        });
        return Ok(Err(format!(
            "Step {n} printed:\n{}\nbut its value is None. End the step with the expression whose value is the result, not with print().",
            crate::text::truncate(&stdout, 1024)
        )));
    }
    run.emit(AgentStep::Output {
        step: n,
        ok: true,
        output: value.clone(),
        stdout: stdout.clone(),
    });
    let name = format!("step{n}");
    let mut text = format!("{name} = {}", result_text(&value));
    if !stdout.is_empty() {
        text.push_str(&format!(
            "\nprinted: {}",
            crate::text::truncate(&stdout, 1024)
        ));
    }
    results.push((name, value));
    Ok(Ok(text))
}

/// Send the trace to `crystallize`; what it said.
pub(super) async fn crystallize(run: &mut Run<'_>, trace: &str) -> Result<Value, AgentError> {
    let request = crate::text::truncate(&run.prompt.task, 2048);
    let said = run
        .call("crystallize", json!({"request": request, "trace": trace}))
        .await?;
    let s = &said.structured;
    run.emit(AgentStep::Crystallize {
        published: s["published"] == true,
        skill: s["skill"]["name"].as_str().map(str::to_owned),
        reason: s["error"]["message"].as_str().map(str::to_owned),
    });
    Ok(said.structured)
}
