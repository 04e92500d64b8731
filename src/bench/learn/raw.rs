//! The raw model: the baseline `bench learn --raw` measures the pipeline
//! against. A plain, conventional prompt (the request, the signature the
//! examples imply, the examples as doctests), one greedy sample, no spec
//! step, no repair: what a user gets by pasting the request into a chat
//! with the same model. The answer is graded as the standard harnesses
//! grade a chat model (EvalPlus's "sanitized" pass@1): its imports and
//! definitions, without the demo calls, prints and asserts a chat answer
//! often ends with, which would otherwise run (and fail) on import.

use crate::learn::generate::{python_call, python_literal};
use crate::llm::{ChatRequest, Llm, Message, ModelRole, Usage, json as llm_json};

use super::set::Task;

/// The model's answer: its code (`None`: no code block) and what it cost.
pub struct RawAnswer {
    /// The code block, as the model wrote it.
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

/// `code` as a harness runs it: top-level imports, definitions (with their
/// decorators and bodies) and assignments that call none of the answer's
/// own functions (`PATTERN = re.compile(...)` stays, as EvalPlus keeps
/// what the entry point depends on; `result = f(4)` is a demo and goes);
/// every other top-level statement (a call, a print, an assert, an
/// `if __name__` block) is dropped with the lines that continue it.
pub fn sanitized(code: &str) -> String {
    let defined: Vec<String> = code
        .lines()
        .filter_map(|l| {
            let rest = l
                .strip_prefix("def ")
                .or_else(|| l.strip_prefix("async def "))
                .or_else(|| l.strip_prefix("class "))?;
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then(|| format!("{name}("))
        })
        .collect();
    let mut out = String::with_capacity(code.len());
    let mut keep = false;
    for line in code.lines() {
        let indented = line.starts_with([' ', '\t']) || line.trim().is_empty();
        if !indented && !line.starts_with(['#', ')', ']', '}']) {
            let first = line
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            keep = matches!(first, "import" | "from" | "def" | "class" | "async")
                || line.starts_with('@')
                || is_setup(line, &defined);
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `NAME = ...` or `NAME: T = ...` at the top level whose right-hand side
/// calls none of the answer's own functions (`defined`, as `name(`).
fn is_setup(line: &str, defined: &[String]) -> bool {
    let Some((target, value)) = line.split_once('=') else {
        return false;
    };
    let name = target.split(':').next().unwrap_or("").trim();
    !value.starts_with('=')
        && !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !defined.iter().any(|d| value.contains(d.as_str()))
}

#[cfg(test)]
mod tests {
    use super::sanitized;

    #[test]
    fn demo_calls_and_asserts_go_and_definitions_stay() {
        let answer = "import math\nimport re\nWORD = re.compile(\"[a-z]+\")\nLIMIT = 3\n\n@staticmethod\ndef f(x):\n    \"\"\"Doc.\"\"\"\n    return math.floor(x)\n\n\nprint(f(2.5))\nassert f(1) == 1\nresult = f(\n    4)\nif __name__ == \"__main__\":\n    print(f(3))\nclass A:\n    pass\n";
        let kept = sanitized(answer);
        assert_eq!(
            kept,
            "import math\nimport re\nWORD = re.compile(\"[a-z]+\")\nLIMIT = 3\n\n@staticmethod\ndef f(x):\n    \"\"\"Doc.\"\"\"\n    return math.floor(x)\n\n\nclass A:\n    pass\n"
        );
    }
}
