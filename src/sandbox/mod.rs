//! The sandbox: CPython on WASI under wasmtime, one fresh instance per call.
//!
//! This module knows nothing of skills, SQL, HTTP or MCP. It takes Python
//! source, an entry function and JSON, and gives back JSON or a typed
//! [`CallError`]. Every call gets a new `Store` instantiated from one
//! `InstancePre`, with fuel, an epoch deadline, a memory cap, capped
//! stdout/stderr, no preopened directories, no environment and no network
//! (the `WasiCtxBuilder` defaults, which we never loosen). A hostile skill
//! can waste only its own budget.
//!
//! Over 400 lines because a call's whole path through wasmtime (admission,
//! instantiation, fuel, the deadline, the result) reads best in one file;
//! the engine, artifact, limits and errors are modules of their own.

mod artifact;
mod bindings;
mod compiled;
pub mod data;
mod engine;
mod error;
mod limits;
mod outcome;
mod state;
mod types;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Semaphore;
use wasmtime::component::Linker;
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{ResourceTable, WasiCtxBuilder};

pub use artifact::{Artifact, ArtifactManifest, manifest_path};
pub use bindings::Dependency;
pub use error::{CallError, ErrorKind, GuestFault, SandboxError};
pub use limits::{Determinism, ResourceLimits};
pub use types::{ArtifactInfo, Coverage, Finding, RunOutput, SkillCode, TestCase, TestReport};

pub use crate::runtime::Runtime;
use bindings::{SkillRuntime, SkillRuntimePre};
use compiled::CodeCache;
use data::{DataConfig, DataRuntime, DataSlot};
use outcome::{CallMeta, classify_trap, finish, guest_fault, lossy, overflowed};
use state::{CallState, RecordingLimiter, apply_determinism};

/// How to build a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The componentized runtime: `runtime.wasm` with its `runtime.json`
    /// manifest beside it, or the copy embedded in the binary.
    pub artifact: Artifact,
    /// Where precompiled `.cwasm` files are cached.
    pub cache_dir: PathBuf,
    /// Instances that may run at once; further calls wait. Default: 16.
    pub max_concurrency: u32,
    /// The largest per-call memory cap allowed. Default: 1 GiB.
    pub max_memory_bytes: u64,
    /// Where the data runtime is fetched to (`autolearn runtime fetch
    /// data`). Default: `~/.cache/autolearn/runtimes/data`.
    pub data_dir: PathBuf,
}

impl SandboxConfig {
    /// Defaults for an artifact file and cache directory.
    pub fn new(artifact: impl Into<PathBuf>, cache_dir: impl Into<PathBuf>) -> Self {
        Self::with_artifact(Artifact::File(artifact.into()), cache_dir)
    }

    /// Defaults for an artifact (a file or the embedded copy).
    pub fn with_artifact(artifact: Artifact, cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            artifact,
            cache_dir: cache_dir.into(),
            max_concurrency: 16,
            max_memory_bytes: 1 << 30,
            data_dir: data::fetch::default_dir(),
        }
    }
}

/// A pool of sandboxed CPython instances. `Send + Sync`; every method takes
/// `&self`. Calls are async and do CPU work between awaits: a server should
/// run them off its I/O threads (see `App::run_skill`).
pub struct Sandbox {
    engine: Engine,
    pre: SkillRuntimePre<CallState>,
    /// One permit per pooled instance slot: callers queue here rather than
    /// fail to instantiate (the back-pressure wasmtime recommends).
    slots: Arc<Semaphore>,
    max_memory_bytes: u64,
    info: ArtifactInfo,
    code: CodeCache,
    data: DataSlot,
    _ticker: engine::EpochTicker,
}

impl Sandbox {
    /// Build the engine and load the artifact, precompiling it on a cache
    /// miss (seconds) or mapping the cached `.cwasm` (milliseconds).
    pub fn new(config: &SandboxConfig) -> Result<Self, SandboxError> {
        let started = Instant::now();
        if config.max_concurrency == 0 {
            return Err(SandboxError::InvalidLimits(
                "max_concurrency must be at least 1".into(),
            ));
        }
        let engine = engine::build(config.max_concurrency, config.max_memory_bytes)?;
        let loaded = artifact::load(&engine, &config.artifact, &config.cache_dir)?;
        let mut linker = Linker::<CallState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        let pre = SkillRuntimePre::new(linker.instantiate_pre(&loaded.component)?)?;
        let ticker = engine::EpochTicker::start(engine.clone()).map_err(|e| {
            SandboxError::InvalidLimits(format!("cannot start the epoch ticker: {e}"))
        })?;
        Ok(Self {
            engine,
            pre,
            slots: Arc::new(Semaphore::new(config.max_concurrency as usize)),
            max_memory_bytes: config.max_memory_bytes,
            code: CodeCache::new(),
            data: DataSlot::new(DataConfig {
                dir: config.data_dir.clone(),
                // Beside the runtime, not in the data dir: every data dir
                // (every server, every test) shares one compiled snapshot.
                cache_dir: config.data_dir.join("compiled"),
                max_concurrency: config.max_concurrency,
                max_memory_bytes: config.max_memory_bytes,
            }),
            info: ArtifactInfo {
                sha256: loaded.sha256,
                cache_key: loaded.cache_key,
                compiled_now: loaded.compiled_now,
                load_time: started.elapsed(),
            },
            _ticker: ticker,
        })
    }

    /// Facts about the loaded artifact.
    pub fn artifact(&self) -> &ArtifactInfo {
        &self.info
    }

    /// The data runtime: start loading it now if it is fetched, so the
    /// first data call does not wait (a server calls this at start).
    pub fn warm_data(&self) {
        self.data.warm();
    }

    /// The data runtime, loaded (waiting for a load under way at most
    /// `wait`), or why not.
    pub async fn data_runtime(&self, wait: Duration) -> Result<Arc<DataRuntime>, CallError> {
        self.data.get(wait).await
    }

    /// Call `code.entry(**input)`; `input_json` must be a JSON object.
    ///
    /// The skill's source is compiled once per process (the first call
    /// spends part of its budget on that); later calls load the code object.
    pub async fn run(
        &self,
        code: SkillCode<'_>,
        input_json: &str,
        limits: &ResourceLimits,
        determinism: Determinism,
    ) -> Result<RunOutput, CallError> {
        self.run_in("", code, input_json, limits, determinism).await
    }

    /// [`Sandbox::run`] with its compiled code kept in `scope`'s part of the
    /// code cache (the tenant it runs for; see `compiled.rs`), so that
    /// callers of one scope neither evict nor observe another's.
    pub async fn run_in(
        &self,
        scope: &str,
        code: SkillCode<'_>,
        input_json: &str,
        limits: &ResourceLimits,
        determinism: Determinism,
    ) -> Result<RunOutput, CallError> {
        if code.runtime == Runtime::Data {
            let data = self.data.get(limits.deadline).await?;
            return data.run(code, input_json, limits, determinism).await;
        }
        let started = Instant::now();
        let (compiled, compile_fuel) = self.compiled(scope, code, limits).await?;
        let remaining = ResourceLimits {
            fuel: limits.fuel.saturating_sub(compile_fuel).max(1),
            deadline: limits.deadline.saturating_sub(started.elapsed()),
            ..limits.clone()
        };
        let outcome = self
            .call(&remaining, determinism, async |rt, store| {
                rt.call_run_compiled(
                    store,
                    code.name,
                    &compiled,
                    code.source,
                    code.entry,
                    input_json,
                    code.deps,
                )
                .await
            })
            .await
            .and_then(|(result, mut call)| {
                call.fuel_used += compile_fuel;
                finish(result.map_err(guest_fault), call, &remaining, started)
            });
        // The budget is the caller's: report its limits, not what was left.
        outcome.map_err(|e| match e {
            CallError::OutOfFuel { .. } => CallError::OutOfFuel { limit: limits.fuel },
            CallError::Timeout { .. } => CallError::Timeout {
                limit: limits.deadline,
            },
            other => other,
        })
    }

    /// The skill's code object: from the cache, or compiled now in an
    /// instance of its own (returning the fuel that took).
    async fn compiled(
        &self,
        scope: &str,
        code: SkillCode<'_>,
        limits: &ResourceLimits,
    ) -> Result<(std::sync::Arc<[u8]>, u64), CallError> {
        let key = CodeCache::key(code.name, code.source);
        if let Some(compiled) = self.code.get(scope, &key) {
            return Ok((compiled, 0));
        }
        let (result, call) = self
            .call(limits, Determinism::Seeded(0), async |rt, store| {
                rt.call_compile(store, code.name, code.source).await
            })
            .await?;
        let compiled: std::sync::Arc<[u8]> =
            result.map_err(|f| CallError::Guest(guest_fault(f)))?.into();
        self.code.insert(scope, key, compiled.clone());
        Ok((compiled, call.fuel_used))
    }

    /// A fresh instance and nothing else: instantiate, then drop (which
    /// resets its memory slot). The floor under every call, for profiles.
    pub async fn instantiate_only(
        &self,
        runtime: Runtime,
        limits: &ResourceLimits,
    ) -> Result<Duration, CallError> {
        if runtime == Runtime::Data {
            let data = self.data.get(limits.deadline).await?;
            return data.instantiate_only(limits).await;
        }
        let started = Instant::now();
        self.call(limits, Determinism::Seeded(0), async |_, _| Ok(()))
            .await?;
        Ok(started.elapsed())
    }

    /// Run a code cell with `inputs_json` (an object) bound as variables;
    /// the output is `{"value": ..., "names": [...]}` (see the WIT world).
    pub async fn exec(
        &self,
        runtime: Runtime,
        code: &str,
        inputs_json: &str,
        limits: &ResourceLimits,
        determinism: Determinism,
    ) -> Result<RunOutput, CallError> {
        if runtime == Runtime::Data {
            let data = self.data.get(limits.deadline).await?;
            return data.exec(code, inputs_json, limits, determinism).await;
        }
        let started = Instant::now();
        let (result, call) = self
            .call(limits, determinism, async |rt, store| {
                rt.call_exec(store, code, inputs_json).await
            })
            .await?;
        finish(result.map_err(guest_fault), call, limits, started)
    }

    /// Compose code cells into one skill module (see the WIT world).
    pub async fn compose<C: Serialize>(
        &self,
        cells: &[C],
        params: &[String],
        name: &str,
        doc: &str,
        limits: &ResourceLimits,
    ) -> Result<String, CallError> {
        let cells = serde_json::to_string(cells).map_err(|e| CallError::BadInput(e.to_string()))?;
        let params =
            serde_json::to_string(params).map_err(|e| CallError::BadInput(e.to_string()))?;
        let (result, _) = self
            .call(limits, Determinism::Seeded(0), async |rt, store| {
                rt.call_compose(store, &cells, &params, name, doc).await
            })
            .await?;
        result.map_err(|f| CallError::Guest(guest_fault(f)))
    }

    /// Static analysis of `code.source` inside the sandbox (imports of its
    /// `deps` are allowed).
    pub async fn check(
        &self,
        code: SkillCode<'_>,
        limits: &ResourceLimits,
    ) -> Result<Vec<Finding>, CallError> {
        if code.runtime == Runtime::Data {
            let data = self.data.get(limits.deadline).await?;
            return data.check(code, limits).await;
        }
        let (json, _) = self
            .call(limits, Determinism::Seeded(0), async |rt, store| {
                rt.call_check(store, code.name, code.source, code.deps)
                    .await
            })
            .await?;
        serde_json::from_str(&json).map_err(|e| CallError::Host(format!("check report: {e}")))
    }

    /// Run `cases` against the skill with line coverage on, in one instance.
    pub async fn test(
        &self,
        code: SkillCode<'_>,
        cases: &[TestCase],
        limits: &ResourceLimits,
        determinism: Determinism,
    ) -> Result<TestReport, CallError> {
        if code.runtime == Runtime::Data {
            let data = self.data.get(limits.deadline).await?;
            return data.test(code, cases, limits, determinism).await;
        }
        let cases_json =
            serde_json::to_string(cases).map_err(|e| CallError::BadInput(e.to_string()))?;
        let (json, _) = self
            .call(limits, determinism, async |rt, store| {
                rt.call_test(
                    store,
                    code.name,
                    code.source,
                    code.entry,
                    &cases_json,
                    code.deps,
                )
                .await
            })
            .await?;
        serde_json::from_str(&json).map_err(|e| CallError::Host(format!("test report: {e}")))
    }

    /// Instantiate a fresh instance under `limits`, run `f`, and turn traps
    /// into typed errors. The epoch interrupt stops runaway wasm; the tokio
    /// timeout stops a call parked in a host future (a sleep, a poll). Time
    /// spent waiting for a free slot counts against the deadline: a caller
    /// queued behind others gets what is left of its time, not more.
    async fn call<R>(
        &self,
        limits: &ResourceLimits,
        determinism: Determinism,
        f: impl AsyncFnOnce(&SkillRuntime, &mut Store<CallState>) -> wasmtime::Result<R>,
    ) -> Result<(R, CallMeta), CallError> {
        if limits.memory_bytes > self.max_memory_bytes {
            return Err(CallError::Host(format!(
                "memory cap {} exceeds the sandbox maximum {}",
                limits.memory_bytes, self.max_memory_bytes
            )));
        }
        let stdout = MemoryOutputPipe::new(limits.output_bytes);
        let stderr = MemoryOutputPipe::new(limits.output_bytes);
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(stdout.clone()).stderr(stderr.clone());
        apply_determinism(&mut wasi, determinism);
        let state = CallState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: RecordingLimiter::for_call(limits),
        };
        let (_slot, remaining) = engine::acquire_slot(&self.slots, limits.deadline).await?;
        let mut store = engine::metered_store(
            &self.engine,
            state,
            |s: &mut CallState| &mut s.limiter,
            limits.fuel,
            remaining,
        )?;

        let run = async {
            let rt = self.pre.instantiate_async(&mut store).await?;
            f(&rt, &mut store).await
        };
        let outcome = match tokio::time::timeout(remaining, run).await {
            Ok(outcome) => outcome,
            Err(_elapsed) => {
                return Err(CallError::Timeout {
                    limit: limits.deadline,
                });
            }
        };
        let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        match outcome {
            Ok(r) => Ok((
                r,
                CallMeta {
                    stdout: lossy(&stdout),
                    stderr: lossy(&stderr),
                    fuel_used,
                    overflowed: overflowed(limits, &stdout, &stderr),
                },
            )),
            Err(e) => Err(classify_trap(
                &e,
                limits,
                store.data().limiter.memory_refused,
                &stdout,
                &stderr,
            )),
        }
    }
}
