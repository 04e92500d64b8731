//! The MCP face of AutoLearn: an rmcp `ServerHandler` where every published
//! skill of the caller's tenant is a tool, next to the built-ins
//! (`run_python`, `create_skill`, `crystallize`, ...).
//!
//! No SQL and no wasmtime types here: everything goes through [`App`].
//! Failures the agent should read are `isError` results with the error kind
//! and traceback; JSON-RPC errors are kept for unroutable requests.
//!
//! Over 400 lines because the whole `ServerHandler` impl, one method per
//! MCP request, stays in one place to read the protocol surface at once;
//! the work behind each method lives in the submodules.

mod agent_skills;
mod ask;
mod builtin;
mod conformance;
mod drafts;
mod elicit;
mod learn;
mod listing;
mod notify;
mod prompts;
mod resources;
mod sampling;
mod tasks;
mod tools;

use listing::{instructions, page, skill_tool};
use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex};
use tools::{Called, failure, internal, str_arg, structured_result};

use rmcp::model::SubscriptionFilter;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, JsonObject,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::model::{CancelTaskParams, GetTaskParams, GetTaskResult, UpdateTaskParams};
use rmcp::model::{
    CompleteRequestParams, CompleteResult, CompletionInfo, GetPromptRequestParams,
    GetPromptResponse, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, SubscribeRequestParams,
    UnsubscribeRequestParams,
};
use rmcp::model::{
    GetSkillRequestParams, GetSkillResult, ListSkillsResult, ReadResourceDirectoryRequestParams,
    ReadResourceDirectoryResult,
};
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Value, json};

use crate::app::{App, TenantId};
use crate::skills::Status;

/// Tools per `tools/list` page.
const PAGE: usize = 50;

/// One MCP session's handler (the transport makes one per session). It
/// keeps no trace: steps live in the database, so they outlive the session
/// and the process, and stateless clients have them too.
#[derive(Clone)]
pub struct McpServer {
    app: App,
    /// Set for stdio (one local user); HTTP reads it from each request.
    fixed_tenant: Option<String>,
    /// Resource URIs this session subscribed to.
    subscriptions: Arc<Mutex<HashSet<String>>>,
    /// Serve the conformance suite's fixtures too.
    conformance: bool,
    /// The practice loop, for `learn` (absent: no `learn` tool).
    practice: Option<crate::practice::Practice>,
}

impl McpServer {
    /// A handler whose tenant comes from each HTTP request.
    pub fn per_request(app: App) -> Self {
        Self {
            app,
            fixed_tenant: None,
            subscriptions: Arc::default(),
            conformance: false,
            practice: None,
        }
    }

    /// A handler serving one tenant (stdio).
    pub fn for_tenant(app: App, tenant: &str) -> Self {
        Self {
            fixed_tenant: Some(tenant.to_owned()),
            ..Self::per_request(app)
        }
    }

    /// Serve `tenant` over an in-process pipe and return the client's end:
    /// the same MCP messages as over HTTP, without a socket (the web chat
    /// and `GET /api/mcp` talk to their own server this way).
    pub fn in_process(app: App, tenant: &str) -> tokio::io::DuplexStream {
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        let server = Self::for_tenant(app, tenant);
        tokio::spawn(async move {
            match rmcp::ServiceExt::serve(server, theirs).await {
                Ok(running) => {
                    let _ = running.waiting().await;
                }
                Err(e) => tracing::warn!("in-process MCP session failed to start: {e}"),
            }
        });
        ours
    }

    /// Also offer `learn`, a practice run of `practice`.
    pub fn with_practice(mut self, practice: crate::practice::Practice) -> Self {
        self.practice = Some(practice);
        self
    }

    /// Also serve the MCP conformance suite's fixture tools, resources and
    /// prompts (`serve --conformance`).
    pub fn with_conformance(mut self, on: bool) -> Self {
        self.conformance = on;
        self
    }

    async fn conformance_call(
        &self,
        name: &str,
        args: &JsonObject,
        context: &RequestContext<RoleServer>,
    ) -> Option<CallToolResult> {
        if !self.conformance {
            return None;
        }
        conformance::call(name, args, context).await
    }

    /// The legacy session a request belongs to (HTTP only: stdio and
    /// 2026-07-28 requests have none, and use the tenant's open trace).
    fn session(&self, extensions: &rmcp::model::Extensions) -> Option<String> {
        if self.fixed_tenant.is_some() {
            return None;
        }
        extensions
            .get::<axum::http::request::Parts>()
            .and_then(|p| p.headers.get("mcp-session-id"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The catalog of the request's tenant.
    async fn catalog(
        &self,
        extensions: &rmcp::model::Extensions,
    ) -> Result<std::sync::Arc<crate::app::Catalog>, McpError> {
        let tenant = self.tenant(extensions)?;
        self.app.skills().catalog(&tenant).await.map_err(internal)
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
}

impl ServerHandler for McpServer {
    #[allow(
        deprecated,
        reason = "logging is deprecated by SEP-2577 but still part of the 2025 protocol clients speak"
    )]
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .enable_resources()
                .enable_resources_subscribe()
                .enable_resources_list_changed()
                .enable_prompts()
                .enable_completions()
                .enable_logging()
                .enable_skills_with_directory_read()
                .enable_tasks()
                .build(),
        )
        .with_server_info(Implementation::new("autolearn", env!("CARGO_PKG_VERSION")))
        .with_instructions(instructions(&self.app.model().info()))
    }

    /// The tools whose schemas the transport checks `Mcp-Param-*` headers
    /// against (SEP-2243): the built-ins and the suite's fixtures. A skill's
    /// schema is its tenant's, which this synchronous lookup cannot reach;
    /// no skill declares `x-mcp-header`.
    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        static BUILT_INS: LazyLock<Vec<rmcp::model::Tool>> = LazyLock::new(builtin::tools);
        static FIXTURES: LazyLock<Vec<rmcp::model::Tool>> = LazyLock::new(conformance::tools);
        let fixtures = if self.conformance { &FIXTURES[..] } else { &[] };
        BUILT_INS
            .iter()
            .chain(fixtures)
            .find(|t| t.name == name)
            .cloned()
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let catalog = self.catalog(&context.extensions).await?;
        // With --conformance, the suite's fixtures come first: some of its
        // checks call the first listed tool with no arguments.
        let mut fixed = if self.conformance {
            conformance::tools()
        } else {
            Vec::new()
        };
        fixed.extend(
            builtin::tools()
                .into_iter()
                .filter(|t| t.name != builtin::LEARN || self.practice.is_some()),
        );
        // The built-ins, then the published skills by name.
        let (page, next) = page(fixed, &catalog, PAGE, request, |s, _| [skill_tool(s)])?;
        // Honest cache hints (2026-07-28): the list changes whenever a skill
        // is published or retired, and differs per tenant, so it is never
        // fresh for long (changes are pushed to `subscriptions/listen`) and
        // never shared across credentials.
        Ok(ListToolsResult {
            tools: page,
            next_cursor: next,
            ttl_ms: Some(0),
            cache_scope: Some(rmcp::model::CacheScope::Private),
            ..Default::default()
        })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        if self.conformance {
            if let Some(response) = conformance::input_required::call(&request, &context) {
                return response;
            }
            let tenant = self.tenant(&context.extensions)?;
            if let Some(response) =
                conformance::tasks::call(self.app.tasks(), &tenant, &request, &context).await
            {
                return response;
            }
        }
        let tenant = self.tenant(&context.extensions)?;
        let args = request.arguments.unwrap_or_default();
        if request.name == builtin::GENERATE_SKILL {
            let retry = drafts::Retry {
                state: request.request_state.as_deref(),
                responses: request.input_responses.as_ref(),
            };
            return self.generate_skill(&tenant, &args, retry, &context).await;
        }
        if request.name == builtin::LEARN
            && let Some(practice) = &self.practice
        {
            return self.learn(practice, &tenant, &args, &context).await;
        }
        let result = match request.name.as_ref() {
            builtin::RUN_PYTHON => {
                self.run_python(&tenant, &args, self.session(&context.extensions))
                    .await?
            }
            builtin::CREATE_SKILL => self.create_skill(&tenant, &args).await?,
            builtin::CRYSTALLIZE => {
                self.crystallize(&tenant, &args, self.session(&context.extensions))
                    .await?
            }
            builtin::SEARCH_SKILLS => self.search_skills(&tenant, &args).await?,
            builtin::CALL_SKILL => {
                let name = str_arg(&args, "name")?.to_owned();
                let input = match args.get("input") {
                    None | Some(Value::Null) => JsonObject::new(),
                    Some(Value::Object(o)) => o.clone(),
                    Some(_) => {
                        return Err(McpError::invalid_params("`input` must be an object", None));
                    }
                };
                // `call_skill` itself exists: an unknown or unpublished
                // skill is its error result, not a protocol error.
                self.call_skill(&tenant, &name, input, Called::Builtin)
                    .await?
            }
            builtin::GET_SKILL => match self
                .app
                .skills()
                .get(&tenant, str_arg(&args, "name")?)
                .await
            {
                Ok(s) => structured_result(s.detail(), false),
                Err(e) => failure(&e)?,
            },
            builtin::RETIRE_SKILL => match self
                .app
                .skills()
                .retire(&tenant, str_arg(&args, "name")?)
                .await
            {
                Ok(s) => structured_result(
                    json!({"retired": s.manifest.name, "version": s.version}),
                    false,
                ),
                Err(e) => failure(&e)?,
            },
            builtin::REVIEW_SKILL => self.review_skill(&tenant, &args).await?,
            // The suite's probe of list-change events: announce a change
            // of this tenant's tool list, as publishing a skill does.
            conformance::TRIGGER_TOOL_CHANGE if self.conformance => {
                self.app
                    .notify(&tenant, crate::app::Event::ListChanged { name: None });
                CallToolResult::success(vec![rmcp::model::ContentBlock::text(
                    "tool list change announced",
                )])
            }
            name => match self.conformance_call(name, &args, &context).await {
                Some(r) => r,
                None => self.call_skill(&tenant, name, args, Called::AsTool).await?,
            },
        };
        Ok(result.into())
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, McpError> {
        self.task_get(&self.tenant(&context.extensions)?, &request.task_id)
            .await
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.task_update(&self.tenant(&context.extensions)?, request)
            .await
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.task_cancel(&self.tenant(&context.extensions)?, &request.task_id)
            .await
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let catalog = self.catalog(&context.extensions).await?;
        let mut fixed = vec![resources::learnings()];
        if self.conformance {
            fixed.extend(conformance::resources());
        }
        // The fixed resources, then each published skill's SKILL.md, by name.
        let (page, next) = page(fixed, &catalog, PAGE, request, agent_skills::listed)?;
        Ok(ListResourcesResult {
            resources: page,
            next_cursor: next,
            ..Default::default()
        })
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        let mut list = resources::templates();
        if self.conformance {
            list.extend(conformance::resource_templates());
        }
        Ok(ListResourceTemplatesResult {
            resource_templates: list,
            ..Default::default()
        })
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri.as_str();
        if self.conformance
            && let Some(contents) = conformance::read(uri)
        {
            return Ok(ReadResourceResult::new(contents).into());
        }
        let tenant = self.tenant(&context.extensions)?;
        if uri == resources::LEARNINGS {
            let entries = self
                .app
                .learnings()
                .recent(&tenant, 200)
                .await
                .map_err(internal)?;
            let text = serde_json::to_string_pretty(&entries).unwrap_or_default();
            return Ok(ReadResourceResult::new(vec![
                rmcp::model::ResourceContents::TextResourceContents {
                    uri: uri.into(),
                    mime_type: Some("application/json".into()),
                    text,
                    meta: None,
                },
            ])
            .into());
        }
        let catalog = self.app.skills().catalog(&tenant).await.map_err(internal)?;
        if let Some(contents) = agent_skills::read(&catalog, uri) {
            return Ok(ReadResourceResult::new(vec![contents]).into());
        }
        // Before the Skills extension, a skill was `skill://NAME/source`
        // and `skill://NAME/doc`; both still read.
        let not_found = || {
            McpError::resource_not_found(format!("no resource {uri}"), Some(json!({"uri": uri})))
        };
        let (name, part) = resources::parse(uri).ok_or_else(not_found)?;
        let skill = match self.app.skills().get(&tenant, name).await {
            Ok(s) if s.status == Status::Published => s,
            Ok(_) | Err(crate::store::StoreError::NotFound(_)) => return Err(not_found()),
            Err(e) => return Err(internal(e)),
        };
        Ok(ReadResourceResult::new(vec![resources::read(uri, &skill, &part)]).into())
    }

    async fn list_skills(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListSkillsResult, McpError> {
        let catalog = self.catalog(&context.extensions).await?;
        // A page renders and hashes up to 50 skill packages (each bounded by
        // the skill limits, under a megabyte and a half): off the I/O threads.
        tokio::task::spawn_blocking(move || agent_skills::list(&catalog, request))
            .await
            .map_err(|e| McpError::internal_error(format!("listing skills: {e}"), None))?
    }

    async fn get_skill(
        &self,
        request: GetSkillRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetSkillResult, McpError> {
        let catalog = self.catalog(&context.extensions).await?;
        agent_skills::get(&catalog, &request.uri)
    }

    async fn read_resource_directory(
        &self,
        request: ReadResourceDirectoryRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceDirectoryResult, McpError> {
        let catalog = self.catalog(&context.extensions).await?;
        // A skill directory holds three files: one page.
        Ok(ReadResourceDirectoryResult {
            resources: agent_skills::directory(&catalog, &request.uri)?,
            ..Default::default()
        })
    }

    #[allow(
        deprecated,
        reason = "legacy sessions (2025-11-25 and older) subscribe this way"
    )]
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.subscriptions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(request.uri.to_string());
        Ok(())
    }

    #[allow(
        deprecated,
        reason = "legacy sessions (2025-11-25 and older) unsubscribe this way"
    )]
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.subscriptions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(request.uri.as_str());
        Ok(())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let mut list = prompts::list();
        if self.conformance {
            list.extend(conformance::prompts());
        }
        Ok(ListPromptsResult {
            prompts: list,
            ..Default::default()
        })
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        if self.conformance
            && let Some(response) = conformance::input_required::prompt(&request)
        {
            return response;
        }
        if request.name == prompts::LEARN {
            return Ok(prompts::learn(request.arguments.as_ref()).into());
        }
        if self.conformance
            && let Some(p) = conformance::prompt(&request.name, request.arguments.as_ref())
        {
            return Ok(p.into());
        }
        Err(McpError::invalid_params(
            format!("unknown prompt: {}", request.name),
            None,
        ))
    }

    /// Log level requests are accepted; AutoLearn sends no log messages
    /// outside the conformance fixtures, whose level is fixed at info.
    #[allow(
        deprecated,
        reason = "logging is deprecated by SEP-2577 but still part of the 2025 protocol"
    )]
    async fn set_level(
        &self,
        _request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        Ok(())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        let info = if self.conformance {
            conformance::complete(&request)?
        } else {
            CompletionInfo::default()
        };
        Ok(CompleteResult::new(info))
    }

    /// 2026-07-28 clients ask for change events through
    /// `subscriptions/listen`; every category we advertise is offered.
    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(requested.clone())
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        let tenant = self.tenant(&context.request_context().extensions)?;
        notify::listen(self.app.subscribe(), tenant, context).await
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        if let Ok(tenant) = self.tenant(&context.extensions) {
            notify::follow(
                self.app.subscribe(),
                tenant,
                context.peer,
                self.subscriptions.clone(),
            );
        }
    }
}
