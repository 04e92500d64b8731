//! The one integration-test binary (one link, shared sandbox). Each module
//! is one concern.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "tests"
)]

mod util;
// A fresh database of either backend, and tests run on both.
mod db;

// Typed errors for each limit, and that the host survives each.
mod sandbox_limits;
// A stranger's skill probing for a way out: files, network, processes, state.
mod sandbox_escape_security;
// The data runtime: numpy and pandas results, and its own hostile cases.
mod sandbox_data;
// Exceptions built to break the harness that reports them.
mod sandbox_faults_security;
// Memory reset between calls on one pool slot, however scattered the writes.
mod sandbox_reset;
// Every module the snapshot promises really works inside the sandbox.
mod sandbox_stdlib;
// Seeded randomness and a frozen clock give byte-identical output.
mod determinism;
// In-sandbox static check, tests and coverage.
mod verification;
// Skills built on skills, pinned by hash.
mod composition;
// Content-hashed store: persistence, lineage, tamper detection.
mod store;
// The rest of the store, and migrations, on both backends.
mod store_rows;
// Agents' traces in the store: joining, caps, pruning.
mod traces;
// The application core: running skills by name, never a stale version.
mod app;
// The host around the sandbox under attack: forged verdicts, floods.
mod host_security;
// The hash-chained learnings log.
mod learnings;
// Tasks: per tenant, across replicas, ended with a reason, bounded.
mod tasks;
// Per-tenant quotas across replicas, on both backends.
mod quotas;
// A local fake of the OpenAI API, serving recorded answers.
mod fake_llm;
// Skills from plain English, against a fake OpenAI endpoint.
mod generate;
// Drafts a person settles.
mod drafts;
// The consumer agent: solve, crystallize, then reuse the skill.
mod agent;
// Practice: curriculum projects, start → work → complete.
mod practice;
// AutoLearn's long tools over MCP: learn as a task, generate_skill's questions.
mod mcp_tasks;
// The learning API over HTTP, and a restart in the middle of work.
mod learning_api;
// `autolearn bench learn` and its practice set.
mod bench_learn;
// The REST API of the web UI: execution log, reset, the origin guard.
mod web_api;
// OAuth access tokens from an issuer the test runs, and hostile ones.
mod oauth;
// The real binary: exit codes, JSON errors, restart persistence.
mod cli;
// The layout: imports run only down the floors, and files import no circle.
mod layers;
// Each error kind as MCP and REST report it; a host fault keeps its text.
mod error_kinds;
