//! `autolearn runtime fetch data`: fetch the data runtime, verify it, and
//! prepare it (its snapshot made and compiled beside it),
//! so that no server's first data call waits for that.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use super::Failure;
use crate::config::Paths;
use crate::sandbox::data::fetch;
use crate::sandbox::{Sandbox, SandboxConfig};

/// Fetch (a no-op when it is there) and prepare (a no-op when prepared).
pub(super) async fn fetch(
    paths: &Paths,
    python: &str,
    dir: Option<PathBuf>,
) -> Result<(), Failure> {
    let dir = dir.unwrap_or_else(fetch::default_dir);
    let (found, fresh) =
        fetch::fetch(&dir, python).map_err(|e| Failure::failed("fetch", e.to_string()))?;
    let config = SandboxConfig {
        data_dir: found.dir.clone(),
        ..SandboxConfig::with_artifact(paths.artifact.clone(), paths.cache_dir())
    };
    let sandbox = tokio::task::spawn_blocking(move || Sandbox::new(&config))
        .await
        .map_err(|e| Failure::failed("host", e.to_string()))?
        .map_err(|e| Failure::failed("sandbox", e.to_string()))?;
    let data = sandbox
        .data_runtime(Duration::from_secs(3600))
        .await
        .map_err(|e| Failure::failed("sandbox", e.to_string()))?;
    let info = data.artifact();
    println!(
        "{}",
        json!({
            "runtime": "data",
            "dir": found.dir,
            "fetched": fresh,
            "wheel_sha256": fetch::WHEEL_SHA256,
            "prepared_now": info.compiled_now,
            "prepare_seconds": info.load_time.as_secs_f64(),
        })
    );
    Ok(())
}
