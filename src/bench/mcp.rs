//! `autolearn bench mcp`: `tools/call` end to end over Streamable HTTP, as
//! a legacy session (rmcp's own client, SSE answers) and as stateless
//! 2026-07-28 requests (plain JSON answers), against two baselines from the
//! same run: the sandbox alone (what MCP and HTTP add on top) and a native
//! `python3` subprocess (what the agent would do without AutoLearn).

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::caller::Caller;
use super::{
    INPUT, Percentiles, SOURCE, print_header, print_row, python3_baseline,
    sandbox::{Workload, run_sandboxed},
};
use crate::app::App;
use crate::config::Paths;

const SKILL: &str = "bench_summarize";
/// The same skill, opted in to memoized calls.
const MEMO_SKILL: &str = "bench_summarize_memo";

/// Flags of `autolearn bench mcp`.
#[derive(Debug, clap::Args)]
pub struct McpBenchArgs {
    /// The server's /mcp URL; without it, one is started in-process on a
    /// free port with a throwaway registry.
    #[arg(long)]
    pub url: Option<String>,
    /// API key for `--url`, when it requires one.
    #[arg(long, env = "AUTOLEARN_KEY")]
    pub key: Option<String>,
    /// tools/call requests to time.
    #[arg(long, default_value_t = 1000)]
    pub calls: usize,
    /// Clients calling at once (each kind: sessions, then stateless).
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// python3 subprocess calls for the baseline.
    #[arg(long, default_value_t = 30)]
    pub baseline_calls: usize,
    /// Print a JSON object as the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

/// `autolearn bench mcp`.
pub async fn mcp(paths: &Paths, args: &McpBenchArgs) -> anyhow::Result<()> {
    let concurrency = args.concurrency.max(1);
    let scratch = super::Scratch::open(paths, "mcp").await?;
    let app = scratch.app.clone();

    let server = match &args.url {
        Some(_) => None,
        None => Some(super::LocalServer::start(&app).await?),
    };
    let url = args
        .url
        .clone()
        .or_else(|| server.as_ref().map(|s| s.url.clone()))
        .unwrap_or_default();

    let result = measure(&scratch, &url, args, concurrency).await;
    if let Some(s) = server {
        s.stop().await;
    }
    result
}

async fn measure(
    scratch: &super::Scratch,
    url: &str,
    args: &McpBenchArgs,
    concurrency: usize,
) -> anyhow::Result<()> {
    let app = &scratch.app;
    let key = args.key.as_deref();
    let setup = Caller::session(url, key).await?;
    let create = json!({
        "name": SKILL,
        "description": "Count words and name the most common one (benchmark workload).",
        "code": SOURCE,
        "entry": "summarize",
        "examples": [{"input": serde_json::from_str::<Value>(INPUT)?, "output": {"words": 12, "top": "the"}}],
    });
    let mut memo_create = create.clone();
    memo_create["name"] = json!(MEMO_SKILL);
    memo_create["memoize"] = json!(true);
    for skill in [create, memo_create] {
        let created = setup.call("create_skill", &object(skill)).await?;
        anyhow::ensure!(
            !created.is_error,
            "could not create a benchmark skill: {}",
            created.content
        );
    }
    setup.close().await;

    let input = object(serde_json::from_str(INPUT)?);
    let mut sessions = Vec::with_capacity(concurrency);
    let mut stateless = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        sessions.push(Caller::session(url, key).await?);
        stateless.push(Caller::stateless(url, key)?);
    }
    let per_client = args.calls.max(concurrency).div_ceil(concurrency);
    let session = timed_calls(&sessions, SKILL, &input, per_client).await?;
    let plain = timed_calls(&stateless, SKILL, &input, per_client).await?;
    // The memoized copy, one client of each kind: after its first call,
    // every call is a hit, so HTTP and MCP are all that is left.
    let memo_session = timed_calls(&sessions[..1], MEMO_SKILL, &input, 300).await?;
    let memo_plain = timed_calls(&stateless[..1], MEMO_SKILL, &input, 300).await?;
    for caller in [&sessions[0], &stateless[0]] {
        let hit = caller.call(MEMO_SKILL, &input).await?;
        anyhow::ensure!(hit.cache_hit, "no cache-hit marker in _meta");
    }
    for c in sessions.into_iter().chain(stateless) {
        c.close().await;
    }

    let sandbox = scratch.sandbox.clone();
    let (mut direct, _) =
        tokio::task::spawn_blocking(move || run_sandboxed(&sandbox, Workload::core(), 300, 1))
            .await??;
    let direct = Percentiles::of(&mut direct);
    // The layer in between: store lookup, hash check, schema validation and
    // the hop off the I/O threads, without MCP or HTTP.
    let local = args.url.is_none();
    let input_value: Value = serde_json::from_str(INPUT)?;
    let in_app = app_calls(app, SKILL, &input_value, if local { 300 } else { 0 }).await?;
    let memo_app = app_calls(app, MEMO_SKILL, &input_value, if local { 300 } else { 0 }).await?;
    let mut heads = Vec::with_capacity(300);
    for _ in 0..300 {
        let t0 = Instant::now();
        scratch
            .store
            .head(crate::skills::DEFAULT_TENANT, MEMO_SKILL)
            .await?;
        heads.push(t0.elapsed());
    }
    let heads = Percentiles::of(&mut heads);
    let memo_speedup = if memo_app.p50 > 0.0 {
        in_app.p50 / memo_app.p50
    } else {
        0.0
    };
    let n = args.baseline_calls.max(5);
    let mut base = tokio::task::spawn_blocking(move || python3_baseline(n)).await??;
    let base = Percentiles::of(&mut base);
    let speedup = base.p50 / session.latency.p50;
    let plain_speedup = base.p50 / plain.latency.p50;

    let calls = session.calls;
    println!("mcp bench: {calls} tools/call over Streamable HTTP, {concurrency} client(s), {url}");
    print_header();
    print_row("MCP session (SSE)", &session.latency);
    print_row("MCP stateless (JSON)", &plain.latency);
    if local {
        print_row("app (store + sandbox)", &in_app);
        print_row("app, memoized hit", &memo_app);
        print_row("store head query (uncached)", &heads);
    }
    print_row("memo hit, MCP session", &memo_session.latency);
    print_row("memo hit, MCP stateless", &memo_plain.latency);
    print_row("sandbox only", &direct);
    print_row("python3 subprocess", &base);
    println!(
        "  throughput {:.0} calls/s in sessions, {:.0} stateless; MCP adds {:.3} ms (session), {:.3} ms (stateless) at p50",
        session.per_s,
        plain.per_s,
        session.latency.p50 - direct.p50,
        plain.latency.p50 - direct.p50,
    );
    println!(
        "  {speedup:.1}x (session), {plain_speedup:.1}x (stateless) faster than python3 at p50"
    );
    if local {
        println!("  a memoized hit is {memo_speedup:.0}x faster than a sandboxed call in the app");
    }
    if args.json {
        println!(
            "{}",
            json!({
                "calls": calls,
                "concurrency": concurrency,
                "p50_ms": session.latency.p50,
                "p95_ms": session.latency.p95,
                "p99_ms": session.latency.p99,
                "calls_per_s": session.per_s,
                "stateless_p50_ms": plain.latency.p50,
                "stateless_p95_ms": plain.latency.p95,
                "stateless_p99_ms": plain.latency.p99,
                "stateless_calls_per_s": plain.per_s,
                "sandbox_p50_ms": direct.p50,
                "app_p50_ms": local.then_some(in_app.p50),
                "mcp_overhead_p50_ms": session.latency.p50 - direct.p50,
                "stateless_overhead_p50_ms": plain.latency.p50 - direct.p50,
                "memo_hit_app_p50_ms": local.then_some(memo_app.p50),
                "memo_hit_mcp_p50_ms": memo_session.latency.p50,
                "memo_hit_stateless_p50_ms": memo_plain.latency.p50,
                "head_lookup_p50_ms": heads.p50,
                "memo_speedup_vs_app_call": local.then_some(memo_speedup),
                "baseline_python3_p50_ms": base.p50,
                "speedup_vs_python3": speedup,
                "stateless_speedup_vs_python3": plain_speedup,
            })
        );
    }
    Ok(())
}

/// Latency and throughput of `tools/call`s from several clients at once.
struct Timed {
    latency: Percentiles,
    calls: usize,
    per_s: f64,
}

/// `per_client` calls of `name` from each client at once, after 20
/// untimed ones (the skill's first call compiles it).
async fn timed_calls(
    clients: &[Caller],
    name: &'static str,
    input: &Map<String, Value>,
    per_client: usize,
) -> anyhow::Result<Timed> {
    for _ in 0..20 {
        clients[0].call(name, input).await?;
    }
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .iter()
        .map(|c| {
            let (client, input) = (c.clone(), input.clone());
            tokio::spawn(async move {
                let mut samples = Vec::with_capacity(per_client);
                for _ in 0..per_client {
                    let t0 = Instant::now();
                    let r = client.call(name, &input).await?;
                    samples.push(t0.elapsed());
                    anyhow::ensure!(!r.is_error, "tools/call failed: {}", r.content);
                }
                anyhow::Ok(samples)
            })
        })
        .collect();
    let mut samples: Vec<Duration> = Vec::new();
    for t in tasks {
        samples.extend(t.await??);
    }
    let wall = started.elapsed();
    let calls = samples.len();
    Ok(Timed {
        latency: Percentiles::of(&mut samples),
        calls,
        per_s: calls as f64 / wall.as_secs_f64(),
    })
}

/// `n` calls of `name` through the app, without MCP or HTTP (after one
/// untimed call, which makes the memoized skill's next ones hits, and
/// only its).
async fn app_calls(app: &App, name: &str, input: &Value, n: usize) -> anyhow::Result<Percentiles> {
    let mut samples = Vec::with_capacity(n);
    for i in 0..=n {
        let t0 = Instant::now();
        let r = app
            .calls()
            .run(
                crate::skills::DEFAULT_TENANT,
                name,
                input,
                Default::default(),
                crate::sandbox::Determinism::Live,
            )
            .await?;
        if i > 0 {
            samples.push(t0.elapsed());
            anyhow::ensure!(
                r.cached == (name == MEMO_SKILL),
                "{name}: a repeated call was {}a memo hit",
                if r.cached { "" } else { "not " }
            );
        }
    }
    Ok(Percentiles::of(&mut samples))
}

fn object(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}
