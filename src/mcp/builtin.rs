//! The built-in tools: their names, the descriptions an LLM reads to use
//! them well, and their input schemas.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::json;

pub const RUN_PYTHON: &str = "run_python";

/// The `runtime` argument of `create_skill` and `run_python`.
static RUNTIME_SCHEMA: std::sync::LazyLock<serde_json::Value> = std::sync::LazyLock::new(|| {
    serde_json::json!({
        "type": "string",
        "enum": ["core", "data"],
        "description": "The interpreter: \"core\" (default; the standard library) or \"data\" (numpy and pandas too, imported already)."
    })
});
pub const CREATE_SKILL: &str = "create_skill";
pub const CRYSTALLIZE: &str = "crystallize";
pub const SEARCH_SKILLS: &str = "search_skills";
pub const GET_SKILL: &str = "get_skill";
pub const RETIRE_SKILL: &str = "retire_skill";
pub const CALL_SKILL: &str = "call_skill";
pub const GENERATE_SKILL: &str = "generate_skill";
pub const REVIEW_SKILL: &str = "review_skill";
pub const LEARN: &str = "learn";

fn schema(v: serde_json::Value) -> Arc<JsonObject> {
    Arc::new(v.as_object().cloned().unwrap_or_default())
}

/// Every built-in tool, in the order `tools/list` shows them.
pub fn tools() -> Vec<Tool> {
    vec![
        Tool::new(
            RUN_PYTHON,
            "Run a Python cell in an isolated sandbox (CPython 3.14 on WebAssembly: no files, no network, \
             standard library only: json, re, math, statistics, datetime, decimal, fractions, collections, \
             itertools, functools, heapq, bisect, string, textwrap, unicodedata, csv, io, hashlib, base64, \
             random, dataclasses, typing, difflib, html, urllib.parse and a few more; with `runtime: \"data\"`, \
             numpy and pandas too, already imported). Each cell runs on its \
             own: pass the data it works on, including earlier results, through `inputs` (each entry is bound \
             as a variable) rather than pasting it into the code, so the steps can later become a reusable \
             skill. Returns the value of the last expression (or of a variable named `result`), what the code \
             printed, and the `trace` id and `step` number it was recorded as. Steps join the trace named by \
             `trace` if you pass one (use it to keep separate tasks apart), else your session's or your open \
             trace. When the work is done, call `crystallize` to turn the trace into a skill you can call \
             directly next time.",
            schema(json!({
                "type": "object",
                "properties": {
                    "code": {"type": "string", "description": "Python code; the last expression is the result."},
                    "inputs": {"type": "object", "description": "Variables to bind before running, by name.", "additionalProperties": true},
                    "trace": {"type": "string", "description": "Trace id to record this step in (from an earlier result, or a name of yours: 1-64 of A-Z a-z 0-9 _ -)."},
                    "answer": {"type": "boolean", "description": "This cell's result is the answer you give the person. A server that crystallizes on its own publishes only traces with such a step."},
                    "runtime": RUNTIME_SCHEMA.clone()
                },
                "required": ["code"]
            })),
        )
        .annotate(ToolAnnotations::new().read_only(true).destructive(false).idempotent(false).open_world(false)),
        Tool::new(
            CREATE_SKILL,
            "Create a skill from Python code you wrote: a module defining the function `entry`, whose keyword \
             arguments are the tool's input. AutoLearn checks it statically, runs the examples in the sandbox \
             and publishes it as a new tool only if every example returns its expected output; otherwise it \
             explains exactly what failed. The input schema is inferred from the examples when not given.",
            schema(json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "Tool name: a letter, then letters, digits, '_' or '-'."},
                    "description": {"type": "string", "description": "What the skill does, for the agents that will call it."},
                    "code": {"type": "string", "description": "Python source defining the entry function."},
                    "entry": {"type": "string", "description": "Name of the function to call."},
                    "input_schema": {"type": "object", "description": "JSON Schema of the input object (optional)."},
                    "examples": {
                        "type": "array",
                        "description": "Worked examples: each an input object and the exact output expected.",
                        "items": {"type": "object", "properties": {"input": {"type": "object"}, "output": {}}, "required": ["input", "output"]}
                    },
                    "memoize": {"type": "boolean", "description": "Cache results by input and answer repeated calls without running the skill (only honoured when it proves deterministic). Default false."},
                    "runtime": RUNTIME_SCHEMA.clone()
                },
                "required": ["name", "description", "code", "entry", "examples"]
            })),
        )
        .annotate(ToolAnnotations::new().read_only(false).destructive(false).idempotent(true).open_world(false)),
        Tool::new(
            CRYSTALLIZE,
            "Turn the work you just did with run_python into a reusable, verified skill. It reads the trace \
             named by `trace`, or the `steps` you pass, or else your session's or your open trace. Failed \
             attempts and cells the final result does not depend on are dropped; values you passed from one \
             step to the next are wired together; what no step computed becomes a parameter. The skill is \
             published (and appears in tools/list, and through search_skills and call_skill at once) only if \
             it reproduces the recorded result for the recorded inputs, deterministically. It refuses, with \
             the reason, when nothing usable remains, there is no result, or the result depends on chance or \
             time. If the same skill already exists, it returns that one instead of a duplicate.",
            schema(json!({
                "type": "object",
                "properties": {
                    "request": {"type": "string", "description": "The task in one sentence; becomes the skill's description."},
                    "name": {"type": "string", "description": "Tool name for the skill (derived from the request if absent)."},
                    "trace": {"type": "string", "description": "The trace to crystallize (run_python returns its id)."},
                    "final_result": {"description": "The result the skill must reproduce (default: the last successful step's value)."},
                    "draft": {"type": "boolean", "description": "Keep the skill as a draft (not a tool) until a person confirms the answer with review_skill. Use it when the person has not yet seen the result."},
                    "steps": {
                        "type": "array",
                        "description": "Explicit steps instead of a recorded trace.",
                        "items": {"type": "object", "properties": {"code": {"type": "string"}, "inputs": {"type": "object"}}, "required": ["code"]}
                    }
                },
                "required": ["request"]
            })),
        )
        .annotate(ToolAnnotations::new().read_only(false).destructive(false).idempotent(true).open_world(false)),
        Tool::new(
            GENERATE_SKILL,
            "Write a new skill from a plain-English request, when no published skill fits (check \
             search_skills first) and you would rather not work it out step by step. AutoLearn drafts a \
             spec, samples several candidate functions with its language model, runs them all in the \
             sandbox on your examples and on edge inputs, keeps the behaviour independent candidates agree \
             on, repairs failures, and publishes the skill only if its trust reaches 70 (otherwise it is \
             kept as a draft, and the answer says why and what would raise it). Give examples: they are the \
             hard gate. When candidates that pass your examples disagree, the answer's `questions` list the \
             disputed calls with the candidates' answers: ask the person, then call again with `draft` (the \
             draft skill's id) and `answers`; the candidates are weighed again with the answers as examples. \
             Slow (seconds to minutes); needs a configured model.",
            schema(json!({
                "type": "object",
                "properties": {
                    "request": {"type": "string", "description": "What the skill should do, precisely (edge cases included). Required unless `draft` is given."},
                    "examples": {
                        "type": "array",
                        "description": "Worked examples: each an input object and the exact output expected.",
                        "items": {"type": "object", "properties": {"input": {"type": "object"}, "output": {}}, "required": ["input", "output"]}
                    },
                    "name": {"type": "string", "description": "Tool name (proposed by the model if absent)."},
                    "draft": {"type": "string", "description": "A follow-up: the id of the draft whose questions `answers` settle."},
                    "answers": {
                        "type": "array",
                        "description": "The person's answers to `questions`: the question's input and the right output, or invalid: true when the skill should refuse that input.",
                        "items": {"type": "object", "properties": {"input": {"type": "object"}, "output": {}, "invalid": {"type": "boolean"}}, "required": ["input"]}
                    },
                    "runtime": {"type": "string", "enum": ["core", "data"], "description": "The interpreter the skill will run on: \"data\" gives it numpy and pandas. Chosen from the request when absent (\"data\" when it names pandas, numpy or a data frame)."}
                }
            })),
        )
        .annotate(ToolAnnotations::new().read_only(false).destructive(false).idempotent(false).open_world(true)),
        Tool::new(
            SEARCH_SKILLS,
            "Find a published skill for a task before solving it by hand. Ranks skills by how well their \
             name, description, parameter names and examples match the query (BM25; an exact name ranks \
             first) and returns each hit's name, description, input schema, trust (0-100) and status (a \
             `draft` is a suggestion AutoLearn kept from your past work, not yet callable). If a hit \
             fits, run it with `call_skill` (or by its own tool name): that is one sandboxed call of a \
             verified function, not a chain of reasoning steps.",
            schema(json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What the task is about, in a few words."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 50, "description": "Most hits to return (default 10)."}
                },
                "required": ["query"]
            })),
        )
        .annotate(ToolAnnotations::new().read_only(true).destructive(false).idempotent(true).open_world(false)),
        Tool::new(
            CALL_SKILL,
            "Run a published skill by name with `input` as its arguments. Use it for a skill found with \
             `search_skills` or just created: it works at once, even when your tool list has not been \
             refreshed. The result is the skill's return value (as `result` when it is not an object), or \
             an error with its kind and traceback.",
            schema(json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "The skill's name."},
                    "input": {"type": "object", "description": "The skill's arguments, matching its input schema.", "additionalProperties": true}
                },
                "required": ["name"]
            })),
        )
        .annotate(ToolAnnotations::new().read_only(true).destructive(false).idempotent(true).open_world(false)),
        Tool::new(
            GET_SKILL,
            "Show a skill: its source, schemas, examples, version, lineage, status and measured KPIs.",
            schema(json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})),
        )
        .annotate(ToolAnnotations::new().read_only(true).destructive(false).idempotent(true).open_world(false)),
        Tool::new(
            RETIRE_SKILL,
            "Retire a skill: it stops being offered as a tool. Its versions stay stored.",
            schema(json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})),
        )
        .annotate(ToolAnnotations::new().read_only(false).destructive(true).idempotent(true).open_world(false)),
        Tool::new(
            REVIEW_SKILL,
            "Pass on a person's word about a draft skill (one crystallized with `draft`, or one \
             generate_skill kept as a draft): `correct` publishes it (a tool at once), `wrong` retires it so \
             it never becomes a tool. Both are recorded in the learnings log. Call it only with what the \
             person said, never on your own guess.",
            schema(json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "The draft's name."},
                    "verdict": {"type": "string", "enum": ["correct", "wrong"], "description": "What the person said about the draft's answer."},
                    "id": {"type": "string", "description": "The draft's id as you saw it; a newer version is left alone."},
                    "note": {"type": "string", "description": "Why, in the person's words."}
                },
                "required": ["name", "verdict"]
            })),
        )
        .annotate(ToolAnnotations::new().read_only(false).destructive(true).idempotent(true).open_world(false)),
        Tool::new(
            LEARN,
            "Practise: AutoLearn takes the next project of its curriculum (or `project`) and works on it for \
             `hours`: it researches each goal, generates candidate skills, tests them on held-back cases, \
             documents them and publishes those whose trust reaches 70. Long: for a client that takes tasks \
             (io.modelcontextprotocol/tasks) it runs as a task whose status is each finished step, and can be \
             cancelled; otherwise it runs in the background and this call returns the project's numbers at \
             once. Needs a configured model.",
            schema(json!({
                "type": "object",
                "properties": {
                    "project": {"type": "string", "description": "A project id of the curriculum (the manager picks the next one if absent)."},
                    "hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 24, "description": "Hours of work (default 0.5)."}
                }
            })),
        )
        .annotate(ToolAnnotations::new().read_only(false).destructive(false).idempotent(false).open_world(true)),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_built_in_name_is_reserved_for_skills() {
        for tool in super::tools() {
            assert!(crate::skills::is_reserved(&tool.name), "{}", tool.name);
        }
    }
}
