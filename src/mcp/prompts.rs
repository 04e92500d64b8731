//! The prompt that teaches an agent AutoLearn's workflow.

use rmcp::model::{GetPromptResult, JsonObject, Prompt, PromptArgument, PromptMessage, Role};
use serde_json::Value;

/// Name of the workflow prompt.
pub const LEARN: &str = "learn_skill";

/// The prompts AutoLearn offers.
pub fn list() -> Vec<Prompt> {
    vec![Prompt::new(
        LEARN,
        Some("Solve a task with run_python, then crystallize it into a reusable skill"),
        Some(vec![
            PromptArgument::new("task")
                .with_description("The task to solve")
                .with_required(true),
        ]),
    )]
}

/// Render the workflow prompt.
pub fn learn(args: Option<&JsonObject>) -> GetPromptResult {
    let task = args
        .and_then(|a| a.get("task"))
        .and_then(Value::as_str)
        .unwrap_or("the task at hand");
    let text = format!(
        "Task: {task}\n\n\
         1. Look for an existing skill first: call search_skills with a few words of the task. If one fits, call it and stop.\n\
         2. Otherwise work it out with run_python, one small step at a time. Pass the data through `inputs`, never pasted into the code; \
         end each cell with the expression whose value you need. Only the standard library is available, with no files and no network.\n\
         3. When the last step gives the right answer, call crystallize with a one-sentence `request` (and a short snake_case `name`). \
         AutoLearn turns your steps into one function, checks that it reproduces your result, and publishes it as a tool.\n\
         4. From then on, call that tool directly: it is deterministic and takes milliseconds."
    );
    GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
        .with_description("The AutoLearn workflow: reason with run_python, then crystallize")
}
