//! The wasmtime engine, tuned for many short calls on fresh instances, and
//! the epoch ticker that enforces wall-clock deadlines.
//!
//! DESIGN.md has the measurements behind each knob: the pooling allocator
//! with copy-on-write memory images makes instantiation ~0.5 ms, and keeping
//! part of each pooled memory resident avoids the cross-CPU TLB flushes
//! that halve throughput when two threads fault in copy-on-write pages.
//! Without `PAGEMAP_SCAN` the resident part is copied back from the image
//! on every reset, dirty or not (a third of a call's time at 32 MiB); with
//! it only the pages a call wrote are. docs/performance.md has the numbers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
};

/// How often the epoch advances; deadlines are rounded up to this.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Build the engine. `slots` is how many instances may be live at once;
/// `max_memory_bytes` is the largest memory cap any call may ask for.
pub fn build(slots: u32, max_memory_bytes: u64) -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    // A componentize-py component holds a handful of core instances and
    // memories; leave headroom, since the pool reserves per slot anyway.
    pool.total_component_instances(slots)
        .total_core_instances(slots * 16)
        .total_memories(slots * 4)
        .total_tables(slots * 16)
        .max_core_instances_per_component(16)
        .max_memories_per_component(4)
        .max_tables_per_component(16)
        .max_memory_size(usize::try_from(max_memory_bytes).unwrap_or(usize::MAX))
        .linear_memory_keep_resident(32 << 20)
        .table_keep_resident(1 << 20)
        // Reset only the pages a call dirtied (Linux 6.7+; elsewhere the
        // whole keep-resident part is copied back). Needs the vendored
        // wasmtime's patch: vendor/README.md.
        .pagemap_scan(Enabled::Auto);

    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .memory_init_cow(true)
        .cranelift_opt_level(OptLevel::Speed)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config)
}

/// The data runtime's engine: one core module (WASI preview 1) per call,
/// whose image is ~100 MB of code and a heap with numpy and pandas in it.
/// It differs from [`build`] where that module needs it: exceptions (which
/// need the GC heap, from its own pool), a table of 47,157 functions, and
/// the 8 MiB wasm stack the interpreter's deep imports use.
pub fn build_data(
    slots: u32,
    max_memory_bytes: u64,
    wasm_stack: usize,
) -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    // A store that raises a wasm exception gets a GC heap, and GC heaps
    // are memories of the pool: two memories per slot.
    pool.total_core_instances(slots)
        .total_memories(slots * 2)
        .total_tables(slots)
        .total_gc_heaps(slots)
        // The instance's own record holds a pointer per function (89,060).
        .max_core_instance_size(4 << 20)
        .table_elements(1 << 16)
        .max_memory_size(usize::try_from(max_memory_bytes).unwrap_or(usize::MAX))
        .linear_memory_keep_resident(32 << 20)
        .table_keep_resident(1 << 20)
        .pagemap_scan(Enabled::Auto);

    let mut config = Config::new();
    config
        .wasm_exceptions(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .memory_init_cow(true)
        .max_wasm_stack(wasm_stack)
        .async_stack_size(wasm_stack + (2 << 20))
        .cranelift_opt_level(OptLevel::Speed)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EpochTicker {
    /// Start ticking `engine`.
    pub fn start(engine: Engine) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("autolearn-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Wait for a free instance slot, at most `deadline`; the wait counts
/// against the call's time, so the caller gets what is left. A caller that
/// waited too long gets `timeout`.
pub async fn acquire_slot(
    slots: &tokio::sync::Semaphore,
    deadline: Duration,
) -> Result<(tokio::sync::SemaphorePermit<'_>, Duration), super::CallError> {
    let queued = std::time::Instant::now();
    match tokio::time::timeout(deadline, slots.acquire()).await {
        Ok(Ok(slot)) => Ok((slot, deadline.saturating_sub(queued.elapsed()))),
        Ok(Err(_)) => Err(super::CallError::Host(
            "the sandbox is shutting down".into(),
        )),
        Err(_) => Err(super::CallError::Timeout { limit: deadline }),
    }
}

/// A store for one call: its memory limiter, its fuel, and an epoch
/// deadline at what is left of its time (`remaining`).
pub fn metered_store<T: 'static>(
    engine: &Engine,
    state: T,
    limiter: fn(&mut T) -> &mut super::state::RecordingLimiter,
    fuel: u64,
    remaining: Duration,
) -> Result<wasmtime::Store<T>, super::CallError> {
    let mut store = wasmtime::Store::new(engine, state);
    store.limiter(move |s| limiter(s));
    store
        .set_fuel(fuel)
        .map_err(|e| super::CallError::Host(format!("{e:#}")))?;
    store.set_epoch_deadline(deadline_ticks(remaining));
    Ok(store)
}

/// Epoch ticks for a deadline, rounded up, plus one for the tick in flight.
pub fn deadline_ticks(deadline: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos();
    u64::try_from(deadline.as_nanos().div_ceil(tick))
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}
