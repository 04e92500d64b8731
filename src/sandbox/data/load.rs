//! Loading the data runtime: the compiled snapshot from the cache, or the
//! snapshot made ([`super::snapshot::preinitialize`]) and compiled on a
//! miss, once per runtime, harness and build.

use std::path::Path;

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use super::fetch;
use crate::sandbox::SandboxError;

/// The core harness, shared with the core runtime: the data runtime loads
/// the very same file at boot.
const HARNESS: &str = include_str!("../../../runtime/python/harness.py");
/// What the boot adds around it.
const BOOT: &str = include_str!("boot.py");
/// Bumped when the snapshot's making changes in a way the sources do not show.
const SNAPSHOT_VERSION: u32 = 1;
/// What the snapshot is made from: the pinned interpreter, the harness and
/// the boot. A change to any of them makes a new snapshot.
pub(super) fn snapshot_key() -> String {
    let mut h = Sha256::new();
    h.update(fetch::WHEEL_SHA256.as_bytes());
    h.update(SNAPSHOT_VERSION.to_le_bytes());
    h.update(HARNESS.as_bytes());
    h.update(BOOT.as_bytes());
    hex::encode(h.finalize())
}

/// The boot turn: the harness's source, then the boot, each compiled
/// under its own file name (tracebacks name them, not `<turn 1>`). A JSON
/// string is a Python string literal too.
fn boot_code() -> String {
    let literal = |s: &str| serde_json::Value::from(s).to_string();
    format!(
        "_HARNESS_SOURCE = {}\n_HARNESS_FILE = \"/autolearn/harness.py\"\n\
         exec(compile({}, \"/autolearn/boot.py\", \"exec\"), globals())\n",
        literal(HARNESS),
        literal(BOOT)
    )
}

pub(super) fn load_cached(engine: &Engine, cwasm: &Path) -> Option<Module> {
    if !cwasm.exists() {
        return None;
    }
    // SAFETY: our own precompile output, written atomically into the cache
    // and named by a key that pins the engine and the snapshot's sources.
    match unsafe { Module::deserialize_file(engine, cwasm) } {
        Ok(module) => Some(module),
        Err(e) => {
            tracing::warn!(path = %cwasm.display(), "stale data runtime cache, rebuilding: {e:#}");
            None
        }
    }
}

pub(super) async fn build(
    engine: &Engine,
    found: &fetch::Installed,
    cwasm: &Path,
) -> Result<Module, SandboxError> {
    tracing::info!("preparing the data runtime (once per runtime and build; a few minutes)");
    let interpreter =
        std::fs::read(&found.interpreter).map_err(|source| SandboxError::ArtifactMissing {
            path: found.interpreter.clone(),
            source,
        })?;
    let booted =
        super::snapshot::preinitialize(&interpreter, &found.stdlib_dir, &boot_code()).await?;
    let compiled = engine.precompile_module(&booted)?;
    crate::sandbox::artifact::write_atomically(cwasm, &compiled)?;
    // SAFETY: as in `load_cached`; we just wrote it.
    Ok(unsafe { Module::deserialize_file(engine, cwasm) }?)
}
