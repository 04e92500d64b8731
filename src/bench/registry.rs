//! `autolearn bench registry`: a registry of many published skills. Pages
//! of `tools/list` and `search_skills` over MCP, and start-up to ready with
//! a warm precompile cache, each against the same measurement on a small
//! registry in the same run (the baseline: what the size costs).

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use anyhow::Context;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, PaginatedRequestParams};
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::json;

use super::{Percentiles, print_header, print_row};
use crate::app::App;
use crate::config::Paths;
use crate::skills::{DEFAULT_TENANT, Example, Kpis, Provenance, SkillManifest, Status};

/// Flags of `autolearn bench registry`.
#[derive(Debug, clap::Args)]
pub struct RegistryBenchArgs {
    /// Published skills in the large registry.
    #[arg(long, default_value_t = 10_000)]
    pub skills: usize,
    /// Skills in the small registry measured first, the baseline.
    #[arg(long, default_value_t = 10)]
    pub baseline_skills: usize,
    /// Requests timed per measurement.
    #[arg(long, default_value_t = 100)]
    pub samples: usize,
    /// Print a JSON object as the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

/// One registry size, measured.
#[derive(Debug, serde::Serialize)]
struct Figures {
    skills: usize,
    /// `tools/list`, pages at offsets spread over the whole list.
    list_page: Percentiles,
    /// `search_skills` (built-in tool), varied queries.
    search: Percentiles,
    /// Spawn of `autolearn serve` to `/readyz` answering 200.
    startup_ms: f64,
    /// The first `tools/list`, which loads the catalog.
    catalog_load_ms: f64,
}

/// `autolearn bench registry`.
pub async fn registry(paths: &Paths, args: &RegistryBenchArgs) -> anyhow::Result<()> {
    let scratch = super::Scratch::open(paths, "registry").await?;
    let app = scratch.app.clone();
    let small = args.baseline_skills.min(args.skills);
    let filled = Instant::now();
    fill(&scratch.store, 0, small).await?;
    let baseline = measure(&app, paths, scratch.dir(), small, args.samples).await?;
    fill(&scratch.store, small, args.skills).await?;
    let fill_time = filled.elapsed();
    let large = measure(&app, paths, scratch.dir(), args.skills, args.samples).await?;

    println!(
        "registry bench: {} published skills (stored in {:.1?}) against {} in the same run",
        args.skills, fill_time, small
    );
    print_header();
    print_row(&format!("tools/list page, {small}"), &baseline.list_page);
    print_row(
        &format!("tools/list page, {}", args.skills),
        &large.list_page,
    );
    print_row(&format!("search_skills, {small}"), &baseline.search);
    print_row(&format!("search_skills, {}", args.skills), &large.search);
    println!(
        "  first tools/list (loads, hash-checks and indexes the catalog): {:.1} ms with {small}, {:.1} ms with {}",
        baseline.catalog_load_ms, large.catalog_load_ms, args.skills
    );
    println!(
        "  start-up to ready (warm cache): {:.0} ms with {small}, {:.0} ms with {}",
        baseline.startup_ms, large.startup_ms, args.skills
    );
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    println!(
        "  {}x the small registry's tools/list page, {:.1}x its search, {:.1}x its start-up",
        (ratio(large.list_page.p50, baseline.list_page.p50) * 10.0).round() / 10.0,
        ratio(large.search.p50, baseline.search.p50),
        ratio(large.startup_ms, baseline.startup_ms),
    );
    if args.json {
        println!(
            "{}",
            json!({
                "skills": args.skills,
                "baseline_skills": small,
                "list_page_p50_ms": large.list_page.p50,
                "list_page_p95_ms": large.list_page.p95,
                "search_p50_ms": large.search.p50,
                "startup_ms": large.startup_ms,
                "catalog_load_ms": large.catalog_load_ms,
                "baseline": baseline,
                "large": large,
                "list_page_ratio": ratio(large.list_page.p50, baseline.list_page.p50),
                "search_ratio": ratio(large.search.p50, baseline.search.p50),
                "startup_ratio": ratio(large.startup_ms, baseline.startup_ms),
            })
        );
    }
    Ok(())
}

/// Publish skills `from..to`: distinct names, descriptions and parameters,
/// so that search has real work to do. Stored directly (no sandbox run):
/// what is measured is the registry, not verification.
/// Store skills straight into the registry, unverified: the benchmark
/// times reading 10,000 skills, not publishing them.
async fn fill(store: &crate::store::SkillStore, from: usize, to: usize) -> anyhow::Result<()> {
    const TOPICS: [&str; 8] = [
        "invoice",
        "order",
        "address",
        "temperature",
        "sentence",
        "ledger",
        "route",
        "email",
    ];
    const VERBS: [&str; 6] = ["parse", "total", "normalize", "count", "validate", "format"];
    for i in from..to {
        let (topic, verb) = (TOPICS[i % TOPICS.len()], VERBS[(i / 8) % VERBS.len()]);
        let name = format!("{verb}_{topic}_{i}");
        let manifest = SkillManifest {
            runtime: crate::runtime::Runtime::Core,
            memoize: false,
            requires: Vec::new(),
            name: name.clone(),
            description: format!("{verb} the {topic} given as text, variant {i}"),
            input_schema: json!({
                "type": "object",
                "properties": {topic: {"type": "string"}, "mode": {"type": "string"}},
                "required": [topic],
            }),
            output_schema: None,
            source: format!(
                "def {name}({topic}, mode=\"plain\"):\n    \"\"\"{verb} a {topic}.\"\"\"\n    return {{\"{topic}\": {topic}, \"n\": {i}}}\n"
            ),
            entry: name.clone(),
            examples: vec![Example {
                input: json!({topic: "x"}),
                output: json!({topic: "x", "n": i}),
            }],
        };
        store
            .insert(
                DEFAULT_TENANT,
                &manifest,
                Provenance::Authored,
                Status::Published,
                &Kpis::default(),
            )
            .await
            .with_context(|| format!("storing skill {i}"))?;
    }
    Ok(())
}

async fn measure(
    app: &App,
    paths: &Paths,
    data_dir: &std::path::Path,
    skills: usize,
    samples: usize,
) -> anyhow::Result<Figures> {
    let server = super::LocalServer::start(app).await?;
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(server.url.as_str()))
            .await
            .context("connecting to the local server")?;
    // The first request loads, hash-checks and indexes the whole catalog:
    // what every page cost before catalogs were cached.
    let t0 = Instant::now();
    client.list_tools(None).await?;
    let catalog_load_ms = t0.elapsed().as_secs_f64() * 1e3;
    // Built-ins come first, so every offset below `skills` is on the list.
    let total = skills;
    let mut pages = Vec::with_capacity(samples);
    for i in 0..samples {
        let offset = (i * 7919) % total.max(1);
        let params = PaginatedRequestParams::default().with_cursor(Some(offset.to_string()));
        let t0 = Instant::now();
        let page = client.list_tools(Some(params)).await?;
        pages.push(t0.elapsed());
        anyhow::ensure!(!page.tools.is_empty() || offset >= skills, "an empty page");
    }
    let queries = [
        "total invoice",
        "normalize the address",
        "count email",
        "route",
        "ledger text variant",
    ];
    let mut searches = Vec::with_capacity(samples);
    for i in 0..samples {
        let args = json!({"query": queries[i % queries.len()], "limit": 10});
        let call = CallToolRequestParams::new("search_skills")
            .with_arguments(args.as_object().cloned().unwrap_or_default());
        let t0 = Instant::now();
        let r = client.call_tool(call).await?;
        searches.push(t0.elapsed());
        anyhow::ensure!(r.is_error != Some(true), "search failed: {:?}", r.content);
    }
    let _ = client.cancel().await;
    server.stop().await;
    let startup_ms = startup(paths, data_dir).await?;
    Ok(Figures {
        skills,
        list_page: Percentiles::of(&mut pages),
        search: Percentiles::of(&mut searches),
        startup_ms,
        catalog_load_ms,
    })
}

/// Spawn `autolearn serve` on the registry and time it to `/readyz` 200;
/// the best of three, so a scheduling hiccup does not count.
async fn startup(paths: &Paths, data_dir: &std::path::Path) -> anyhow::Result<f64> {
    let exe = std::env::current_exe()?;
    let mut best = f64::MAX;
    for _ in 0..3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut cmd = std::process::Command::new(&exe);
        cmd.arg("--data-dir")
            .arg(data_dir)
            .arg("--cache-dir")
            .arg(paths.cache_dir())
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .env("AUTOLEARN_LLM", "none")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if let crate::sandbox::Artifact::File(path) = &paths.artifact {
            cmd.arg("--artifact").arg(path);
        }
        let started = Instant::now();
        let mut child = cmd.spawn().context("spawning autolearn serve")?;
        let ready =
            tokio::task::spawn_blocking(move || wait_ready(port, Duration::from_secs(30))).await?;
        let took = started.elapsed();
        let _ = child.kill();
        let _ = child.wait();
        anyhow::ensure!(ready, "the server was not ready within 30 s");
        best = best.min(took.as_secs_f64() * 1e3);
    }
    Ok(best)
}

fn wait_ready(port: u16, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            let mut head = [0u8; 12];
            if s.read_exact(&mut head).is_ok() && head.ends_with(b"200") {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}
