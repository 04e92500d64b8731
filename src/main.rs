//! The `autolearn` binary: logging, then the CLI. Everything else is in the
//! library, so tests and benchmarks use the same code.
//!
//! Logs go to stderr, filtered by `AUTOLEARN_LOG` (default `warn`; `info`
//! adds one line per HTTP request). `AUTOLEARN_LOG_FORMAT=json` writes one
//! JSON object per event, with the fields of its spans (an HTTP request's
//! `request_id`, method and path), for a log pipeline.

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // One TLS provider for every HTTPS client of the process (reqwest for
    // OpenAI-compatible APIs and MCP over HTTP, sqlx for PostgreSQL):
    // rustls cannot pick one by itself when its dependents enable several.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let filter =
        EnvFilter::try_from_env("AUTOLEARN_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("AUTOLEARN_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        logs.init();
    }
    autolearn::cli::main().await
}
