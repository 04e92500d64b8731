//! Benchmarks. Speed is reported as ratios against a baseline measured in
//! the same run on the same machine, never as absolute promises: the
//! baseline is a native `python3` subprocess doing the same work, which is
//! what a tool without AutoLearn would spawn; or, for isolation, the same
//! tenant's latency with nobody attacking.

mod caller;
mod data;
mod demo;
mod isolation;
pub mod learn;
mod mcp;
mod registry;
mod sandbox;

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;

pub use demo::{DemoBenchArgs, demo};
pub use isolation::{IsolationBenchArgs, isolation};
pub use learn::{LearnBenchArgs, learn};
pub use mcp::{McpBenchArgs, mcp};
pub use registry::{RegistryBenchArgs, registry};
pub use sandbox::SandboxBenchArgs;

/// `autolearn bench sandbox`: the core runtime, or with `--runtime data`
/// the data runtime.
pub async fn sandbox(paths: &crate::config::Paths, args: &SandboxBenchArgs) -> anyhow::Result<()> {
    match args.runtime {
        crate::runtime::Runtime::Core => sandbox::core(paths, args).await,
        crate::runtime::Runtime::Data => data::bench(paths, args).await,
    }
}

/// The workload: small, real text processing, typical of a learned skill.
pub(crate) const SOURCE: &str = r#"import re
from collections import Counter

def summarize(text):
    """Count words and name the most common one."""
    words = re.findall(r"[a-z']+", text.lower())
    top = Counter(words).most_common(1)
    return {"words": len(words), "top": top[0][0] if top else None}
"#;
pub(crate) const INPUT: &str =
    r#"{"text": "the quick brown fox jumps over the lazy dog and the cat"}"#;

/// An app on a throwaway data dir, removed on drop: a benchmark's skills
/// and tenants must not land in the user's registry. The precompile cache
/// is shared, so nothing is recompiled.
pub(crate) struct Scratch {
    pub app: crate::app::App,
    /// The app's store, for what a benchmark does beneath the app (filling
    /// a registry fast, timing a query).
    pub store: crate::store::SkillStore,
    /// The app's sandbox, for the sandbox-only baseline.
    pub sandbox: std::sync::Arc<crate::sandbox::Sandbox>,
    dir: std::path::PathBuf,
    /// Leave the data dir behind, to be inspected.
    pub keep: bool,
}

impl Scratch {
    pub async fn open(paths: &crate::config::Paths, tag: &str) -> anyhow::Result<Self> {
        let dir =
            std::env::temp_dir().join(format!("autolearn-bench-{tag}-{}", std::process::id()));
        let local = crate::config::Paths {
            data_dir: dir.clone(),
            artifact: paths.artifact.clone(),
            cache_dir: Some(paths.cache_dir()),
            // A scratch store of its own, whatever the user configured.
            database_url: None,
        };
        let (store, sandbox) = crate::app::App::open_parts(&local)
            .await
            .context("opening a scratch AutoLearn for the benchmark")?;
        Ok(Self {
            app: crate::app::App::new(store.clone(), sandbox.clone()),
            store,
            sandbox,
            dir,
            keep: false,
        })
    }
}

impl Scratch {
    /// Where its data lives.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A server on a free loopback port, in this process, until `stop` fires.
pub(crate) struct LocalServer {
    pub url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), crate::api::ServeError>>,
}

impl LocalServer {
    pub async fn start(app: &crate::app::App) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let options = crate::api::ServeOptions {
            addr,
            allowed_hosts: vec![],
            conformance: false,
            limits: crate::limits::ServerLimits::default(),
            metrics_token: None,
            oauth: None,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let practice = crate::practice::Practice::shipped(app.clone())?;
        let task = tokio::spawn(crate::api::run(practice, listener, options, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            url: format!("http://{addr}/mcp"),
            stop,
            task,
        })
    }

    /// Shut down and wait for the drain.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Latency percentiles of a sample, in milliseconds.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// Print the header of a latency table.
pub(crate) fn print_header() {
    println!(
        "  {:<26} {:>9} {:>9} {:>9}",
        "", "p50 ms", "p95 ms", "p99 ms"
    );
}

/// Print one row of a latency table.
pub(crate) fn print_row(label: &str, p: &Percentiles) {
    println!("  {label:<26} {:>9.3} {:>9.3} {:>9.3}", p.p50, p.p95, p.p99);
}

impl Percentiles {
    /// Percentiles of `samples` (sorted in place).
    pub fn of(samples: &mut [Duration]) -> Self {
        samples.sort_unstable();
        let at = |q: f64| {
            if samples.is_empty() {
                return 0.0;
            }
            let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples[i].as_secs_f64() * 1e3
        };
        Self {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
        }
    }
}

/// Each bench thread drives its calls with its own single-threaded runtime,
/// so `threads` is exactly the number of cores doing sandbox work.
pub(crate) fn block_on<F: Future>(f: F) -> anyhow::Result<F::Output> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?
        .block_on(f))
}

/// The interpreter `python3` really is. Version managers such as pyenv put
/// a shell-script shim on PATH that costs more than Python's own start-up;
/// timing the shim would flatter the sandbox.
fn real_python3() -> anyhow::Result<String> {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .context("running python3 for the baseline (is it installed?)")?;
    let path = String::from_utf8(out.stdout)?.trim().to_owned();
    anyhow::ensure!(
        out.status.success() && !path.is_empty(),
        "python3 did not report its executable"
    );
    Ok(path)
}

/// Time `python3 -c` running the same function on the same input.
pub(crate) fn python3_baseline(n: usize) -> anyhow::Result<Vec<Duration>> {
    let python = real_python3()?;
    let program = format!(
        "{SOURCE}\nimport json, sys\nprint(json.dumps(summarize(**json.loads(sys.argv[1])), ensure_ascii=False))"
    );
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        let out = Command::new(&python)
            .arg("-c")
            .arg(&program)
            .arg(INPUT)
            .output()
            .context("running python3 for the baseline")?;
        samples.push(t0.elapsed());
        anyhow::ensure!(
            out.status.success(),
            "python3 baseline failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(samples)
}
