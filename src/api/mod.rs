//! The HTTP face: an axum router with MCP (Streamable HTTP, via rmcp) at
//! `/mcp`, the REST API at `/api` (with the web UI's live feed), the web UI
//! at `/`, `/healthz`, `/readyz` and `/metrics`; bearer-key auth per tenant, sessions bound to
//! their tenant, a same-origin guard for browsers, bounded bodies and
//! connections, and a shutdown that drains and then ends.
//!
//! `run(listener, shutdown)` lets the caller own the socket and the signal
//! (tests bind port 0). No business logic lives here.

mod auth;
mod body;
mod discovery;
mod error;
mod guard;
mod metrics;
mod oauth;
mod request_id;
mod rest;
mod server;
mod sessions;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::limits::ServerLimits;
use crate::mcp::McpServer;
use crate::practice::Practice;

pub use oauth::{OAuthConfig, TokenError};

/// How the server is exposed.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The address clients use; its host is allowed in `Host` headers.
    pub addr: SocketAddr,
    /// Extra `Host` values to accept (public names behind a proxy).
    pub allowed_hosts: Vec<String>,
    /// Serve the MCP conformance suite's fixtures too.
    pub conformance: bool,
    /// Connections, sessions, timeouts and the shutdown drain.
    pub limits: ServerLimits,
    /// The token a Prometheus scraper presents for `/metrics` when the
    /// server is not bound to loopback.
    pub metrics_token: Option<String>,
    /// Accept OAuth access tokens of this authorization server too.
    pub oauth: Option<OAuthConfig>,
}

/// Starting the server failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Non-loopback address and no tenants: refusing to serve without auth.
    #[error(
        "refusing to serve on {0} without auth: create a tenant first (`autolearn tenant create NAME`), or bind to 127.0.0.1"
    )]
    NoAuth(SocketAddr),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The socket failed.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// Refuse to serve a non-loopback address while no tenant exists: that
/// would serve everyone without a key.
pub async fn check_exposure(app: &App, options: &ServeOptions) -> Result<(), ServeError> {
    let addr = options.addr;
    if !addr.ip().is_loopback() && options.oauth.is_none() && app.tenants().count().await? == 0 {
        return Err(ServeError::NoAuth(addr));
    }
    Ok(())
}

/// The router, and what shutting it down needs.
pub struct Routes {
    /// `/mcp` and `/healthz`.
    pub router: Router,
    inflight: server::InFlight,
}

/// The router: `/mcp` and `/healthz`. Cancelling `ct` ends every MCP
/// session and stream.
pub fn router(practice: Practice, options: &ServeOptions, ct: CancellationToken) -> Routes {
    let app = practice.app().clone();
    let mut allowed_hosts = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
        "[::1]".to_owned(),
    ];
    allowed_hosts.push(options.addr.ip().to_string());
    allowed_hosts.extend(options.allowed_hosts.iter().cloned());
    let mut config = StreamableHttpServerConfig::default();
    config.legacy_session_mode = true;
    config.cancellation_token = ct;
    config.allowed_hosts = allowed_hosts.clone();
    config.allowed_origins = vec!["http://localhost:*".into(), "http://127.0.0.1:*".into()];
    config.max_request_body_bytes = options.limits.body_bytes;
    config.sse_keep_alive = Some(Duration::from_secs(15));
    // A stateless (2026-07-28) request whose handler sends only its answer
    // gets it as plain JSON, not a one-event SSE stream; rmcp falls back to
    // SSE when a handler emits anything first (progress, logging).
    config.json_response = true;
    let manager = Arc::new(LocalSessionManager::default());
    let mcp_app = app.clone();
    let mcp = StreamableHttpService::new(
        {
            let conformance = options.conformance;
            let practice = practice.clone();
            move || {
                Ok(McpServer::per_request(mcp_app.clone())
                    .with_practice(practice.clone())
                    .with_conformance(conformance))
            }
        },
        manager.clone(),
        config,
    );
    let inflight = server::InFlight::default();
    let sessions = sessions::Sessions::new(manager, app.clone(), options.limits.sessions);
    let body_limits = body::BodyLimits {
        bytes: options.limits.body_bytes,
        timeout: options.limits.body_timeout,
    };
    let oauth = options.oauth.clone().map(|config| {
        let oauth = Arc::new(oauth::OAuth::new(
            config,
            &format!("http://{}", options.addr),
        ));
        let prefetch = oauth.clone();
        tokio::spawn(async move { prefetch.prefetch().await });
        oauth
    });
    let base = format!("http://{}", options.addr);
    let auth_state = auth::AuthState {
        app: app.clone(),
        loopback: options.addr.ip().is_loopback(),
        oauth: oauth.clone(),
        key_challenge: discovery::key_challenge(&base),
    };
    // Layers run outermost last-added: auth, then the whole body is read,
    // then the request counts as in flight, then (MCP) its session is checked.
    let mcp_routes =
        Router::new()
            .nest_service("/mcp", mcp)
            .layer(axum::middleware::from_fn_with_state(
                sessions,
                sessions::bind,
            ));
    let api = rest::routes(app.clone(), practice).layer(axum::middleware::from_fn_with_state(
        guard::AllowedHosts(Arc::new(allowed_hosts.clone())),
        guard::same_origin,
    ));
    let guarded = mcp_routes
        .nest("/api", api)
        .layer(axum::middleware::from_fn_with_state(
            inflight.clone(),
            server::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            body_limits,
            body::buffer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            auth_state,
            auth::require_tenant,
        ))
        .layer(axum::middleware::from_fn(rest::json_errors));
    let health = axum::Json(serde_json::json!({"status": "ok", "llm": app.model().info()}));
    // The page itself is public (it asks for a key when the API wants one).
    let ui = Router::new()
        .route("/", get(web::index))
        .route("/assets/{file}", get(web::asset))
        .layer(axum::middleware::from_fn_with_state(
            guard::AllowedHosts(Arc::new(allowed_hosts)),
            guard::same_origin,
        ));
    let mut router = guarded.merge(ui);
    // Before connecting: the Server Card and the catalog naming it.
    let card = discovery::server_card(&base);
    let catalog = discovery::catalog(&base);
    router = router
        .route(
            discovery::CARD_PATH,
            get(move || async move { discovery::typed(&card, discovery::CARD_MEDIA_TYPE) }),
        )
        .route(
            discovery::CATALOG_PATH,
            get(move || async move { discovery::typed(&catalog, "application/ai-catalog+json") }),
        );
    if oauth.is_none() {
        // Keys alone: the metadata says bearer keys, and no issuer.
        let metadata = axum::Json(discovery::key_metadata(&base));
        router = router.route(
            discovery::RESOURCE_METADATA_PATH,
            get(move || async move { metadata.clone() }),
        );
    }
    if let Some(oauth) = oauth {
        // RFC 9728: at the well-known path, and with the resource's path
        // appended (clients try both).
        let metadata = axum::Json(oauth.metadata());
        let again = metadata.clone();
        router = router
            .route(
                "/.well-known/oauth-protected-resource",
                get(move || async move { metadata.clone() }),
            )
            .route(
                "/.well-known/oauth-protected-resource/mcp",
                get(move || async move { again.clone() }),
            );
    }
    let router = router
        .route("/healthz", get(move || async move { health.clone() }))
        .route("/readyz", get(readyz).with_state(app.clone()))
        .route(
            "/metrics",
            get(metrics::metrics).with_state(metrics::MetricsAccess {
                app: app.clone(),
                loopback: options.addr.ip().is_loopback(),
                token: options.metrics_token.clone(),
            }),
        )
        .layer(axum::middleware::from_fn(request_id::request_id));
    Routes { router, inflight }
}

/// How often a server looks for practice work nobody is doing.
const RESUME_EVERY: Duration = Duration::from_secs(60);

/// How long the end of a shutdown waits for sandbox and model work to
/// stop: each stops at its next await, a wasm call by its own deadline.
const WORK_GRACE: Duration = Duration::from_secs(5);

/// How long `/readyz` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `/readyz`: ready to serve when the database answers (within
/// [`READY_TIMEOUT`]) and the sandbox artifact is loaded; 503 otherwise,
/// so a load balancer sends no traffic here. `/healthz` only says alive.
async fn readyz(axum::extract::State(app): axum::extract::State<App>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let crate::app::Readiness { database, artifact } = app.readiness(READY_TIMEOUT).await;
    let body = serde_json::json!({
        "status": if database.is_ok() { "ready" } else { "not_ready" },
        "database": database.as_ref().map_or_else(|e| e.clone(), |()| "ok".to_owned()),
        "artifact": {"sha256": artifact.sha256, "cache_key": artifact.cache_key},
    });
    let status = if database.is_ok() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

/// Serve until `shutdown` resolves, then drain in-flight requests (up to
/// the drain deadline) and return.
/// Practice work owed from before a restart resumes first.
pub async fn run(
    practice: Practice,
    listener: TcpListener,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    check_exposure(practice.app(), &options).await?;
    // Replicas on one PostgreSQL tell each other of changes.
    practice.app().replicas().start();
    practice.app().replicas().listen();
    match practice.resume().await {
        Ok(0) => {}
        Ok(n) => tracing::info!("resumed practice work of {n} tenant(s)"),
        Err(e) => tracing::error!("cannot resume practice work: {e}"),
    }
    // Work owed by a replica that died resumes here once its lease ends.
    {
        let practice = practice.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(RESUME_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                if let Ok(n @ 1..) = practice.resume().await {
                    tracing::info!("took over practice work of {n} tenant(s)");
                }
            }
        });
    }
    let sessions = CancellationToken::new();
    let app = practice.app().clone();
    let routes = router(practice, &options, sessions.child_token());
    let stop = CancellationToken::new();
    let trigger = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        trigger.cancel();
    });
    server::serve(
        listener,
        routes.router,
        &options.limits,
        stop,
        routes.inflight,
        sessions,
    )
    .await?;
    // Tasks still running here end now, saying why, rather than later as
    // abandoned (a client polling another replica, or this one after a
    // restart, reads the reason).
    match app.tasks().shutdown().await {
        Ok(0) => {}
        Ok(n) => tracing::info!("ended {n} running task(s) as failed: shutting down"),
        Err(e) => tracing::error!("cannot end the running tasks: {e}"),
    }
    // Requests past the drain deadline still hold sandbox or model work:
    // it stops now, before the runtime that drives it ends.
    if !app.halt(WORK_GRACE).await {
        tracing::warn!(
            "sandbox or model work still running {} s after the shutdown; exiting anyway",
            WORK_GRACE.as_secs()
        );
    }
    Ok(())
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
