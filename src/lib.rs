//! AutoLearn: an MCP server that learns skills.
//!
//! The layout follows the flow of a skill:
//!
//! - [`sandbox`]: CPython on WASI under wasmtime; runs untrusted code.
//! - [`skills`]: the skill model and its content hash. Pure.
//! - [`store`]: skills, tenants, traces, learnings in SQLite or PostgreSQL
//!   through sqlx, hash-checked on load.
//! - [`quota`]: per-tenant quotas over time and across replicas (types).
//! - [`learn`]: verification (the publishing gate) and crystallization.
//! - [`llm`]: language models behind one trait (OpenAI-compatible, none).
//! - [`app`]: store + sandbox + change events; what every front end calls.
//! - [`mcp`]: the MCP server handler: skills as tools, built-ins, resources.
//! - [`api`]: HTTP (axum): `/mcp`, `/healthz`, auth, shutdown.
//! - [`config`]: where data lives, and the defaults.
//! - [`tasks`]: long work clients poll, answer and stop (MCP Tasks), kept in
//!   the store so any replica answers and nothing ends silently.
//! - [`limits`]: the host's bounds on work driven by untrusted data.
//! - [`fault`]: the one error taxonomy: kind, whose fault, retry after.
//! - [`metrics`]: the `/metrics` counters and histograms.
//! - [`text`]: bounded messages and quotes.
//! - [`lru`]: caches shared by tenants, bounded per tenant and in all.
//! - [`slots`]: places shared by tenants (feeds, chats), with a share each.
//! - [`search`]: BM25 ranking of skills for `search_skills`.
//! - [`trace`]: what an agent did: `run_python` steps (pure model).
//! - [`agent`]: the consumer agent: a skill if one fits, else `run_python`
//!   steps, then `crystallize` (an MCP client of AutoLearn).
//! - [`practice`]: learning by building: curricula, projects, the
//!   practice loop and its KPIs.
//! - [`cli`]: the `autolearn` command line.
//! - [`bench`]: benchmarks that report ratios against a baseline.

pub mod agent;
pub mod api;
pub mod app;
pub mod bench;
pub mod cli;
pub mod config;
pub mod fault;
pub mod learn;
pub mod limits;
pub mod llm;
pub mod lru;
pub mod mcp;
pub mod metrics;
pub mod pip;
pub mod practice;
pub mod python_imports;
pub mod python_methods;
pub mod quota;
pub mod runtime;
pub mod sandbox;
pub mod search;
pub mod skills;
pub mod slots;
pub mod store;
pub mod tasks;
pub mod text;
pub mod trace;
