//! One step in the sandbox: a candidate's code run through `run_python`
//! with the names it mentions bound, in the run's trace, and the agent's
//! own first step that parses the tables it was given.

use serde_json::{Map, Value, json};

use super::prompt::mentions;
use super::table::Table;
use super::{AgentError, AgentStep, Run, choose};

pub(super) const RUN_PYTHON: &str = "run_python";

/// The tables among the text attachments, parsed by a step of the trace
/// (see the `table` module): `rows` for `data`, `rows2` for `data2`, ..., added to
/// `results`. Each name with its description for the model.
pub(super) async fn parse_tables(
    run: &mut Run<'_>,
    trace: &str,
    results: &mut Vec<(String, Value)>,
) -> Result<Vec<(String, String)>, AgentError> {
    let tables: Vec<(String, Table)> = run
        .prompt
        .attachments
        .iter()
        .filter_map(|(name, value)| Some((name.clone(), Table::detect(value.as_str()?)?)))
        .collect();
    let mut prepared = Vec::new();
    for (i, (var, table)) in tables.into_iter().enumerate() {
        let code = table.parse_code(&var);
        // Step 0: the agent's own preparation, before the model's steps.
        let Ok((value, _)) = execute(run, trace, 0, i + 1, &code, results).await? else {
            continue;
        };
        let name = var.replacen("data", "rows", 1);
        let shown = match &value {
            Value::Array(items) => format!(
                "- `{name}`: {}; {} items, the first: {}",
                table.describe(&var),
                items.len(),
                crate::text::truncate(
                    &items.first().map(Value::to_string).unwrap_or_default(),
                    300
                )
            ),
            _ => continue,
        };
        results.push((name.clone(), value));
        prepared.push((name, shown));
    }
    Ok(prepared)
}

/// Run one candidate of step `n` with the names it mentions bound: its
/// value and what it printed, or the text that tells the model why not.
pub(super) async fn execute(
    run: &mut Run<'_>,
    trace: &str,
    n: usize,
    attempt: usize,
    code: &str,
    results: &[(String, Value)],
) -> Result<Result<(Value, String), String>, AgentError> {
    run.emit(AgentStep::Code {
        step: n,
        attempt,
        code: code.to_owned(),
    });
    let mut inputs = Map::new();
    for (name, value) in run.prompt.attachments.iter().chain(results.iter()) {
        if mentions(code, name) {
            inputs.insert(name.clone(), value.clone());
        }
    }
    let mut arguments = json!({"code": code, "inputs": inputs, "trace": trace});
    if !run.options.runtime.is_core() {
        arguments["runtime"] = json!(run.options.runtime);
    }
    let ran = run.call(RUN_PYTHON, arguments).await?;
    let stdout = ran.structured["stdout"].as_str().unwrap_or("").to_owned();
    if ran.is_error {
        let error = ran.structured["error"].clone();
        run.emit(AgentStep::Output {
            step: n,
            attempt,
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
    // No usable value: a tool call written as data, or none at all (it
    // printed its answer, or defined a function and never called it). Say
    // so, or the model takes it for the answer.
    let unusable = if choose::is_tool_call(&value) {
        Some(format!(
            "Step {n}'s value is a tool call written as data. A step's value is the data it \
             computed; to end, call the finish tool itself."
        ))
    } else if value.is_null() && stdout.is_empty() {
        Some(format!(
            "Step {n} has no value (None). End the step with an expression whose value is the result; a function you define must also be called."
        ))
    } else if value.is_null() {
        Some(format!(
            "Step {n} printed:\n{}\nbut its value is None. End the step with the expression whose value is the result, not with print().",
            crate::text::truncate(&stdout, 1024)
        ))
    } else {
        None
    };
    if let Some(message) = unusable {
        run.emit(AgentStep::Output {
            step: n,
            attempt,
            ok: false,
            output: json!({"message": message}),
            stdout,
        });
        return Ok(Err(message));
    }
    run.emit(AgentStep::Output {
        step: n,
        attempt,
        ok: true,
        output: value.clone(),
        stdout: stdout.clone(),
    });
    Ok(Ok((value, stdout)))
}
