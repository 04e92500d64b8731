//! Loading the Python-on-WASI artifact, through a precompile cache.
//!
//! Compiling the ~20 MB CPython component takes seconds, so it is never done
//! on the request path. The first load precompiles it into a `.cwasm` under
//! the cache directory; later loads mmap that file in milliseconds.
//!
//! The cache key carries everything that makes a `.cwasm` valid: the
//! artifact's sha256 (builds are not byte-reproducible, so nothing else
//! identifies one), this crate's engine-config version, and wasmtime's own
//! compatibility hash of the engine settings.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::SandboxError;

/// Bump when the engine configuration in `engine.rs` changes meaning.
const ENGINE_CONFIG_VERSION: u32 = 1;

/// What `python-wasm/build.sh` records next to the artifact.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct ArtifactManifest {
    /// sha256 of the `.wasm` file, hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// The componentize-py version that built it.
    pub componentize_py: String,
}

/// A loaded, compiled artifact.
pub struct LoadedArtifact {
    /// The compiled component.
    pub component: Component,
    /// sha256 of the artifact file.
    pub sha256: String,
    /// Key of the `.cwasm` in the cache.
    pub cache_key: String,
    /// Whether this load had to precompile (a cache miss).
    pub compiled_now: bool,
}

/// The manifest path for an artifact: `runtime.wasm` → `runtime.json`.
pub fn manifest_path(artifact: &Path) -> PathBuf {
    artifact.with_extension("json")
}

/// Where the artifact comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Artifact {
    /// `runtime.wasm` on disk, its `runtime.json` manifest beside it.
    File(PathBuf),
    /// The copy compiled into this binary (see `build.rs`), so that a
    /// copied or installed binary carries its sandbox.
    Embedded,
}

impl Artifact {
    /// The embedded artifact and its manifest, when this binary has them.
    pub fn embedded() -> Option<(&'static [u8], &'static str)> {
        #[cfg(embedded_artifact)]
        {
            Some((
                include_bytes!(env!("AUTOLEARN_EMBEDDED_WASM")),
                include_str!(env!("AUTOLEARN_EMBEDDED_JSON")),
            ))
        }
        #[cfg(not(embedded_artifact))]
        {
            None
        }
    }

    /// For messages: the file, or `<embedded>`.
    pub fn label(&self) -> PathBuf {
        match self {
            Self::File(p) => p.clone(),
            Self::Embedded => PathBuf::from("<embedded>"),
        }
    }

    /// The bytes and the manifest's text.
    fn read(&self) -> Result<(std::borrow::Cow<'static, [u8]>, String), SandboxError> {
        let missing = |path: &Path, source| SandboxError::ArtifactMissing {
            path: path.to_owned(),
            source,
        };
        match self {
            Self::File(wasm) => {
                let bytes = std::fs::read(wasm).map_err(|e| missing(wasm, e))?;
                let json = manifest_path(wasm);
                let text = std::fs::read_to_string(&json).map_err(|e| missing(&json, e))?;
                Ok((bytes.into(), text))
            }
            Self::Embedded => {
                let (bytes, text) = Self::embedded().ok_or_else(|| {
                    missing(
                        &self.label(),
                        std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            "this binary was built without the artifact",
                        ),
                    )
                })?;
                Ok((bytes.into(), text.to_owned()))
            }
        }
    }
}

/// Read, verify and compile (or load from cache) the artifact.
pub fn load(
    engine: &Engine,
    artifact: &Artifact,
    cache_dir: &Path,
) -> Result<LoadedArtifact, SandboxError> {
    let (bytes, manifest) = artifact.read()?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    verify_manifest(&artifact.label(), &manifest, &sha256)?;

    let cache_key = cache_key(engine, &sha256);
    let cwasm = cache_dir.join(format!("{cache_key}.cwasm"));
    if cwasm.exists() {
        // SAFETY: the file is our own precompile output, written atomically
        // below into the data dir and named by a key that pins the engine.
        match unsafe { Component::deserialize_file(engine, &cwasm) } {
            Ok(component) => {
                return Ok(LoadedArtifact {
                    component,
                    sha256,
                    cache_key,
                    compiled_now: false,
                });
            }
            Err(e) => {
                tracing::warn!(path = %cwasm.display(), "stale precompile cache, rebuilding: {e:#}")
            }
        }
    }

    tracing::info!(artifact = %artifact.label().display(), "precompiling the sandbox artifact (once per build)");
    let compiled = engine.precompile_component(&bytes)?;
    write_atomically(&cwasm, &compiled)?;
    // SAFETY: as above; we just wrote it.
    let component = unsafe { Component::deserialize_file(engine, &cwasm) }?;
    Ok(LoadedArtifact {
        component,
        sha256,
        cache_key,
        compiled_now: true,
    })
}

fn verify_manifest(artifact: &Path, text: &str, actual: &str) -> Result<(), SandboxError> {
    let manifest: ArtifactManifest =
        serde_json::from_str(text).map_err(|e| SandboxError::ArtifactMissing {
            path: manifest_path(artifact),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
    if manifest.sha256 != actual {
        return Err(SandboxError::ArtifactTampered {
            path: artifact.to_owned(),
            expected: manifest.sha256,
            actual: actual.to_owned(),
        });
    }
    Ok(())
}

/// The precompile cache key for this artifact on this engine.
pub fn cache_key(engine: &Engine, artifact_sha256: &str) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    let engine_hash = h.finish();
    let key =
        format!("{artifact_sha256}:engine-config-v{ENGINE_CONFIG_VERSION}:{engine_hash:016x}");
    hex::encode(&Sha256::digest(key.as_bytes())[..16])
}

pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SandboxError> {
    let err = |source| SandboxError::Cache {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    // Unique per writer, not just per process: two threads precompiling on a
    // cold cache must never share (and truncate) one temporary file, or the
    // first one's mmap of the renamed file dies with SIGBUS.
    static WRITERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}.{n}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}
