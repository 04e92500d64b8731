//! AutoLearn: an MCP server that learns skills.
//!
//! The layout follows the flow of a skill:
//!
//! - [`sandbox`]: CPython on WASI under wasmtime; runs untrusted code.
//! - [`skills`]: the skill model and its content hash. Pure.
//! - [`store`]: skills in SQLite through sqlx, hash-checked on load.
//! - [`config`]: where data lives, and the defaults.
//! - [`cli`]: the `autolearn` command line.
//! - [`bench`]: benchmarks that report ratios against a baseline.

pub mod api;
pub mod app;
pub mod bench;
pub mod cli;
pub mod config;
pub mod learn;
pub mod mcp;
pub mod sandbox;
pub mod skills;
pub mod store;
