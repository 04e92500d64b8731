//! `autolearn serve`: the HTTP server with its limits.

use std::time::Duration;

use clap::Args;

use super::Failure;
use crate::config::Paths;
use crate::limits::{Limits, ServerLimits};
use crate::practice::curriculum::Curriculum;
use crate::practice::{Practice, PracticeOptions};

/// `autolearn serve ...`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Loopback needs no auth until a tenant exists.
    #[arg(long, env = "AUTOLEARN_ADDR", default_value = "127.0.0.1:8765")]
    pub addr: std::net::SocketAddr,
    /// Extra Host header values to accept (public names behind a proxy).
    #[arg(long = "allowed-host")]
    pub allowed_hosts: Vec<String>,
    /// Also serve the fixtures of the official MCP conformance suite.
    #[arg(long)]
    pub conformance: bool,
    /// Curricula for /api/learning instead of the shipped ones (a directory
    /// of `*.json` files in the format of `curricula/README.md`).
    #[arg(long, env = "AUTOLEARN_CURRICULA", value_name = "DIR")]
    pub curricula: Option<std::path::PathBuf>,
    /// The bearer token Prometheus presents for `/metrics` when the server
    /// is not bound to loopback (on loopback `/metrics` is open).
    #[arg(long, env = "AUTOLEARN_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// OAuth: accept access tokens of an authorization server too.
    #[command(flatten)]
    pub oauth: OAuthArgs,
    /// Connection, session, timeout and per-tenant limits.
    #[command(flatten)]
    pub limits: ServeLimitArgs,
}

/// `serve --oauth-*`: AutoLearn as an OAuth 2.1 resource server.
#[derive(Debug, Args)]
pub struct OAuthArgs {
    /// The authorization server's issuer URL: its access tokens (JWTs) are
    /// accepted beside AutoLearn's keys, and /.well-known/oauth-protected-resource
    /// names it.
    #[arg(long, env = "AUTOLEARN_OAUTH_ISSUER")]
    pub oauth_issuer: Option<String>,
    /// This server's resource identifier (RFC 8707), as clients name it
    /// [default: http://ADDR/mcp].
    #[arg(long, env = "AUTOLEARN_OAUTH_RESOURCE", requires = "oauth_issuer")]
    pub oauth_resource: Option<String>,
    /// The audience tokens must carry [default: the resource].
    #[arg(long, env = "AUTOLEARN_OAUTH_AUDIENCE", requires = "oauth_issuer")]
    pub oauth_audience: Option<String>,
    /// The claim that names the tenant.
    #[arg(long, env = "AUTOLEARN_OAUTH_TENANT_CLAIM", default_value = "sub")]
    pub oauth_tenant_claim: String,
    /// A scope every token must carry (repeat for several).
    #[arg(
        long = "oauth-scope",
        env = "AUTOLEARN_OAUTH_SCOPES",
        value_delimiter = ' '
    )]
    pub oauth_scopes: Vec<String>,
    /// Create a tenant the first time a valid token names one.
    #[arg(
        long,
        env = "AUTOLEARN_OAUTH_CREATE_TENANTS",
        requires = "oauth_issuer"
    )]
    pub oauth_create_tenants: bool,
}

impl OAuthArgs {
    fn config(self) -> Option<crate::api::OAuthConfig> {
        Some(crate::api::OAuthConfig {
            issuer: self.oauth_issuer?,
            resource: self.oauth_resource,
            audience: self.oauth_audience,
            tenant_claim: self.oauth_tenant_claim,
            scopes: self
                .oauth_scopes
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect(),
            create_tenants: self.oauth_create_tenants,
        })
    }
}

/// Limits of `serve`; the defaults are those of [`crate::limits`].
#[derive(Debug, Args)]
pub struct ServeLimitArgs {
    /// Open TCP connections at most; more wait in the backlog.
    #[arg(long, env = "AUTOLEARN_MAX_CONNECTIONS", default_value_t = ServerLimits::default().connections)]
    pub max_connections: usize,
    /// Open MCP sessions at most, across tenants.
    #[arg(long, env = "AUTOLEARN_MAX_SESSIONS", default_value_t = ServerLimits::default().sessions)]
    pub max_sessions: usize,
    /// Open MCP sessions per tenant (a tenant's override wins).
    #[arg(long, env = "AUTOLEARN_SESSIONS_PER_TENANT", default_value_t = Limits::default().sessions)]
    pub sessions_per_tenant: usize,
    /// Sandbox operations a tenant may run at once (a tenant's override wins).
    #[arg(long, env = "AUTOLEARN_CALLS_PER_TENANT", default_value_t = Limits::default().concurrent_calls)]
    pub calls_per_tenant: usize,
    /// Milliseconds a client has to send a request's headers.
    #[arg(long, env = "AUTOLEARN_HEADER_TIMEOUT_MS", default_value_t = millis(ServerLimits::default().header_timeout))]
    pub header_timeout_ms: u64,
    /// Milliseconds a client has to send a request's body.
    #[arg(long, env = "AUTOLEARN_BODY_TIMEOUT_MS", default_value_t = millis(ServerLimits::default().body_timeout))]
    pub body_timeout_ms: u64,
    /// Minutes without a step after which a tenant's open trace closes.
    #[arg(long, env = "AUTOLEARN_TRACE_IDLE_MINUTES", default_value_t = Limits::default().trace_idle.as_secs() / 60)]
    pub trace_idle_minutes: u64,
    /// Hours after its last step that a trace is deleted.
    #[arg(long, env = "AUTOLEARN_TRACE_MAX_AGE_HOURS", default_value_t = Limits::default().trace_max_age.as_secs() / 3600)]
    pub trace_max_age_hours: u64,
    /// Traces kept per tenant (the newest).
    #[arg(long, env = "AUTOLEARN_TRACES_PER_TENANT", default_value_t = Limits::default().traces_kept)]
    pub traces_per_tenant: usize,
    /// What to do with traces nobody crystallized: `off`, `suggest` (keep
    /// worthwhile ones as drafts, offered by search_skills) or `publish`.
    #[arg(
        long,
        env = "AUTOLEARN_AUTO_CRYSTALLIZE",
        value_enum,
        default_value = "suggest"
    )]
    pub auto_crystallize: crate::app::AutoMode,
    /// Seconds without a step after which a trace is judged (a legacy
    /// session's trace is judged when the session ends).
    #[arg(
        long,
        env = "AUTOLEARN_AUTO_CRYSTALLIZE_AFTER_SECS",
        default_value_t = 600
    )]
    pub auto_crystallize_after_secs: u64,
    /// On SIGTERM, milliseconds in-flight requests get to finish.
    #[arg(long, env = "AUTOLEARN_DRAIN_TIMEOUT_MS", default_value_t = millis(ServerLimits::default().drain_timeout))]
    pub drain_timeout_ms: u64,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl ServeLimitArgs {
    fn resolve(&self) -> (ServerLimits, Limits) {
        let server = ServerLimits {
            connections: self.max_connections.max(1),
            sessions: self.max_sessions.max(1),
            header_timeout: Duration::from_millis(self.header_timeout_ms.max(1)),
            body_timeout: Duration::from_millis(self.body_timeout_ms.max(1)),
            drain_timeout: Duration::from_millis(self.drain_timeout_ms),
            ..ServerLimits::default()
        };
        let tenant = Limits {
            sessions: self.sessions_per_tenant.max(1),
            concurrent_calls: self.calls_per_tenant.max(1),
            trace_idle: Duration::from_secs(self.trace_idle_minutes.max(1) * 60),
            trace_max_age: Duration::from_secs(self.trace_max_age_hours.max(1) * 3600),
            traces_kept: self.traces_per_tenant.max(1),
            ..Limits::default()
        };
        (server, tenant)
    }
}

/// Serve MCP over HTTP until SIGTERM or ctrl-c.
pub(super) async fn run(
    paths: &Paths,
    llm: &super::LlmArgs,
    args: ServeArgs,
) -> Result<(), Failure> {
    let ServeArgs {
        addr,
        allowed_hosts,
        conformance,
        curricula,
        metrics_token,
        oauth,
        limits,
    } = args;
    let curriculum = match &curricula {
        Some(dir) => Curriculum::from_dir(dir),
        None => Curriculum::shipped(),
    }
    .map_err(|e| Failure::usage("curriculum", e.to_string()))?;
    let (server_limits, tenant_limits) = limits.resolve();
    let app = super::open_with_llm(paths, llm)
        .await?
        .with_limits(tenant_limits);
    app.warm_data_runtime();
    tokio::spawn(prune_traces(app.clone()));
    tokio::spawn(judge_traces(
        app.clone(),
        limits.auto_crystallize,
        Duration::from_secs(limits.auto_crystallize_after_secs),
    ));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::failed("host", format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::failed("host", e.to_string()))?;
    let options = crate::api::ServeOptions {
        addr: local,
        allowed_hosts,
        conformance,
        limits: server_limits,
        metrics_token: metrics_token.filter(|t| !t.is_empty()),
        oauth: oauth.config(),
    };
    // Tests and scripts read this line to find the port when given :0.
    println!("autolearn listening on http://{local}/mcp");
    println!("autolearn web UI at http://{local}/");
    let a = app.readiness(Duration::from_secs(2)).await.artifact;
    println!(
        "autolearn sandbox: {} (sha256 {})",
        paths.artifact.label().display(),
        a.sha256
    );
    let practice = Practice::new(app, curriculum, PracticeOptions::default());
    crate::api::run(practice, listener, options, crate::api::shutdown_signal())
        .await
        .map_err(|e| Failure::failed("host", e.to_string()))
}

/// Traces are pruned by age and count at start and every ten minutes, so
/// the database never grows without bound (and nothing is lost to a crash:
/// what is kept is on disk).
async fn prune_traces(app: crate::app::App) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        match app.prune().await {
            Ok(crate::app::Pruned { traces: 0, .. }) => {}
            Ok(p) => tracing::info!("pruned {} old traces", p.traces),
            Err(e) => tracing::warn!("pruning traces and quota counters: {e}"),
        }
    }
}

/// Judge quiet traces every so often (every half of the quiet time, at
/// least every second, at most every 30 s).
async fn judge_traces(app: crate::app::App, mode: crate::app::AutoMode, quiet: Duration) {
    if mode == crate::app::AutoMode::Off {
        return;
    }
    let period = (quiet / 2).clamp(Duration::from_secs(1), Duration::from_secs(30));
    let mut every = tokio::time::interval(period);
    loop {
        every.tick().await;
        let n = app.traces().judge_quiet(mode, quiet, 20).await;
        if n > 0 {
            tracing::info!("judged {n} quiet traces");
        }
    }
}
