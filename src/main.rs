//! The `autolearn` binary: logging, then the CLI. Everything else is in the
//! library, so tests and benchmarks use the same code.

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("AUTOLEARN_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    autolearn::cli::main().await
}
