//! The MCP face of AutoLearn: an rmcp `ServerHandler` where every published
//! skill of the caller's tenant is a tool, next to the built-ins
//! (`run_python`, `create_skill`, `crystallize`, ...).
//!
//! No SQL and no wasmtime types here: everything goes through [`App`].
//! Failures the agent should read are `isError` results with the error kind
//! and traceback; JSON-RPC errors are kept for unroutable requests.

mod builtin;

use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Value, json};

use crate::app::{AddError, App, Crystallized, RunError};
use crate::learn::crystallize::Step;
use crate::sandbox::{CallError, Determinism, ResourceLimits};
use crate::skills::{Example, Provenance, Skill, SkillManifest, Status, infer_input_schema};

pub use builtin::is_builtin;

/// Tools per `tools/list` page.
const PAGE: usize = 50;

/// The authenticated tenant of a request; the HTTP layer puts it in the
/// request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantId(pub String);

/// One MCP session's handler. The transport makes one per session, so the
/// `run_python` trace here is the session's own.
#[derive(Clone)]
pub struct McpServer {
    app: App,
    /// Set for stdio (one local user); HTTP reads it from each request.
    fixed_tenant: Option<String>,
    trace: Arc<Mutex<Vec<Step>>>,
}

impl McpServer {
    /// A handler whose tenant comes from each HTTP request.
    pub fn per_request(app: App) -> Self {
        Self {
            app,
            fixed_tenant: None,
            trace: Arc::default(),
        }
    }

    /// A handler serving one tenant (stdio).
    pub fn for_tenant(app: App, tenant: &str) -> Self {
        Self {
            app,
            fixed_tenant: Some(tenant.to_owned()),
            trace: Arc::default(),
        }
    }

    fn tenant(&self, extensions: &rmcp::model::Extensions) -> Result<String, McpError> {
        if let Some(t) = &self.fixed_tenant {
            return Ok(t.clone());
        }
        extensions
            .get::<axum::http::request::Parts>()
            .and_then(|p| p.extensions.get::<TenantId>())
            .map(|t| t.0.clone())
            .ok_or_else(|| McpError::internal_error("request has no tenant", None))
    }

    async fn skill_tools(&self, tenant: &str) -> Result<Vec<Tool>, McpError> {
        let skills = self.app.store.list(tenant).await.map_err(internal)?;
        Ok(skills
            .iter()
            .filter(|s| s.status == Status::Published)
            .map(skill_tool)
            .collect())
    }

    fn record(&self, step: Step) -> usize {
        let mut trace = self.trace.lock().unwrap_or_else(|p| p.into_inner());
        trace.push(step);
        trace.len()
    }

    async fn run_python(&self, args: &JsonObject) -> Result<CallToolResult, McpError> {
        let code = str_arg(args, "code")?;
        let inputs = args.get("inputs").cloned().unwrap_or_else(|| json!({}));
        if !inputs.is_object() {
            return Err(McpError::invalid_params("`inputs` must be an object", None));
        }
        let inputs_map = inputs.as_object().cloned().unwrap_or_default();
        match self
            .app
            .run_python(code, &inputs, ResourceLimits::default())
            .await
        {
            Ok(out) => {
                let parsed: Value = serde_json::from_str(&out.json).unwrap_or(Value::Null);
                let value = parsed["value"].clone();
                let names = parsed["names"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|n| n.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let step = self.record(Step {
                    code: code.to_owned(),
                    inputs: inputs_map,
                    value: Some(value.clone()),
                    names,
                    error: None,
                });
                let structured = json!({"value": value, "stdout": out.stdout, "step": step, "fuel": out.fuel_used});
                Ok(structured_result(structured, false))
            }
            Err(e) => {
                let step = self.record(Step {
                    code: code.to_owned(),
                    inputs: inputs_map,
                    value: None,
                    names: vec![],
                    error: Some(e.to_string()),
                });
                let mut err = e.to_json();
                err["step"] = step.into();
                Ok(structured_result(json!({"error": err}), true))
            }
        }
    }

    async fn create_skill(
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
        if is_builtin(&name) {
            return Ok(text_error(format!(
                "{name:?} is a built-in tool name; choose another"
            )));
        }
        let manifest = SkillManifest {
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
            .add_skill(tenant, manifest, Provenance::Authored)
            .await
        {
            Ok((inserted, v)) => {
                let s = inserted.skill();
                Ok(structured_result(
                    json!({"published": s.manifest.name, "id": s.id, "version": s.version, "kpis": v.kpis, "findings": v.findings}),
                    false,
                ))
            }
            Err(AddError::Rejected(v)) => Ok(structured_result(
                json!({"error": {"kind": "verification_failed", "problems": v.problems, "findings": v.findings}}),
                true,
            )),
            Err(e @ AddError::Manifest(_)) => Ok(text_error(e.to_string())),
            Err(e) => Err(internal(e)),
        }
    }

    async fn crystallize(
        &self,
        tenant: &str,
        args: &JsonObject,
    ) -> Result<CallToolResult, McpError> {
        let request = str_arg(args, "request")?;
        let steps: Vec<Step> = match args.get("steps") {
            Some(v) if !v.is_null() => serde_json::from_value(v.clone()).map_err(|e| {
                McpError::invalid_params(format!("`steps` must be [{{code, inputs}}]: {e}"), None)
            })?,
            _ => self.trace.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        };
        let name = args.get("name").and_then(Value::as_str);
        if name.is_some_and(is_builtin) {
            return Ok(text_error(
                "that name belongs to a built-in tool; choose another".to_owned(),
            ));
        }
        match self
            .app
            .crystallize(tenant, request, &steps, args.get("final_result"), name)
            .await
        {
            Ok(Crystallized::Published(s)) => Ok(structured_result(
                json!({"published": true, "skill": summary(&s)}),
                false,
            )),
            Ok(Crystallized::Existing(s)) => Ok(structured_result(
                json!({"published": false, "existing": true, "skill": summary(&s)}),
                false,
            )),
            Err(e) => Ok(structured_result(
                json!({"error": {"kind": "not_crystallized", "message": e.to_string()}}),
                true,
            )),
        }
    }

    async fn call_skill(
        &self,
        tenant: &str,
        name: &str,
        args: JsonObject,
    ) -> Result<CallToolResult, McpError> {
        let input = Value::Object(args);
        match self
            .app
            .run_skill(
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
                Ok(result)
            }
            Err(RunError::NotFound(_) | RunError::NotPublished { .. }) => Err(
                McpError::invalid_params(format!("unknown tool: {name}"), None),
            ),
            Err(RunError::Call(e)) => Ok(skill_error(&e)),
            Err(RunError::Store(e)) => Ok(text_error(e.to_string())),
        }
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder().enable_tools().enable_tool_list_changed().build(),
        )
        .with_server_info(Implementation::new("autolearn", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "AutoLearn learns skills. Work a task out with run_python (pass data through `inputs`), then call \
             crystallize: the steps become a verified tool you can call directly next time, in milliseconds. \
             Published skills appear in tools/list.",
        )
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let tenant = self.tenant(&context.extensions)?;
        let mut tools = builtin::tools();
        tools.extend(self.skill_tools(&tenant).await?);
        let start = match request.and_then(|r| r.cursor) {
            Some(c) => c
                .parse::<usize>()
                .ok()
                .filter(|&n| n <= tools.len())
                .ok_or_else(|| McpError::invalid_params(format!("invalid cursor {c:?}"), None))?,
            None => 0,
        };
        let end = (start + PAGE).min(tools.len());
        let next = (end < tools.len()).then(|| end.to_string());
        let page = tools.drain(start..end).collect();
        Ok(ListToolsResult {
            tools: page,
            next_cursor: next,
            ..Default::default()
        })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let tenant = self.tenant(&context.extensions)?;
        let args = request.arguments.unwrap_or_default();
        let result = match request.name.as_ref() {
            builtin::RUN_PYTHON => self.run_python(&args).await?,
            builtin::CREATE_SKILL => self.create_skill(&tenant, &args).await?,
            builtin::CRYSTALLIZE => self.crystallize(&tenant, &args).await?,
            builtin::SEARCH_SKILLS => {
                let query = str_arg(&args, "query")?.to_lowercase();
                let words: Vec<&str> = query.split_whitespace().collect();
                let skills = self.app.store.list(&tenant).await.map_err(internal)?;
                let hits: Vec<Value> = skills
                    .iter()
                    .filter(|s| s.status == Status::Published)
                    .filter(|s| {
                        let hay = format!("{} {}", s.manifest.name, s.manifest.description)
                            .to_lowercase();
                        words.iter().any(|w| hay.contains(w))
                    })
                    .map(summary)
                    .collect();
                structured_result(json!({"skills": hits}), false)
            }
            builtin::GET_SKILL => match self
                .app
                .store
                .latest(&tenant, str_arg(&args, "name")?)
                .await
            {
                Ok(s) => structured_result(serde_json::to_value(&s).unwrap_or_default(), false),
                Err(e) => text_error(e.to_string()),
            },
            builtin::RETIRE_SKILL => match self
                .app
                .retire_skill(&tenant, str_arg(&args, "name")?)
                .await
            {
                Ok(s) => structured_result(
                    json!({"retired": s.manifest.name, "version": s.version}),
                    false,
                ),
                Err(e) => text_error(e.to_string()),
            },
            name => self.call_skill(&tenant, name, args).await?,
        };
        Ok(result.into())
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        let Ok(tenant) = self.tenant(&context.extensions) else {
            return;
        };
        let mut events = self.app.events.subscribe();
        let peer = context.peer;
        // Tell this session whenever its tenant's skills change; stop when
        // the session is gone (the send fails).
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(ev) if ev.tenant != tenant => continue,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        if peer.notify_tool_list_changed().await.is_err() {
                            break;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
    }
}

fn skill_tool(s: &Skill) -> Tool {
    let schema = s
        .manifest
        .input_schema
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut tool = Tool::new(
        s.manifest.name.clone(),
        s.manifest.description.clone(),
        Arc::new(schema),
    )
    // Skills run sandboxed with no I/O: reading and re-running is safe.
    .annotate(
        ToolAnnotations::new()
            .read_only(true)
            .destructive(false)
            .idempotent(true)
            .open_world(false),
    );
    if let Some(out) = s.manifest.output_schema.as_ref().and_then(Value::as_object) {
        tool = tool.with_raw_output_schema(Arc::new(out.clone()));
    }
    tool
}

fn summary(s: &Skill) -> Value {
    json!({
        "name": s.manifest.name,
        "id": s.id,
        "version": s.version,
        "status": s.status,
        "provenance": s.provenance,
        "description": s.manifest.description,
        "input_schema": s.manifest.input_schema,
        "kpis": s.kpis,
    })
}

fn str_arg<'a>(args: &'a JsonObject, key: &str) -> Result<&'a str, McpError> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| McpError::invalid_params(format!("missing string argument `{key}`"), None))
}

fn structured_result(value: Value, is_error: bool) -> CallToolResult {
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    let mut r = if is_error {
        CallToolResult::error(vec![ContentBlock::text(text)])
    } else {
        CallToolResult::success(vec![ContentBlock::text(text)])
    };
    r.structured_content = Some(value);
    r
}

fn text_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

fn skill_error(e: &CallError) -> CallToolResult {
    let err = e.to_json();
    let mut text = format!("{} ({})", e, e.kind());
    if let Some(tb) = e.traceback() {
        text.push_str("\n\n");
        text.push_str(tb);
    }
    let mut r = CallToolResult::error(vec![ContentBlock::text(text)]);
    r.structured_content = Some(json!({"error": err}));
    r
}

fn internal(e: impl std::fmt::Display) -> McpError {
    tracing::error!("internal error: {e}");
    McpError::internal_error("internal error", None)
}
