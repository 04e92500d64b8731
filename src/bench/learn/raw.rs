//! The raw model: the baseline `bench learn --raw` measures the pipeline
//! against. A plain, conventional prompt (the request, the signature the
//! examples imply, the examples as doctests), one greedy sample, no spec
//! step, no repair, no clean-up of the answer: what a user gets by pasting
//! the request into a chat with the same model.

use crate::learn::generate::{python_call, python_literal};
use crate::llm::{ChatRequest, Llm, Message, ModelRole, Usage, json as llm_json};

use super::set::Task;

/// The model's answer: its code (`None`: no code block) and what it cost.
pub struct RawAnswer {
    /// The function, as the model wrote it.
    pub code: Option<String>,
    /// Tokens.
    pub usage: Usage,
}

/// The conventional prompt for `task`, calling the function `entry`.
pub fn prompt(task: &Task, entry: &str) -> String {
    let params: Vec<String> = task
        .examples
        .first()
        .and_then(|e| e.input.as_object())
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let mut p = format!(
        "{}\n\nWrite a Python function `{entry}({})` that does this.\n",
        task.request.trim(),
        params.join(", ")
    );
    if !task.examples.is_empty() {
        p.push_str("\nExamples:\n");
        for e in &task.examples {
            p.push_str(&format!(
                ">>> {}\n{}\n",
                python_call(entry, &e.input),
                python_literal(&e.output)
            ));
        }
    }
    p.push_str("\nAnswer with the function in a ```python code block.");
    p
}

/// Ask the model once, greedily.
pub async fn ask(llm: &Llm, task: &Task, entry: &str) -> RawAnswer {
    let request = ChatRequest {
        role: ModelRole::Reasoning,
        messages: vec![
            Message::system("You are a helpful assistant that writes Python code."),
            Message::user(prompt(task, entry)),
        ],
        temperature: 0.0,
        max_tokens: 800,
        json_schema: None,
        expect_code: true,
        tools: Vec::new(),
    };
    match llm.chat(request).await {
        Ok(r) => RawAnswer {
            code: llm_json::python_code(&r.text),
            usage: r.usage,
        },
        Err(_) => RawAnswer {
            code: None,
            usage: Usage::default(),
        },
    }
}
