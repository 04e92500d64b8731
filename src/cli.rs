//! The `autolearn` command line.
//!
//! Exit codes are part of the interface (tooling depends on them): 0 on
//! success; 1 when a skill or the system fails, with `{"error": {"kind",
//! "message", ...}}` on stdout; 2 on a usage error (bad flags, input that
//! is not JSON, an unknown skill), also with the JSON error on stdout.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

use crate::app::{AddError, App, RunError};
use crate::config::Paths;
use crate::sandbox::{Determinism, ResourceLimits};
use crate::skills::{DEFAULT_TENANT, Example, Provenance, SkillManifest, infer_input_schema};
use crate::store::Inserted;

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
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
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
    Serve {
        /// Address to listen on. Loopback needs no auth until a tenant exists.
        #[arg(long, env = "AUTOLEARN_ADDR", default_value = "127.0.0.1:8765")]
        addr: std::net::SocketAddr,
        /// Extra Host header values to accept (public names behind a proxy).
        #[arg(long = "allowed-host")]
        allowed_hosts: Vec<String>,
        /// Also serve the fixtures of the official MCP conformance suite.
        #[arg(long)]
        conformance: bool,
    },
    /// Serve MCP over stdio, for desktop clients (the `local` tenant).
    Mcp,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
}

/// `autolearn tenant ...`
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant; prints its API key once (only its hash is stored).
    Create {
        /// Tenant name.
        name: String,
    },
}

/// `autolearn skill ...`
#[derive(Debug, Subcommand)]
pub enum SkillCommand {
    /// Verify a Python file in the sandbox and store it; prints the skill id.
    Add {
        /// The Python source file.
        file: PathBuf,
        /// Tool name of the skill.
        #[arg(long)]
        name: String,
        /// The function to call.
        #[arg(long)]
        entry: String,
        /// What the skill does.
        #[arg(long, default_value = "")]
        description: String,
        /// JSON Schema of the input object; inferred from the examples if absent.
        #[arg(long)]
        input_schema: Option<String>,
        /// JSON array of `{"input": {...}, "output": ...}` examples.
        #[arg(long)]
        examples: Option<String>,
    },
    /// Run a skill; prints its JSON result.
    Run {
        /// The skill.
        name: String,
        /// JSON object of keyword arguments.
        #[arg(long)]
        input: String,
        /// Per-call limits.
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// List skills.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a skill's manifest and facts as JSON.
    Show {
        /// The skill.
        name: String,
    },
}

/// Per-call limits; defaults are the sandbox's.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Fuel for the call (about 1e9 per 100 ms of CPU).
    #[arg(long)]
    pub fuel: Option<u64>,
    /// Wall-clock deadline in milliseconds.
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// Memory cap in MiB.
    #[arg(long)]
    pub memory_mb: Option<u64>,
    /// Run deterministically: seeded randomness and a frozen clock.
    #[arg(long)]
    pub seed: Option<u64>,
}

impl LimitArgs {
    fn limits(&self) -> ResourceLimits {
        let mut l = ResourceLimits::default();
        if let Some(f) = self.fuel {
            l.fuel = f;
        }
        if let Some(ms) = self.timeout_ms {
            l.deadline = Duration::from_millis(ms);
        }
        if let Some(mb) = self.memory_mb {
            l.memory_bytes = mb.saturating_mul(1 << 20);
        }
        l
    }
}

/// `autolearn bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Per-call latency and throughput of a fresh sandbox per call, against
    /// a native `python3` subprocess doing the same work.
    Sandbox(crate::bench::SandboxBenchArgs),
    /// tools/call over Streamable HTTP end to end, against the sandbox alone
    /// and a python3 subprocess in the same run.
    Mcp(crate::bench::McpBenchArgs),
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
    match run(cli).await {
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
    let paths = Paths::resolve(cli.data_dir, cli.artifact, cli.cache_dir);
    match cli.command {
        Command::Skill(cmd) => skill(&paths, cmd).await,
        Command::Bench(BenchCommand::Sandbox(args)) => crate::bench::sandbox(&paths, &args)
            .await
            .map_err(|e| Failure::failed("host", format!("{e:#}"))),
        Command::Bench(BenchCommand::Mcp(args)) => crate::bench::mcp(&paths, &args)
            .await
            .map_err(|e| Failure::failed("host", format!("{e:#}"))),
        Command::Serve {
            addr,
            allowed_hosts,
            conformance,
        } => serve(&paths, addr, allowed_hosts, conformance).await,
        Command::Mcp => {
            use rmcp::ServiceExt;
            let app = open(&paths).await?;
            let server = crate::mcp::McpServer::for_tenant(app, DEFAULT_TENANT)
                .serve(rmcp::transport::stdio())
                .await
                .map_err(|e| Failure::failed("host", e.to_string()))?;
            server
                .waiting()
                .await
                .map_err(|e| Failure::failed("host", e.to_string()))?;
            Ok(())
        }
        Command::Tenant(TenantCommand::Create { name }) => {
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                || name.is_empty()
            {
                return Err(Failure::usage(
                    "usage",
                    "tenant names use letters, digits, '_' and '-'",
                ));
            }
            let store = open_store(&paths).await?;
            match store.create_tenant(&name).await {
                Ok(key) => {
                    println!("{key}");
                    eprintln!(
                        "autolearn: created tenant {name:?}; this key is shown once, keep it secret"
                    );
                    Ok(())
                }
                Err(crate::store::StoreError::Conflict(m)) => Err(Failure::usage("conflict", m)),
                Err(e) => Err(Failure::failed("store", e.to_string())),
            }
        }
    }
}

async fn serve(
    paths: &Paths,
    addr: std::net::SocketAddr,
    allowed_hosts: Vec<String>,
    conformance: bool,
) -> Result<(), Failure> {
    let app = open(paths).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::failed("host", format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::failed("host", e.to_string()))?;
    let options = crate::api::ServeOptions {
        addr: local,
        allowed_hosts,
        conformance,
    };
    // Tests and scripts read this line to find the port when given :0.
    println!("autolearn listening on http://{local}/mcp");
    crate::api::run(app, listener, options, crate::api::shutdown_signal())
        .await
        .map_err(|e| Failure::failed("host", e.to_string()))
}

async fn open(paths: &Paths) -> Result<App, Failure> {
    App::open(paths)
        .await
        .map_err(|e| Failure::failed("host", e.to_string()))
}

/// The store alone: listing and showing need no sandbox.
async fn open_store(paths: &Paths) -> Result<crate::store::SkillStore, Failure> {
    crate::store::SkillStore::open(&paths.database())
        .await
        .map_err(|e| Failure::failed("store", e.to_string()))
}

fn parse_json(flag: &str, text: &str) -> Result<Value, Failure> {
    serde_json::from_str(text)
        .map_err(|e| Failure::usage("usage", format!("{flag} is not valid JSON: {e}")))
}

async fn skill(paths: &Paths, cmd: SkillCommand) -> Result<(), Failure> {
    match cmd {
        SkillCommand::Add {
            file,
            name,
            entry,
            description,
            input_schema,
            examples,
        } => {
            let source = std::fs::read_to_string(&file).map_err(|e| {
                Failure::usage("usage", format!("cannot read {}: {e}", file.display()))
            })?;
            let examples: Vec<Example> = match examples {
                Some(text) => {
                    serde_json::from_value(parse_json("--examples", &text)?).map_err(|e| {
                        Failure::usage(
                            "usage",
                            format!(
                                "--examples must be [{{\"input\": {{..}}, \"output\": ..}}]: {e}"
                            ),
                        )
                    })?
                }
                None => Vec::new(),
            };
            let input_schema = match input_schema {
                Some(text) => parse_json("--input-schema", &text)?,
                None => infer_input_schema(examples.iter().map(|e| &e.input)),
            };
            let manifest = SkillManifest {
                name,
                description,
                input_schema,
                output_schema: None,
                source,
                entry,
                examples,
            };
            let app = open(paths).await?;
            match app
                .add_skill(DEFAULT_TENANT, manifest, Provenance::Authored)
                .await
            {
                Ok((inserted, _)) => {
                    if let Inserted::Existing(s) = &inserted {
                        eprintln!(
                            "autolearn: skill {} v{} already has this content",
                            s.manifest.name, s.version
                        );
                    }
                    println!("{}", inserted.skill().id);
                    Ok(())
                }
                Err(AddError::Manifest(e)) => Err(Failure::usage("invalid_skill", e.to_string())),
                Err(e @ AddError::Rejected(_)) => {
                    Err(Failure::failed("verification_failed", e.to_string()))
                }
                Err(e) => Err(Failure::failed("store", e.to_string())),
            }
        }
        SkillCommand::Run {
            name,
            input,
            limits,
        } => {
            let input = parse_json("--input", &input)?;
            let app = open(paths).await?;
            let determinism = limits.seed.map_or(Determinism::Live, Determinism::Seeded);
            match app
                .run_skill(DEFAULT_TENANT, &name, &input, limits.limits(), determinism)
                .await
            {
                Ok(r) => {
                    if !r.output.stdout.is_empty() {
                        eprint!("{}", r.output.stdout);
                    }
                    println!("{}", r.output.json);
                    Ok(())
                }
                Err(RunError::NotFound(n)) => {
                    Err(Failure::usage("not_found", format!("no skill named {n:?}")))
                }
                Err(RunError::Call(e)) => Err(Failure {
                    code: 1,
                    error: e.to_json(),
                }),
                Err(e @ RunError::NotPublished { .. }) => {
                    Err(Failure::failed("not_published", e.to_string()))
                }
                Err(RunError::Store(e)) => Err(Failure::failed(store_kind(&e), e.to_string())),
            }
        }
        SkillCommand::List { json } => {
            let store = open_store(paths).await?;
            let skills = store
                .list(DEFAULT_TENANT)
                .await
                .map_err(|e| Failure::failed(store_kind(&e), e.to_string()))?;
            if json {
                let rows: Vec<Value> = skills.iter().map(crate::skills::Skill::summary).collect();
                println!("{}", Value::Array(rows));
            } else if skills.is_empty() {
                println!(
                    "no skills yet: add one with `autolearn skill add FILE --name NAME --entry FUNC`"
                );
            } else {
                println!(
                    "{:<24} {:>3}  {:<10} {:<12}  DESCRIPTION",
                    "NAME", "VER", "STATUS", "ID"
                );
                for s in &skills {
                    println!(
                        "{:<24} {:>3}  {:<10} {:<12}  {}",
                        s.manifest.name,
                        s.version,
                        s.status,
                        s.id.short(),
                        s.manifest.description.lines().next().unwrap_or("")
                    );
                }
            }
            Ok(())
        }
        SkillCommand::Show { name } => {
            let store = open_store(paths).await?;
            match store.latest(DEFAULT_TENANT, &name).await {
                Ok(s) => {
                    let text = serde_json::to_string_pretty(&s).unwrap_or_default();
                    println!("{text}");
                    Ok(())
                }
                Err(crate::store::StoreError::NotFound(n)) => {
                    Err(Failure::usage("not_found", format!("no skill named {n:?}")))
                }
                Err(e) => Err(Failure::failed(store_kind(&e), e.to_string())),
            }
        }
    }
}

fn store_kind(e: &crate::store::StoreError) -> &'static str {
    match e {
        crate::store::StoreError::Tampered { .. } => "tampered",
        _ => "store",
    }
}
