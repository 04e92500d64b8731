//! The built-in tools' handlers: argument parsing and result shaping
//! around [`App`] operations. Every result puts the whole answer in
//! `structuredContent` (some clients pass only that to the model).

use rmcp::ErrorData as McpError;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject};
use serde_json::{Value, json};

use super::McpServer;
use crate::app::{Cell, Crystallize, Crystallized, PythonStep, RunError};
use crate::fault::{Classify, Fault};
use crate::runtime::Runtime;
use crate::sandbox::{Determinism, ResourceLimits};
use crate::skills::{Example, Provenance, SkillManifest, Status, infer_input_schema};
use crate::store::Inserted;
use crate::trace::{TraceId, TraceRef};

impl McpServer {
    /// Which trace a step joins or a crystallize reads: an explicit
    /// `trace` argument, else this legacy session's trace, else the
    /// tenant's open trace.
    fn trace_ref(args: &JsonObject, session: Option<String>) -> Result<TraceRef, McpError> {
        match args.get("trace") {
            Some(Value::String(id)) => id
                .parse::<TraceId>()
                .map(TraceRef::Id)
                .map_err(|e| McpError::invalid_params(e, None)),
            None | Some(Value::Null) => Ok(session.map_or(TraceRef::Open, TraceRef::Session)),
            Some(_) => Err(McpError::invalid_params("`trace` must be a string", None)),
        }
    }

    pub(super) async fn run_python(
        &self,
        tenant: &str,
        args: &JsonObject,
        session: Option<String>,
    ) -> Result<CallToolResult, McpError> {
        let code = str_arg(args, "code")?;
        let inputs = args.get("inputs").cloned().unwrap_or_else(|| json!({}));
        if !inputs.is_object() {
            return Err(McpError::invalid_params("`inputs` must be an object", None));
        }
        let trace = Self::trace_ref(args, session)?;
        let answer = match args.get("answer") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(McpError::invalid_params("`answer` must be a boolean", None)),
        };
        let ran = self
            .app
            .traces()
            .run_python_as(
                tenant,
                Cell {
                    code,
                    inputs: &inputs,
                    runtime: runtime_arg(args)?,
                    answer,
                },
                ResourceLimits::default(),
                &trace,
            )
            .await;
        Ok(match ran {
            Ok(PythonStep {
                recorded,
                outcome: Ok(cell),
            }) => structured_result(
                json!({
                    "value": cell.value, "stdout": cell.stdout, "fuel": cell.fuel,
                    "trace": recorded.trace, "step": recorded.step,
                }),
                false,
            ),
            Ok(PythonStep {
                recorded,
                outcome: Err(e),
            }) => {
                let mut err = e.to_json();
                err["trace"] = json!(recorded.trace);
                err["step"] = recorded.step.into();
                structured_result(
                    json!({"error": err, "trace": recorded.trace, "step": recorded.step}),
                    true,
                )
            }
            // Refused before it ran: not part of any trace.
            Err(e) => return failure(&e),
        })
    }

    pub(super) async fn create_skill(
        &self,
        tenant: &str,
        args: &JsonObject,
    ) -> Result<CallToolResult, McpError> {
        let examples: Vec<Example> = serde_json::from_value(
            args.get("examples").cloned().unwrap_or(json!([])),
        )
        .map_err(|e| {
            McpError::invalid_params(format!("`examples` must be [{{input, output}}]: {e}"), None)
        })?;
        let input_schema = match args.get("input_schema") {
            Some(s) if !s.is_null() => s.clone(),
            _ => infer_input_schema(examples.iter().map(|e| &e.input)),
        };
        let name = str_arg(args, "name")?.to_owned();
        let memoize = match args.get("memoize") {
            None | Some(Value::Null) => false,
            Some(v) => v
                .as_bool()
                .ok_or_else(|| McpError::invalid_params("`memoize` must be true or false", None))?,
        };
        let manifest = SkillManifest {
            runtime: runtime_arg(args)?,
            memoize,
            requires: Vec::new(),
            name,
            description: str_arg(args, "description")?.to_owned(),
            input_schema,
            output_schema: None,
            source: str_arg(args, "code")?.to_owned(),
            entry: str_arg(args, "entry")?.to_owned(),
            examples,
        };
        match self
            .app
            .skills()
            .add(tenant, manifest, Provenance::Authored)
            .await
        {
            Ok((inserted, v)) => {
                let s = inserted.skill();
                Ok(structured_result(
                    json!({
                        "published": s.manifest.name, "id": s.id, "version": s.version,
                        "new": matches!(inserted, Inserted::New(_)),
                        "restored": matches!(inserted, Inserted::Restored(_)),
                        "kpis": v.kpis, "findings": v.findings,
                    }),
                    false,
                ))
            }
            Err(e) => failure(&e),
        }
    }

    pub(super) async fn crystallize(
        &self,
        tenant: &str,
        args: &JsonObject,
        session: Option<String>,
    ) -> Result<CallToolResult, McpError> {
        let request = str_arg(args, "request")?;
        let from = match args.get("steps") {
            Some(v) if !v.is_null() => {
                if args.get("trace").is_some_and(|t| !t.is_null()) {
                    return Err(McpError::invalid_params(
                        "pass `trace` or `steps`, not both",
                        None,
                    ));
                }
                Crystallize::Steps(serde_json::from_value(v.clone()).map_err(|e| {
                    McpError::invalid_params(
                        format!("`steps` must be [{{code, inputs}}]: {e}"),
                        None,
                    )
                })?)
            }
            _ => Crystallize::Trace(Self::trace_ref(args, session)?),
        };
        let name = args.get("name").and_then(Value::as_str);
        let status = match args.get("draft") {
            None | Some(Value::Null | Value::Bool(false)) => Status::Published,
            Some(Value::Bool(true)) => Status::Draft,
            Some(_) => return Err(McpError::invalid_params("`draft` must be a boolean", None)),
        };
        match self
            .app
            .traces()
            .crystallize_as(
                tenant,
                request,
                from,
                args.get("final_result"),
                name,
                status,
            )
            .await
        {
            Ok(Crystallized::Published(s)) => Ok(structured_result(
                json!({"published": s.status == Status::Published, "draft": s.status == Status::Draft, "skill": s.summary()}),
                false,
            )),
            Ok(Crystallized::Existing(s)) => Ok(structured_result(
                json!({"published": false, "existing": true, "skill": s.summary()}),
                false,
            )),
            Err(e) => failure(&e),
        }
    }

    pub(super) async fn search_skills(
        &self,
        tenant: &str,
        args: &JsonObject,
    ) -> Result<CallToolResult, McpError> {
        let query = str_arg(args, "query")?;
        let limit = match args.get("limit") {
            None | Some(Value::Null) => 10,
            Some(v) => v
                .as_u64()
                .filter(|n| (1..=50).contains(n))
                .ok_or_else(|| McpError::invalid_params("`limit` must be 1 to 50", None))?
                as usize,
        };
        match self.app.skills().search(tenant, query, limit).await {
            Ok(hits) => {
                let skills: Vec<Value> = hits
                    .iter()
                    .map(|(s, score)| {
                        json!({
                            "name": s.manifest.name,
                            "description": s.manifest.description,
                            "input_schema": s.manifest.input_schema,
                            "trust": s.trust(),
                            "version": s.version,
                            "status": s.status,
                            "score": (score * 1000.0).round() / 1000.0,
                        })
                    })
                    .collect();
                Ok(structured_result(json!({"skills": skills}), false))
            }
            Err(e) => failure(&e),
        }
    }

    pub(super) async fn call_skill(
        &self,
        tenant: &str,
        name: &str,
        args: JsonObject,
        called: Called,
    ) -> Result<CallToolResult, McpError> {
        let input = Value::Object(args);
        match self
            .app
            .calls()
            .run(
                tenant,
                name,
                &input,
                ResourceLimits::default(),
                Determinism::Live,
            )
            .await
        {
            Ok(r) => {
                let structured = if r.value.is_object() {
                    r.value.clone()
                } else {
                    json!({"result": r.value})
                };
                let mut result =
                    CallToolResult::success(vec![ContentBlock::text(r.output.json.clone())]);
                result.structured_content = Some(structured);
                if r.cached {
                    // Said in `_meta`, never in the result: the agent sees
                    // the same answer, a client can tell it was memoized.
                    let mut meta = rmcp::model::MetaObject::new();
                    meta.insert("autolearn/cache".into(), json!("hit"));
                    result.meta = Some(meta);
                }
                Ok(result)
            }
            // MCP: calling a name that is not a tool is a protocol error.
            Err(e @ (RunError::NotFound(_) | RunError::NotPublished { .. }))
                if called == Called::AsTool =>
            {
                let message = match &e {
                    RunError::NotPublished { status, .. } => {
                        format!("unknown tool: {name} (the skill is {status}, not published)")
                    }
                    _ => format!("unknown tool: {name}"),
                };
                Err(McpError::invalid_params(message, Some(e.to_object())))
            }
            Err(e) => failure(&e),
        }
    }
}

/// How a skill was called: as its own tool, or through `call_skill`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Called {
    /// `tools/call` with the skill's name: an unknown name is a protocol
    /// error (`invalid_params`), as for any unknown tool.
    AsTool,
    /// The `call_skill` built-in, which exists: an unknown or unpublished
    /// skill is its error result, with the kind that says which.
    Builtin,
}

pub(super) fn str_arg<'a>(args: &'a JsonObject, key: &str) -> Result<&'a str, McpError> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| McpError::invalid_params(format!("missing string argument `{key}`"), None))
}

pub(super) fn structured_result(value: Value, is_error: bool) -> CallToolResult {
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    let mut r = if is_error {
        CallToolResult::error(vec![ContentBlock::text(text)])
    } else {
        CallToolResult::success(vec![ContentBlock::text(text)])
    };
    r.structured_content = Some(value);
    r
}

/// JSON-RPC error code of a quota refusal (in the range JSON-RPC leaves to
/// servers; "429").
pub const QUOTA_EXCEEDED: i32 = -32029;

/// A core error as MCP answers it; the one place the taxonomy
/// ([`crate::fault`]) meets MCP:
/// - a quota refusal is a JSON-RPC error ([`QUOTA_EXCEEDED`]) whose `data`
///   is the error object (which quota, its value, when to try again);
/// - a request its arguments make unusable (`bad_request`) is
///   `invalid_params`, with the object as `data`;
/// - anything else is a tool result with `isError` and the object as
///   `structuredContent.error`; the text is the skill's message and
///   traceback when a skill failed, else the object. A host fault is
///   logged, and its text withheld.
pub(super) fn failure(e: &dyn Classify) -> Result<CallToolResult, McpError> {
    let obj = e.to_object();
    if e.fault() == Fault::Host {
        tracing::error!(kind = e.kind(), "tool call failed: {e}");
    }
    match e.kind() {
        "quota_exceeded" => Err(McpError::new(
            rmcp::model::ErrorCode(QUOTA_EXCEEDED),
            e.to_string(),
            Some(obj),
        )),
        "bad_request" => Err(McpError::invalid_params(e.to_string(), Some(obj))),
        _ => {
            let Some(tb) = obj.get("traceback").and_then(Value::as_str) else {
                return Ok(structured_result(json!({"error": obj}), true));
            };
            let mut text = format!(
                "{} ({})",
                obj["message"].as_str().unwrap_or_default(),
                e.kind()
            );
            if !tb.is_empty() {
                text.push_str("\n\n");
                text.push_str(tb);
            }
            let mut r = CallToolResult::error(vec![ContentBlock::text(text)]);
            r.structured_content = Some(json!({"error": obj}));
            Ok(r)
        }
    }
}

/// A protocol-level failure that is ours: logged, and a bare internal error.
pub(super) fn internal(e: impl std::fmt::Display) -> McpError {
    tracing::error!("internal error: {e}");
    McpError::internal_error("internal error", None)
}

/// The optional `runtime` argument: `core` (the default) or `data`.
pub(super) fn runtime_arg(args: &JsonObject) -> Result<Runtime, McpError> {
    match args.get("runtime") {
        None | Some(Value::Null) => Ok(Runtime::Core),
        Some(v) => v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
            McpError::invalid_params("`runtime` must be \"core\" or \"data\"", None)
        }),
    }
}
