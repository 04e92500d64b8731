//! `autolearn bench isolation`: what one tenant's attack costs another.
//!
//! An in-process server with two tenants, over real HTTP through rmcp's
//! client. First the bystander's `run_python 1 + 1` alone (the baseline),
//! then the same while the attacker floods the server with slow calls,
//! slow verifications and hostile requests; the ratio is the price of
//! sharing. Last, each hostile request of a catalogue alone: how large its
//! response is, and how long the host worked on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};

use super::{Percentiles, print_header, print_row};
use crate::app::App;
use crate::config::Paths;

/// Flags of `autolearn bench isolation`.
#[derive(Debug, clap::Args)]
pub struct IsolationBenchArgs {
    /// Bystander calls timed in each phase.
    #[arg(long, default_value_t = 200)]
    pub calls: usize,
    /// Attacker clients flooding at once.
    #[arg(long, default_value_t = 16)]
    pub flood: usize,
    /// Print a JSON object as the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

type Client = RunningService<RoleClient, ()>;

async fn connect(url: &str, key: &str) -> anyhow::Result<Client> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url);
    config.auth_header = Some(key.to_owned());
    Ok(
        ().serve(StreamableHttpClientTransport::from_config(config))
            .await?,
    )
}

/// One tools/call: its result as JSON and the time it took.
async fn call(client: &Client, tool: &str, args: Value) -> anyhow::Result<(Value, Duration)> {
    let started = Instant::now();
    let params = CallToolRequestParams::new(tool.to_owned())
        .with_arguments(args.as_object().cloned().unwrap_or_default());
    let value = match client.call_tool(params).await {
        Ok(r) => serde_json::to_value(r)?,
        // A protocol error is an answer too (its size counts the same).
        Err(e) => json!({"error": e.to_string()}),
    };
    Ok((value, started.elapsed()))
}

async fn bystander(client: &Client, n: usize) -> anyhow::Result<Percentiles> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let (v, t) = call(client, "run_python", json!({"code": "1 + 1"})).await?;
        anyhow::ensure!(
            v["structuredContent"]["value"] == 2,
            "bystander call failed: {v}"
        );
        samples.push(t);
    }
    Ok(Percentiles::of(&mut samples))
}

/// Small requests that used to cost the host dearly, by name.
fn catalogue() -> Vec<(&'static str, &'static str, Value)> {
    let mut defs = serde_json::Map::new();
    defs.insert("l0".into(), json!({"type": "string"}));
    for i in 1..=24 {
        let below = format!("#/$defs/l{}", i - 1);
        defs.insert(
            format!("l{i}"),
            json!({"anyOf": [{"$ref": below}, {"items": {"$ref": below}}]}),
        );
    }
    let bomb =
        json!({"type": "object", "$defs": defs, "properties": {"x": {"$ref": "#/$defs/l24"}}});
    let skill = |schema: Value, code: &str, examples: Value| json!({"name": "h", "description": "x", "entry": "f", "code": code, "input_schema": schema, "examples": examples});
    let plain = "def f(x):\n    \"\"\"D.\"\"\"\n    return x\n";
    vec![
        (
            "8 MB exception message",
            "run_python",
            json!({"code": "raise RuntimeError('E' * 8_000_000)"}),
        ),
        (
            "stdout flood",
            "run_python",
            json!({"code": "print('x' * 10_000_000)"}),
        ),
        (
            "sleep past the deadline",
            "run_python",
            json!({"code": "import time\ntime.sleep(60)"}),
        ),
        (
            "$ref bomb schema",
            "create_skill",
            skill(bomb, plain, json!([])),
        ),
        (
            "failing example, 8 MB message",
            "create_skill",
            skill(
                json!({"type": "object"}),
                "def f(n):\n    \"\"\"D.\"\"\"\n    raise RuntimeError('E' * n)\n",
                json!([{"input": {"n": 8_000_000}, "output": 1}]),
            ),
        ),
        (
            "verification that spins",
            "create_skill",
            skill(
                json!({"type": "object"}),
                "def f(n):\n    \"\"\"D.\"\"\"\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n",
                json!([{"input": {"n": 1_000_000_000u64}, "output": 0}, {"input": {"n": 1_000_000_001u64}, "output": 0}]),
            ),
        ),
        (
            "100 KB search query",
            "search_skills",
            json!({"query": "word ".repeat(20_000)}),
        ),
    ]
}

/// `autolearn bench isolation`.
pub async fn isolation(paths: &Paths, args: &IsolationBenchArgs) -> anyhow::Result<()> {
    let scratch = super::Scratch::open(paths, "isolation").await?;
    measure(&scratch.app, args).await
}

async fn measure(app: &App, args: &IsolationBenchArgs) -> anyhow::Result<()> {
    let admin = app.tenants().admin("bench isolation");
    let attacker_key = admin.create_tenant("attacker", "bench", None).await?.key;
    let bystander_key = admin.create_tenant("bystander", "bench", None).await?.key;
    let server = super::LocalServer::start(app).await?;
    let url = server.url.clone();

    let me = connect(&url, &bystander_key).await?;
    call(&me, "run_python", json!({"code": "1 + 1"})).await?; // warm up
    let alone = bystander(&me, args.calls).await?;

    let flooding = Arc::new(AtomicBool::new(true));
    let mut attackers = Vec::new();
    for i in 0..args.flood.max(1) {
        let client = connect(&url, &attacker_key).await?;
        let flooding = flooding.clone();
        attackers.push(tokio::spawn(async move {
            let mut catalogue = catalogue();
            while flooding.load(Ordering::Relaxed) {
                let (_, tool, req) = &catalogue[i % catalogue.len()];
                let _ = call(&client, tool, req.clone()).await;
                catalogue.rotate_left(1);
            }
            let _ = client.cancel().await;
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let flooded = bystander(&me, args.calls).await?;
    flooding.store(false, Ordering::Relaxed);
    for a in attackers {
        let _ = a.await;
    }

    let attacker = connect(&url, &attacker_key).await?;
    let mut rows = Vec::new();
    for (name, tool, req) in catalogue() {
        let request_bytes = req.to_string().len();
        let (response, t) = call(&attacker, tool, req).await?;
        rows.push(json!({
            "request": name, "request_bytes": request_bytes,
            "response_bytes": response.to_string().len(), "ms": t.as_secs_f64() * 1000.0,
        }));
    }
    let _ = attacker.cancel().await;
    let _ = me.cancel().await;
    server.stop().await;

    println!(
        "isolation bench: the bystander's run_python 1 + 1 over HTTP, {} calls per phase",
        args.calls
    );
    print_header();
    print_row("alone", &alone);
    print_row(&format!("{} attackers", args.flood), &flooded);
    println!(
        "slowdown under attack: p50 {:.2}x, p95 {:.2}x",
        flooded.p50 / alone.p50,
        flooded.p95 / alone.p95
    );
    println!(
        "{:<34} {:>9} {:>10} {:>9}",
        "hostile request", "req bytes", "resp bytes", "ms"
    );
    for r in &rows {
        println!(
            "{:<34} {:>9} {:>10} {:>9.1}",
            r["request"].as_str().unwrap_or(""),
            r["request_bytes"].as_u64().unwrap_or(0),
            r["response_bytes"].as_u64().unwrap_or(0),
            r["ms"].as_f64().unwrap_or(0.0)
        );
    }
    if args.json {
        let max = |k: &str| {
            rows.iter()
                .filter_map(|r| r[k].as_f64())
                .fold(0.0, f64::max)
        };
        println!(
            "{}",
            json!({
                "bench": "isolation", "calls": args.calls, "flood": args.flood,
                "alone": alone, "flooded": flooded,
                "slowdown_p50": flooded.p50 / alone.p50, "slowdown_p95": flooded.p95 / alone.p95,
                "largest_response_bytes": max("response_bytes"), "worst_host_ms": max("ms"),
                "requests": rows,
            })
        );
    }
    Ok(())
}
