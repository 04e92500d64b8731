//! The HTTP face: an axum router with MCP (Streamable HTTP, via rmcp) at
//! `/mcp` and `/healthz`, bearer-key auth per tenant, and graceful shutdown.
//!
//! `run(listener, shutdown)` lets the caller own the socket and the signal
//! (tests bind port 0). No business logic lives here.

mod auth;

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
use crate::mcp::McpServer;

pub use auth::AuthMode;

/// Largest JSON-RPC request body accepted.
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// How the server is exposed.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The address clients use; its host is allowed in `Host` headers.
    pub addr: SocketAddr,
    /// Extra `Host` values to accept (public names behind a proxy).
    pub allowed_hosts: Vec<String>,
    /// Serve the MCP conformance suite's fixtures too.
    pub conformance: bool,
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

/// Decide the auth mode for `addr`: open on loopback with no tenants,
/// keys otherwise; refuse a public address without tenants.
pub async fn auth_mode(app: &App, addr: SocketAddr) -> Result<AuthMode, ServeError> {
    let tenants = app.store.tenant_count().await?;
    match (tenants, addr.ip().is_loopback()) {
        (0, true) => Ok(AuthMode::OpenLocal),
        (0, false) => Err(ServeError::NoAuth(addr)),
        _ => Ok(AuthMode::Keys),
    }
}

/// The router: `/mcp` and `/healthz`.
pub fn router(app: App, auth: AuthMode, options: &ServeOptions, ct: CancellationToken) -> Router {
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
    config.cancellation_token = ct.child_token();
    config.allowed_hosts = allowed_hosts;
    config.allowed_origins = vec!["http://localhost:*".into(), "http://127.0.0.1:*".into()];
    config.max_request_body_bytes = MAX_BODY_BYTES;
    config.sse_keep_alive = Some(Duration::from_secs(15));
    let mcp_app = app.clone();
    let mcp = StreamableHttpService::new(
        {
            let conformance = options.conformance;
            move || Ok(McpServer::per_request(mcp_app.clone()).with_conformance(conformance))
        },
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Router::new()
        .nest_service("/mcp", mcp)
        .layer(axum::middleware::from_fn_with_state(
            auth::AuthState { app, mode: auth },
            auth::require_tenant,
        ))
        .route("/healthz", get(|| async { "ok" }))
}

/// Serve until `shutdown` resolves, then drain in-flight requests.
pub async fn run(
    app: App,
    listener: TcpListener,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let auth = auth_mode(&app, options.addr).await?;
    let ct = CancellationToken::new();
    let router = router(app, auth, &options, ct.clone());
    let stop = ct.clone();
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            stop.cancel();
        })
        .await?;
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
