//! The `autolearn` command line.
//!
//! Exit codes are part of the interface (tooling depends on them): 0 on
//! success; 1 when a skill or the system fails, with `{"error": {"kind",
//! "message", ...}}` on stdout; 2 on a usage error (bad flags, input that
//! is not JSON, an unknown skill), also with the JSON error on stdout.

use std::path::PathBuf;
use std::process::ExitCode;

mod agent;
mod commands;
mod generate;
mod learn;
mod runtime;
mod serve;
mod skill;
mod tenant;
mod trace;

use clap::{Args, Parser, Subcommand};

pub use commands::{
    AuditArgs, AuditCommand, BenchCommand, KeyCommand, LimitArgs, ModelCommand, ReviewVerdict,
    RuntimeCommand, SkillCommand, TenantCommand, TraceCommand,
};
use serde_json::{Value, json};

use crate::app::App;
use crate::config::Paths;
use crate::fault::{Classify, Fault};
use crate::skills::DEFAULT_TENANT;

/// AutoLearn: an MCP server that learns skills.
#[derive(Debug, Parser)]
#[command(name = "autolearn", version, about)]
pub struct Cli {
    /// Where the database and caches live.
    #[arg(long, global = true, env = "AUTOLEARN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The sandbox artifact (`make artifact` builds it).
    #[arg(long, global = true, env = "AUTOLEARN_ARTIFACT")]
    pub artifact: Option<PathBuf>,
    /// Where precompiled sandbox images are cached (default: DATA_DIR/cache).
    #[arg(long, global = true, env = "AUTOLEARN_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// A PostgreSQL database shared by replicas (`postgres://user:pass@host/db`)
    /// instead of the SQLite file in the data dir.
    #[arg(
        long,
        global = true,
        env = "AUTOLEARN_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// The language model (optional: only generation needs one).
    #[command(flatten)]
    pub llm: LlmArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Which language model, and where.
#[derive(Debug, Clone, Args)]
pub struct LlmArgs {
    /// `auto` uses an OpenAI-compatible API when a key or base URL is set.
    #[arg(
        long = "llm",
        global = true,
        env = "AUTOLEARN_LLM",
        value_enum,
        default_value = "auto"
    )]
    pub choice: crate::llm::Choice,
    /// OpenAI-compatible base URL, up to `/v1` (Ollama, llama.cpp, vLLM...).
    #[arg(long, global = true, env = "OPENAI_BASE_URL")]
    pub openai_base_url: Option<String>,
    /// API key for it (local servers need none).
    #[arg(long, global = true, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<String>,
    /// Model for specs and code.
    #[arg(
        long,
        global = true,
        env = "AUTOLEARN_MODEL_REASONING",
        default_value = "gpt-4.1"
    )]
    pub model_reasoning: String,
    /// Model for small structured answers.
    #[arg(
        long,
        global = true,
        env = "AUTOLEARN_MODEL_FAST",
        default_value = "gpt-4.1-mini"
    )]
    pub model_fast: String,
    /// Where `autolearn model fetch` keeps the embedded model (shared by
    /// every data dir).
    #[arg(long, global = true, env = "AUTOLEARN_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,
    /// Run this GGUF as the local model instead of the fetched one.
    #[arg(long, global = true, env = "AUTOLEARN_MODEL_PATH")]
    pub model_path: Option<PathBuf>,
}

impl LlmArgs {
    fn build(&self) -> Result<crate::llm::Llm, Failure> {
        let mut config = crate::llm::openai::OpenAiConfig {
            api_key: self.openai_api_key.clone().filter(|k| !k.is_empty()),
            reasoning_model: self.model_reasoning.clone(),
            fast_model: self.model_fast.clone(),
            ..Default::default()
        };
        if let Some(url) = self.openai_base_url.clone().filter(|u| !u.is_empty()) {
            config.base_url = url;
            config.base_url_given = true;
        }
        let model = self
            .model_path
            .clone()
            .or_else(|| crate::llm::fetch::installed(&self.model_dir()));
        crate::llm::select(self.choice, config, model.as_deref())
            .map_err(|e| Failure::usage("usage", e.to_string()))
    }

    fn model_dir(&self) -> PathBuf {
        self.model_dir
            .clone()
            .unwrap_or_else(crate::llm::fetch::default_model_dir)
    }
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add, run and inspect skills.
    #[command(subcommand)]
    Skill(SkillCommand),
    /// Benchmarks, reported as ratios against a baseline run alongside.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Serve MCP over Streamable HTTP at /mcp (and /healthz).
    Serve(serve::ServeArgs),
    /// Serve MCP over stdio, for desktop clients (the `local` tenant).
    Mcp,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// See what agents did: traces of run_python steps.
    #[command(subcommand)]
    Trace(TraceCommand),
    /// The operator's audit trail (tenants, keys, quotas, resets,
    /// removals), or `audit verify`: check the learnings log's hash chain.
    Audit(AuditArgs),
    /// The embedded local model.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Sandbox runtimes that are fetched, not built in (`runtime fetch data`).
    #[command(subcommand)]
    Runtime(RuntimeCommand),
    /// Ask the consumer agent: it calls a published skill that fits, or
    /// works the task out with run_python and crystallizes what worked.
    Agent(agent::AgentArgs),
    /// Practise: work through a curriculum project (research, build,
    /// test, document), publishing the skills that earn trust.
    Learn(learn::LearnArgs),
}

/// A failure the CLI reports: exit code plus JSON error.
struct Failure {
    code: u8,
    error: Value,
}

impl Failure {
    fn usage(kind: &str, message: impl Into<String>) -> Self {
        Self {
            code: 2,
            error: json!({"kind": kind, "message": message.into()}),
        }
    }
    fn failed(kind: &str, message: impl Into<String>) -> Self {
        Self {
            code: 1,
            error: json!({"kind": kind, "message": message.into()}),
        }
    }

    /// A core error as the CLI reports it; the one place the taxonomy
    /// ([`crate::fault`]) meets the command line. The operator is the
    /// host, so a host fault shows its text too. Exit code 2 when the
    /// command line names something wrong or missing, else 1.
    fn of(e: &dyn Classify) -> Self {
        let mut error = e.to_object();
        error["message"] =
            crate::text::truncate(&e.to_string(), crate::text::MAX_MESSAGE_BYTES).into();
        let usage = e.fault() == Fault::Caller
            && matches!(
                e.kind(),
                "usage"
                    | "bad_request"
                    | "conflict"
                    | "not_found"
                    | "invalid_skill"
                    | "unknown_project"
                    | "project_in_progress"
                    | "not_ready"
                    | "all_complete"
                    | "no_llm"
            );
        Self {
            code: if usage { 2 } else { 1 },
            error,
        }
    }
}

impl<E: Classify> From<E> for Failure {
    fn from(e: E) -> Self {
        Self::of(&e)
    }
}

/// Parse arguments and run; returns the process exit code.
pub async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let outcome = run(cli).await;
    // Changes this command made reach other replicas before it exits.
    let opened: Vec<App> = std::mem::take(&mut *OPENED.lock().unwrap_or_else(|p| p.into_inner()));
    for app in opened {
        app.replicas().flush().await;
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            println!("{}", json!({ "error": f.error }));
            if let Some(m) = f.error["message"].as_str() {
                eprintln!("autolearn: {m}");
            }
            ExitCode::from(f.code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let paths = Paths::resolve(cli.data_dir, cli.artifact, cli.cache_dir)
        .with_database_url(cli.database_url);
    match cli.command {
        Command::Skill(cmd) => skill::run(&paths, &cli.llm, cmd).await,
        Command::Bench(BenchCommand::Sandbox(args)) => crate::bench::sandbox(&paths, &args)
            .await
            .map_err(|e| Failure::failed("host", format!("{e:#}"))),
        Command::Bench(BenchCommand::Mcp(args)) => crate::bench::mcp(&paths, &args)
            .await
            .map_err(|e| Failure::failed("host", format!("{e:#}"))),
        Command::Bench(BenchCommand::Registry(args)) => crate::bench::registry(&paths, &args)
            .await
            .map_err(|e| Failure::failed("host", format!("{e:#}"))),
        Command::Bench(BenchCommand::Isolation(args)) => crate::bench::isolation(&paths, &args)
            .await
            .map_err(|e| Failure::failed("host", format!("{e:#}"))),
        Command::Bench(BenchCommand::Learn(args)) => {
            // --check needs no model.
            let llm = if args.check {
                std::sync::Arc::new(crate::llm::NoModel { label: "none" }) as crate::llm::Llm
            } else {
                cli.llm.build()?
            };
            crate::bench::learn(&paths, llm, &args)
                .await
                .map_err(|e| Failure::failed("host", format!("{e:#}")))
        }
        Command::Bench(BenchCommand::Demo(args)) => {
            crate::bench::demo(&paths, cli.llm.build()?, &args)
                .await
                .map_err(|e| Failure::failed("host", format!("{e:#}")))
        }
        Command::Serve(args) => serve::run(&paths, &cli.llm, args).await,
        Command::Mcp => {
            use rmcp::ServiceExt;
            let app = open_with_llm(&paths, &cli.llm).await?;
            app.warm_data_runtime();
            let practice = crate::practice::Practice::shipped(app.clone())
                .map_err(|e| Failure::failed("host", e.to_string()))?;
            let server = crate::mcp::McpServer::for_tenant(app.clone(), DEFAULT_TENANT)
                .with_practice(practice)
                .serve(rmcp::transport::stdio())
                .await
                .map_err(|e| Failure::failed("host", e.to_string()))?;
            let ended = server
                .waiting()
                .await
                .map_err(|e| Failure::failed("host", e.to_string()));
            // The client closed stdin: work it started stops with it.
            app.halt(std::time::Duration::from_secs(5)).await;
            ended.map(|_| ())
        }
        Command::Tenant(cmd) => tenant::run(&paths, cmd).await,
        Command::Agent(args) => agent::run(&cli.llm, args).await,
        Command::Learn(args) => learn::run(&paths, &cli.llm, args).await,
        Command::Trace(cmd) => trace::run(&paths, cmd).await,
        Command::Model(ModelCommand::Fetch { python }) => {
            let dir = cli.llm.model_dir();
            match crate::llm::fetch::fetch(&dir, &python) {
                Ok((path, fresh)) => {
                    println!(
                        "{}",
                        json!({"model": path, "fetched": fresh, "sha256": crate::llm::fetch::MODEL_SHA256})
                    );
                    Ok(())
                }
                Err(e) => Err(Failure::failed("fetch", e.to_string())),
            }
        }
        Command::Runtime(RuntimeCommand::Fetch {
            name: _,
            python,
            dir,
        }) => runtime::fetch(&paths, &python, dir).await,
        Command::Audit(AuditArgs {
            command: Some(AuditCommand::Verify),
            ..
        }) => {
            let store = open_store(&paths).await?;
            match store.verify_learnings().await {
                Ok(Ok(n)) => {
                    println!("{}", json!({"ok": true, "entries": n}));
                    Ok(())
                }
                Ok(Err(broken)) => Err(Failure {
                    code: 1,
                    error: json!({"kind": "broken_chain", "message": format!("the learnings log breaks at entry {}: {}", broken.seq, broken.reason), "seq": broken.seq}),
                }),
                Err(e) => Err(Failure::failed("store", e.to_string())),
            }
        }
        Command::Audit(args) => tenant::audit(&paths, &args).await,
    }
}

/// Apps this command opened, whose relayed events are flushed at exit.
static OPENED: std::sync::Mutex<Vec<App>> = std::sync::Mutex::new(Vec::new());

async fn open(paths: &Paths) -> Result<App, Failure> {
    let app = App::open(paths).await?;
    app.replicas().start();
    OPENED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(app.clone());
    Ok(app)
}

/// The app with the configured language model.
async fn open_with_llm(paths: &Paths, llm: &LlmArgs) -> Result<App, Failure> {
    let model = llm.build()?;
    Ok(open(paths).await?.with_llm(model))
}

/// The store alone: listing and showing need no sandbox.
async fn open_store(paths: &Paths) -> Result<crate::store::SkillStore, Failure> {
    Ok(crate::store::SkillStore::open_at(&paths.database()).await?)
}

fn parse_json(flag: &str, text: &str) -> Result<Value, Failure> {
    serde_json::from_str(text)
        .map_err(|e| Failure::usage("usage", format!("{flag} is not valid JSON: {e}")))
}
