//! The sandbox's vocabulary: what goes into a call and what comes out.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Dependency;
use crate::runtime::Runtime;

/// Facts about the loaded artifact, for logs and benchmarks.
#[derive(Debug, Clone, Serialize)]
pub struct ArtifactInfo {
    /// sha256 of the `.wasm`.
    pub sha256: String,
    /// The precompile cache key.
    pub cache_key: String,
    /// Whether this start had to precompile.
    pub compiled_now: bool,
    /// How long loading took (including any precompile).
    pub load_time: Duration,
}

/// The code of one skill, as the sandbox sees it.
#[derive(Debug, Clone, Copy)]
pub struct SkillCode<'a> {
    /// Used in tracebacks as `<skill:NAME>`.
    pub name: &'a str,
    /// Python source.
    pub source: &'a str,
    /// The function called with the input's fields as keyword arguments.
    pub entry: &'a str,
    /// The skills it may import as `skills.<name>`: the whole closure of
    /// its prerequisites, each at the version its caller pinned.
    pub deps: &'a [Dependency],
    /// The interpreter it runs on.
    pub runtime: Runtime,
}

impl<'a> SkillCode<'a> {
    /// A skill that builds on no other skill.
    pub fn new(name: &'a str, source: &'a str, entry: &'a str) -> Self {
        Self {
            name,
            source,
            entry,
            deps: &[],
            runtime: Runtime::Core,
        }
    }

    /// The same code on `runtime`.
    pub fn on(self, runtime: Runtime) -> Self {
        Self { runtime, ..self }
    }
}

/// A successful call.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutput {
    /// The result as JSON text, exactly as the skill produced it.
    pub json: String,
    /// What the skill printed.
    pub stdout: String,
    /// What the skill wrote to stderr.
    pub stderr: String,
    /// Fuel the call used (instantiation included).
    pub fuel_used: u64,
    /// Wall time of the call, instantiation included.
    pub elapsed: Duration,
}

/// One finding of the in-sandbox static check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// 1-based line.
    pub line: u32,
    /// 0-based column.
    pub col: u32,
    /// A short code: `E999` syntax, `F821` undefined name, `S00x` forbidden
    /// construct, `W00x` warning, `D100` documentation.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// `error`, `warning` or `info`.
    pub severity: String,
}

/// One test case: an input and, optionally, the output it must give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    /// Keyword arguments for the entry function.
    pub input: serde_json::Value,
    /// The expected result; without it the case only has to run cleanly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<serde_json::Value>,
}

/// What a test run found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestReport {
    /// One result per case, in order.
    pub cases: Vec<serde_json::Value>,
    /// Cases that passed.
    pub passed: u32,
    /// Cases that failed.
    pub failed: u32,
    /// Line coverage of the skill's source.
    pub coverage: Coverage,
    /// Set when the module itself failed to load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_error: Option<serde_json::Value>,
}

/// Line coverage of a test run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Coverage {
    /// Lines with code on them.
    pub executable: u32,
    /// Of those, lines that ran.
    pub hit: u32,
    /// `hit / executable` in percent.
    pub percent: f64,
    /// Lines that never ran.
    pub missed: Vec<u32>,
}
