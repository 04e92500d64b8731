//! `autolearn bench mcp`: `tools/call` end to end over Streamable HTTP,
//! through rmcp's own client, against two baselines from the same run: the
//! sandbox alone (what MCP and HTTP add on top) and a native `python3`
//! subprocess (what the agent would do without AutoLearn).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};

use super::{
    INPUT, Percentiles, SOURCE, print_header, print_row, python3_baseline, sandbox::run_sandboxed,
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
    /// Clients (MCP sessions) calling at once.
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

    let result = measure(&app, &url, args, concurrency).await;
    if let Some(s) = server {
        s.stop().await;
    }
    result
}

async fn measure(
    app: &App,
    url: &str,
    args: &McpBenchArgs,
    concurrency: usize,
) -> anyhow::Result<()> {
    let mut clients = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let mut config = StreamableHttpClientTransportConfig::with_uri(url);
        config.auth_header = args.key.clone();
        clients.push(Arc::new(
            ().serve(StreamableHttpClientTransport::from_config(config))
                .await
                .with_context(|| format!("connecting to {url}"))?,
        ));
    }
    let create = json!({
        "name": SKILL,
        "description": "Count words and name the most common one (benchmark workload).",
        "code": SOURCE,
        "entry": "summarize",
        "examples": [{"input": serde_json::from_str::<Value>(INPUT)?, "output": {"words": 12, "top": "the"}}],
    });
    let created = clients[0]
        .call_tool(
            CallToolRequestParams::new("create_skill").with_arguments(object(create.clone())),
        )
        .await?;
    anyhow::ensure!(
        created.is_error != Some(true),
        "could not create the benchmark skill: {:?}",
        created.content
    );

    let mut memo_create = create.clone();
    memo_create["name"] = json!(MEMO_SKILL);
    memo_create["memoize"] = json!(true);
    let created = clients[0]
        .call_tool(CallToolRequestParams::new("create_skill").with_arguments(object(memo_create)))
        .await?;
    anyhow::ensure!(
        created.is_error != Some(true),
        "could not create the memoized benchmark skill: {:?}",
        created.content
    );

    let input = object(serde_json::from_str(INPUT)?);
    let call = CallToolRequestParams::new(SKILL).with_arguments(input.clone());
    for _ in 0..20 {
        clients[0].call_tool(call.clone()).await?;
    }
    let per_client = args.calls.max(concurrency).div_ceil(concurrency);
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .iter()
        .map(|c| {
            let (client, call) = (c.clone(), call.clone());
            tokio::spawn(async move {
                let mut samples = Vec::with_capacity(per_client);
                for _ in 0..per_client {
                    let t0 = Instant::now();
                    let r = client.call_tool(call.clone()).await?;
                    samples.push(t0.elapsed());
                    anyhow::ensure!(
                        r.is_error != Some(true),
                        "tools/call failed: {:?}",
                        r.content
                    );
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
    let over_mcp = Percentiles::of(&mut samples);
    let calls_per_s = calls as f64 / wall.as_secs_f64();

    let sandbox = app.sandbox.clone();
    let (mut direct, _) =
        tokio::task::spawn_blocking(move || run_sandboxed(&sandbox, 300, 1)).await??;
    let direct = Percentiles::of(&mut direct);
    // The layer in between: store lookup, hash check, schema validation and
    // the hop off the I/O threads, without MCP or HTTP.
    let input_value: Value = serde_json::from_str(INPUT)?;
    let mut in_app = Vec::with_capacity(300);
    if args.url.is_none() {
        for _ in 0..300 {
            let t0 = Instant::now();
            app.run_skill(
                crate::skills::DEFAULT_TENANT,
                SKILL,
                &input_value,
                Default::default(),
                crate::sandbox::Determinism::Live,
            )
            .await?;
            in_app.push(t0.elapsed());
        }
    }
    let in_app = Percentiles::of(&mut in_app);
    // The same call of the memoized copy: after its first call, a cache hit.
    let mut memo_app = Vec::with_capacity(300);
    let mut memo_mcp = Vec::with_capacity(300);
    if args.url.is_none() {
        for i in 0..301 {
            let t0 = Instant::now();
            let r = app
                .run_skill(
                    crate::skills::DEFAULT_TENANT,
                    MEMO_SKILL,
                    &input_value,
                    Default::default(),
                    crate::sandbox::Determinism::Live,
                )
                .await?;
            if i > 0 {
                anyhow::ensure!(r.cached, "the memoized skill's repeated call was not a hit");
                memo_app.push(t0.elapsed());
            }
        }
        let memo_call = CallToolRequestParams::new(MEMO_SKILL).with_arguments(input.clone());
        for _ in 0..300 {
            let t0 = Instant::now();
            let r = clients[0].call_tool(memo_call.clone()).await?;
            memo_mcp.push(t0.elapsed());
            anyhow::ensure!(
                r.meta.as_ref().and_then(|m| m.get("autolearn/cache")) == Some(&json!("hit")),
                "no cache-hit marker in _meta"
            );
        }
    }
    let mut heads = Vec::with_capacity(300);
    for _ in 0..300 {
        let t0 = Instant::now();
        app.store
            .head(crate::skills::DEFAULT_TENANT, MEMO_SKILL)
            .await?;
        heads.push(t0.elapsed());
    }
    let heads = Percentiles::of(&mut heads);
    let memo_app = Percentiles::of(&mut memo_app);
    let memo_mcp = Percentiles::of(&mut memo_mcp);
    let memo_speedup = if memo_app.p50 > 0.0 {
        in_app.p50 / memo_app.p50
    } else {
        0.0
    };
    let n = args.baseline_calls.max(5);
    let mut base = tokio::task::spawn_blocking(move || python3_baseline(n)).await??;
    let base = Percentiles::of(&mut base);
    let speedup = base.p50 / over_mcp.p50;

    println!("mcp bench: {calls} tools/call over Streamable HTTP, {concurrency} client(s), {url}");
    print_header();
    print_row("MCP tools/call (HTTP)", &over_mcp);
    if args.url.is_none() {
        print_row("app (store + sandbox)", &in_app);
        print_row("app, memoized hit", &memo_app);
        print_row("store head query (uncached)", &heads);
        print_row("MCP tools/call, memo hit", &memo_mcp);
    }
    print_row("sandbox only", &direct);
    print_row("python3 subprocess", &base);
    println!(
        "  throughput {calls_per_s:.0} calls/s; MCP adds {:.3} ms at p50; {speedup:.1}x faster than python3",
        over_mcp.p50 - direct.p50
    );
    if args.url.is_none() {
        println!("  a memoized hit is {memo_speedup:.0}x faster than a sandboxed call in the app");
    }
    if args.json {
        println!(
            "{}",
            json!({
                "calls": calls,
                "concurrency": concurrency,
                "p50_ms": over_mcp.p50,
                "p95_ms": over_mcp.p95,
                "p99_ms": over_mcp.p99,
                "calls_per_s": calls_per_s,
                "sandbox_p50_ms": direct.p50,
                "app_p50_ms": args.url.is_none().then_some(in_app.p50),
                "mcp_overhead_p50_ms": over_mcp.p50 - direct.p50,
                "memo_hit_app_p50_ms": args.url.is_none().then_some(memo_app.p50),
                "memo_hit_mcp_p50_ms": args.url.is_none().then_some(memo_mcp.p50),
                "head_lookup_p50_ms": heads.p50,
                "memo_speedup_vs_app_call": args.url.is_none().then_some(memo_speedup),
                "baseline_python3_p50_ms": base.p50,
                "speedup_vs_python3": speedup,
            })
        );
    }
    for c in clients {
        if let Ok(c) = Arc::try_unwrap(c) {
            let _ = c.cancel().await;
        }
    }
    Ok(())
}

fn object(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}
