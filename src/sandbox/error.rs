//! Errors of the sandbox.
//!
//! Two enums, kept apart on purpose: [`SandboxError`] means the sandbox
//! itself could not be set up (a host fault), [`CallError`] means one call
//! failed (the skill's fault, or a limit it hit). The host survives every
//! [`CallError`].

use std::time::Duration;

use serde::Serialize;

/// The sandbox could not be built or loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The Python-on-WASI artifact is missing or unreadable.
    #[error("cannot read the sandbox artifact {path}: {source} (build it with `make artifact`)")]
    ArtifactMissing {
        /// Where we looked.
        path: std::path::PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The artifact does not match the sha256 recorded when it was built.
    #[error("sandbox artifact {path} has sha256 {actual}, but its manifest records {expected}")]
    ArtifactTampered {
        /// The artifact.
        path: std::path::PathBuf,
        /// Recorded at build time.
        expected: String,
        /// Computed now.
        actual: String,
    },
    /// wasmtime rejected the configuration or the component.
    #[error("wasmtime: {0:#}")]
    Wasmtime(#[from] wasmtime::Error),
    /// The precompile cache could not be written.
    #[error("precompile cache {path}: {source}")]
    Cache {
        /// The cache file.
        path: std::path::PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A runtime that is fetched, not built in, is not there.
    #[error(
        "the {runtime} runtime is not fetched into {dir}: run `autolearn runtime fetch {runtime}`"
    )]
    RuntimeMissing {
        /// Which runtime.
        runtime: &'static str,
        /// Where it was looked for.
        dir: std::path::PathBuf,
    },
    /// Limits asked for more than the engine was configured to allow.
    #[error("invalid limits: {0}")]
    InvalidLimits(String),
}

/// What kind of failure a call ended with; stable, snake_case names that
/// the CLI and the MCP server report as `error.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The call used up its fuel.
    OutOfFuel,
    /// The call passed its wall-clock deadline.
    Timeout,
    /// The skill ran out of memory under its cap.
    MemoryLimit,
    /// The wasm call stack overflowed.
    StackOverflow,
    /// Python's recursion limit was hit.
    Recursion,
    /// stdout or stderr went past its cap.
    OutputLimit,
    /// The result went past its cap.
    ResultTooLarge,
    /// The input was rejected before or at the call.
    BadInput,
    /// The result is not JSON, or does not fit the output schema.
    BadOutput,
    /// The source does not compile.
    Syntax,
    /// The entry function does not exist.
    MissingEntry,
    /// The skill raised an exception.
    Exception,
    /// The skill called `sys.exit` or `os._exit`.
    Exit,
    /// The skill imported a module the sandbox does not offer.
    ForbiddenImport,
    /// The guest trapped for another reason.
    Crash,
    /// The host failed to run the call (not the skill's fault).
    Host,
}

impl ErrorKind {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OutOfFuel => "out_of_fuel",
            Self::Timeout => "timeout",
            Self::MemoryLimit => "memory_limit",
            Self::StackOverflow => "stack_overflow",
            Self::Recursion => "recursion",
            Self::OutputLimit => "output_limit",
            Self::ResultTooLarge => "result_too_large",
            Self::BadInput => "bad_input",
            Self::BadOutput => "bad_output",
            Self::Syntax => "syntax",
            Self::MissingEntry => "missing_entry",
            Self::Exception => "exception",
            Self::Exit => "exit",
            Self::ForbiddenImport => "forbidden_import",
            Self::Crash => "crash",
            Self::Host => "host",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One sandboxed call failed.
#[derive(Debug, Clone, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum CallError {
    /// The call used up its fuel.
    #[error("the skill used up its fuel ({limit} units)")]
    OutOfFuel {
        /// The fuel the call had.
        limit: u64,
    },
    /// The call passed its wall-clock deadline.
    #[error("the skill passed its {} ms deadline", .limit.as_millis())]
    Timeout {
        /// The deadline.
        limit: Duration,
    },
    /// A memory grow was refused and the call could not go on.
    #[error("the skill ran out of memory (cap {limit_bytes} bytes)")]
    MemoryLimit {
        /// The cap.
        limit_bytes: u64,
    },
    /// The wasm call stack overflowed.
    #[error("the skill overflowed the call stack")]
    StackOverflow,
    /// stdout or stderr went past its cap.
    #[error("the skill wrote more than {limit_bytes} bytes to {stream}")]
    OutputLimit {
        /// `stdout` or `stderr`.
        stream: &'static str,
        /// The cap.
        limit_bytes: usize,
    },
    /// The result went past its cap.
    #[error("the result is {size} bytes, over the {limit} byte cap")]
    ResultTooLarge {
        /// Its size.
        size: usize,
        /// The cap.
        limit: usize,
    },
    /// Rejected by the host before the call reached wasm.
    #[error("bad input: {0}")]
    BadInput(String),
    /// The guest harness reported a failure of the skill.
    #[error("{}", .0.summary())]
    Guest(GuestFault),
    /// The guest trapped for a reason not listed above.
    #[error("the sandbox crashed: {0}")]
    Crash(String),
    /// The host could not run the call.
    #[error("host error: {0}")]
    Host(String),
}

impl CallError {
    /// The stable kind name of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::OutOfFuel { .. } => ErrorKind::OutOfFuel,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::MemoryLimit { .. } => ErrorKind::MemoryLimit,
            Self::StackOverflow => ErrorKind::StackOverflow,
            Self::OutputLimit { .. } => ErrorKind::OutputLimit,
            Self::ResultTooLarge { .. } => ErrorKind::ResultTooLarge,
            Self::BadInput(_) => ErrorKind::BadInput,
            Self::Guest(f) => f.kind,
            Self::Crash(_) => ErrorKind::Crash,
            Self::Host(_) => ErrorKind::Host,
        }
    }

    /// The skill's traceback, when the guest produced one.
    pub fn traceback(&self) -> Option<&str> {
        match self {
            Self::Guest(f) if !f.traceback.is_empty() => Some(&f.traceback),
            _ => None,
        }
    }

    /// `{"kind", "message", ...}`: the error object the CLI and MCP report.
    pub fn to_json(&self) -> serde_json::Value {
        let mut obj = serde_json::json!({
            "kind": self.kind().as_str(),
            "message": self.to_string(),
        });
        if let Self::Guest(f) = self {
            obj["error_type"] = f.error_type.clone().into();
            obj["line"] = f.line.into();
            obj["traceback"] = f.traceback.clone().into();
        }
        obj
    }
}

impl crate::fault::Classify for CallError {
    fn kind(&self) -> &'static str {
        CallError::kind(self).as_str()
    }
    fn fault(&self) -> crate::fault::Fault {
        match self {
            Self::Host(_) => crate::fault::Fault::Host,
            _ => crate::fault::Fault::Caller,
        }
    }
    fn detail(&self) -> serde_json::Map<String, serde_json::Value> {
        match self.to_json() {
            serde_json::Value::Object(mut m) => {
                m.remove("kind");
                m.remove("message");
                m
            }
            _ => serde_json::Map::new(),
        }
    }
}

impl crate::fault::Classify for SandboxError {
    fn kind(&self) -> &'static str {
        match self {
            Self::InvalidLimits(_) => "bad_request",
            _ => "host",
        }
    }
    fn fault(&self) -> crate::fault::Fault {
        match self {
            Self::InvalidLimits(_) => crate::fault::Fault::Caller,
            _ => crate::fault::Fault::Host,
        }
    }
}

/// A failure the guest harness classified, with the skill's own traceback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuestFault {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The Python exception type, e.g. `ZeroDivisionError`.
    pub error_type: String,
    /// The exception message.
    pub message: String,
    /// The traceback, limited to the skill's frames, with source lines.
    pub traceback: String,
    /// The skill line where it failed; 0 if unknown.
    pub line: u32,
}

impl GuestFault {
    fn summary(&self) -> String {
        if self.line > 0 {
            format!("{}: {} (line {})", self.error_type, self.message, self.line)
        } else {
            format!("{}: {}", self.error_type, self.message)
        }
    }
}
