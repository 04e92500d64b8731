//! The per-call store state: WASI context, resource table, and a memory
//! limiter that remembers whether it refused a grow (so a failed call can be
//! reported as `memory_limit` rather than a generic crash).

use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{
    HostMonotonicClock, HostWallClock, ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView,
    WasiView,
};

use super::{Determinism, ResourceLimits};

pub struct CallState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limiter: RecordingLimiter,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

pub struct RecordingLimiter {
    pub inner: StoreLimits,
    pub memory_refused: bool,
}

impl RecordingLimiter {
    /// A limiter for one call: its memory cap, and a refused grow reported
    /// to the guest (as `MemoryError`), never a trap.
    pub fn for_call(limits: &ResourceLimits) -> Self {
        Self {
            inner: StoreLimitsBuilder::new()
                .memory_size(usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX))
                .trap_on_grow_failure(false)
                .build(),
            memory_refused: false,
        }
    }
}

/// Give a call the randomness and clocks its determinism asks for: the
/// host's (the builder's defaults), or a seeded RNG and frozen clocks.
pub fn apply_determinism(wasi: &mut WasiCtxBuilder, determinism: Determinism) {
    if let Determinism::Seeded(seed) = determinism {
        wasi.secure_random(StdRng::seed_from_u64(seed))
            .insecure_random(StdRng::seed_from_u64(seed.rotate_left(32)))
            .insecure_random_seed(u128::from(seed))
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock);
    }
}

impl ResourceLimiter for RecordingLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = self.inner.memory_growing(current, desired, maximum)?;
        if !ok {
            self.memory_refused = true;
        }
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// Clocks stopped at 2025-01-01T00:00:00Z, for deterministic runs.
pub struct FrozenClock;

const FROZEN_EPOCH_SECS: u64 = 1_735_689_600;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }
    fn now(&self) -> Duration {
        Duration::from_secs(FROZEN_EPOCH_SECS)
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}
