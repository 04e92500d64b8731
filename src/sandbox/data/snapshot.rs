//! The data runtime's own snapshot: the fetched interpreter, run once with
//! numpy, pandas and the harness imported, then written out as a new module
//! whose memory image already holds all of that (wasmtime-wizer). Every call
//! instantiates this module copy-on-write, so no call pays for an import.
//!
//! The snapshot is made on a plain engine (no pool, no fuel: nothing
//! untrusted runs here, only our boot code), then compiled for the call
//! engine and cached by [`super::DataRuntime`].

use std::path::Path;

use wasmtime::{Caller, Config, Engine, Instance, Linker, Module, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};
use wasmtime_wizer::{InstanceState, SnapshotVal, ValType, Wizer};

use super::super::SandboxError;

/// Where the guest finds its standard library (wasi-libc preopens it by
/// this path, and the interpreter's own snapshot already holds it as fd 3).
pub const STDLIB_GUEST: &str = "/usr/local/lib";
/// The interpreter's argv[0], as the package's own runner gives it.
pub const ARGV0: &str = "/usr/local/bin/python.wasm";
/// The wasm stack the interpreter needs (pandas' imports recurse deeply).
pub const WASM_STACK: usize = 8 << 20;

/// Store state while the snapshot is made.
pub(super) struct BootState {
    pub wasi: WasiP1Ctx,
}

/// A WASI context with only what the interpreter needs: its argv, the
/// standard library read-only, stdin as given, and captured output.
pub(super) fn wasi_ctx(
    stdlib_dir: &Path,
    stdin: Vec<u8>,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
) -> Result<WasiCtxBuilder, SandboxError> {
    let mut wasi = WasiCtxBuilder::new();
    wasi.args(&[ARGV0])
        .stdin(MemoryInputPipe::new(stdin))
        .stdout(stdout)
        .stderr(stderr)
        .preopened_dir(stdlib_dir, STDLIB_GUEST, FsPerms::ReadOnly)
        .map_err(|e| SandboxError::InvalidLimits(format!("the data runtime's stdlib: {e:#}")))?;
    Ok(wasi)
}

/// Link WASI preview 1 and the package's `host.call` door. The door is the
/// only other import; `door` decides what it does.
pub(super) fn link<T: Send + 'static>(
    engine: &Engine,
    wasi: impl Fn(&mut T) -> &mut WasiP1Ctx + Copy + Send + Sync + 'static,
    door: impl Fn(Caller<'_, T>, i32, i32, i32, i32) -> i32 + Send + Sync + 'static,
) -> wasmtime::Result<Linker<T>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, wasi)?;
    linker.func_wrap("host", "call", door)?;
    Ok(linker)
}

/// Run one turn of `code` in `instance`: the interpreter's `turn` export
/// runs the source in `__main__` and returns its status (0 when it ended
/// without an exception).
pub(super) async fn turn<T: Send>(
    store: &mut Store<T>,
    instance: &Instance,
    code: &[u8],
) -> wasmtime::Result<i32> {
    let alloc = instance.get_typed_func::<i32, i32>(&mut *store, "host_alloc")?;
    let turn = instance.get_typed_func::<(i32, i32), i32>(&mut *store, "turn")?;
    let memory = instance
        .get_memory(&mut *store, "memory")
        .ok_or_else(|| wasmtime::format_err!("the interpreter exports no memory"))?;
    let len = i32::try_from(code.len())?;
    let ptr = alloc.call_async(&mut *store, len).await?;
    let at = usize::try_from(ptr.cast_unsigned())?;
    if ptr == 0 {
        wasmtime::bail!("the interpreter could not allocate {len} bytes for a turn");
    }
    memory.write(&mut *store, at, code)?;
    turn.call_async(&mut *store, (ptr, len)).await
}

/// The plain engine the snapshot is made on: the interpreter's features
/// (exceptions), its stack, nothing else.
fn boot_engine() -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config
        .wasm_exceptions(true)
        .max_wasm_stack(WASM_STACK)
        .async_stack_size(WASM_STACK + (2 << 20));
    Engine::new(&config)
}

/// Make the pre-initialized module: instantiate `interpreter`, run `boot`
/// as one turn, and snapshot the result. Fails with the boot's output when
/// the boot raised.
pub async fn preinitialize(
    interpreter: &[u8],
    stdlib_dir: &Path,
    boot: &str,
) -> Result<Vec<u8>, SandboxError> {
    let wizer = Wizer::new();
    let (cx, instrumented) = wizer.instrument(interpreter)?;
    let engine = boot_engine()?;
    let module = Module::new(&engine, &instrumented)?;
    let linker = link(
        &engine,
        |s: &mut BootState| &mut s.wasi,
        |_: Caller<'_, BootState>, _, _, _, _| -1,
    )?;
    let stdout = MemoryOutputPipe::new(1 << 20);
    let stderr = MemoryOutputPipe::new(1 << 20);
    let wasi = wasi_ctx(stdlib_dir, Vec::new(), stdout.clone(), stderr.clone())?.build_p1();
    let mut store = Store::new(&engine, BootState { wasi });
    let instance = linker.instantiate_async(&mut store, &module).await?;
    let status = turn(&mut store, &instance, boot.as_bytes()).await?;
    if status != 0 {
        return Err(SandboxError::InvalidLimits(format!(
            "the data runtime's boot failed (status {status}): {}{}",
            String::from_utf8_lossy(&stdout.contents()),
            String::from_utf8_lossy(&stderr.contents())
        )));
    }
    let snapshot = wizer
        .snapshot(&cx, &mut Snapshotting { store, instance })
        .await?;
    Ok(snapshot)
}

/// What wizer reads of the booted instance: its globals and its memory.
struct Snapshotting {
    store: Store<BootState>,
    instance: Instance,
}

impl InstanceState for Snapshotting {
    async fn global_get(&mut self, name: &str, _: ValType) -> SnapshotVal {
        let value = self
            .instance
            .get_global(&mut self.store, name)
            .map(|g| g.get(&mut self.store));
        match value {
            Some(wasmtime::Val::I32(x)) => SnapshotVal::I32(x),
            Some(wasmtime::Val::I64(x)) => SnapshotVal::I64(x),
            Some(wasmtime::Val::F32(x)) => SnapshotVal::F32(x),
            Some(wasmtime::Val::F64(x)) => SnapshotVal::F64(x),
            Some(wasmtime::Val::V128(x)) => SnapshotVal::V128(x.as_u128()),
            // wizer exports every global it asks for; the interpreter's
            // two are i32. Anything else is a different module.
            _ => unreachable!("wizer asked for a global the instrumented module lacks: {name}"),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        match self.instance.get_memory(&mut self.store, name) {
            Some(memory) => contents(memory.data(&self.store)),
            None => contents(&[]),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

    use super::*;

    /// A probe of the fetched interpreter, run by hand:
    /// `cargo test --lib data::snapshot -- --ignored --nocapture`.
    #[tokio::test]
    #[ignore = "needs the fetched data runtime"]
    async fn probe() {
        let dir = super::super::fetch::default_dir();
        let found =
            super::super::fetch::installed(&dir).expect("run `autolearn runtime fetch data`");
        let bytes = std::fs::read(&found.interpreter).unwrap();
        let engine = boot_engine().unwrap();
        let t = std::time::Instant::now();
        let module = Module::new(&engine, &bytes).unwrap();
        eprintln!("compiled in {:?}", t.elapsed());
        let linker = link(
            &engine,
            |s: &mut BootState| &mut s.wasi,
            |_: Caller<'_, BootState>, a, b, c, d| {
                eprintln!("door {a} {b} {c} {d}");
                -1
            },
        )
        .unwrap();
        let out = MemoryOutputPipe::new(1 << 20);
        let err = MemoryOutputPipe::new(1 << 20);
        let wasi = wasi_ctx(
            &found.stdlib_dir,
            b"stdin!".to_vec(),
            out.clone(),
            err.clone(),
        )
        .unwrap()
        .build_p1();
        let mut store = Store::new(&engine, BootState { wasi });
        let instance = linker.instantiate_async(&mut store, &module).await.unwrap();
        let code = std::env::var("PROBE").unwrap_or_else(|_| {
            "import sys, time\nt=time.perf_counter()\nimport _host\nprint(dir(_host), _host.__doc__)\nprint(sys.stdin.read())\nimport numpy, pandas\nprint('import', time.perf_counter()-t)".into()
        });
        let t = std::time::Instant::now();
        let status = turn(&mut store, &instance, code.as_bytes()).await.unwrap();
        eprintln!("status {status} in {:?}", t.elapsed());
        eprintln!("{}", String::from_utf8_lossy(&out.contents()));
        eprintln!("{}", String::from_utf8_lossy(&err.contents()));
    }
}
