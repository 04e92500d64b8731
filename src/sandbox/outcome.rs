//! Turning what an instance did into a result: a guest fault, a trap, a
//! stream that hit its cap, or JSON checked before the host believes it.

use std::time::Instant;

use wasmtime::Trap;
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use super::bindings;
use super::{CallError, ErrorKind, GuestFault, ResourceLimits, RunOutput};
use crate::text::{MAX_MESSAGE_BYTES, MAX_TRACEBACK_BYTES, truncate};

/// Check a guest result the same way for every entry point: a fault after
/// a stream hit its cap is the cap's doing; the result must fit its cap and
/// be JSON (the guest is untrusted, so its "JSON" is checked, not assumed).
pub(super) fn finish(
    result: Result<String, GuestFault>,
    call: CallMeta,
    limits: &ResourceLimits,
    started: Instant,
) -> Result<RunOutput, CallError> {
    let json = result.map_err(|f| call.output_limit(limits).unwrap_or(CallError::Guest(f)))?;
    if json.len() > limits.result_bytes {
        return Err(CallError::ResultTooLarge {
            size: json.len(),
            limit: limits.result_bytes,
        });
    }
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&json) {
        return Err(CallError::Guest(GuestFault {
            kind: ErrorKind::BadOutput,
            error_type: "InvalidJson".into(),
            message: format!("the sandbox returned text that is not JSON: {e}"),
            traceback: String::new(),
            line: 0,
        }));
    }
    Ok(RunOutput {
        json,
        stdout: call.stdout,
        stderr: call.stderr,
        fuel_used: call.fuel_used,
        elapsed: started.elapsed(),
    })
}

pub(super) struct CallMeta {
    pub stdout: String,
    pub stderr: String,
    pub fuel_used: u64,
    /// The stream that reached its cap, if any.
    pub overflowed: Option<&'static str>,
}

impl CallMeta {
    /// A failure after a stream hit its cap is the cap's doing: the guest
    /// saw its stdout closed (EPIPE) and gave up.
    fn output_limit(&self, limits: &ResourceLimits) -> Option<CallError> {
        self.overflowed.map(|stream| CallError::OutputLimit {
            stream,
            limit_bytes: limits.output_bytes,
        })
    }
}

/// `MemoryOutputPipe` lets the guest write only what `check_write` permits,
/// then reports the stream closed: so a full pipe means the cap was hit.
pub(super) fn overflowed(
    limits: &ResourceLimits,
    stdout: &MemoryOutputPipe,
    stderr: &MemoryOutputPipe,
) -> Option<&'static str> {
    if stdout.contents().len() >= limits.output_bytes {
        Some("stdout")
    } else if stderr.contents().len() >= limits.output_bytes {
        Some("stderr")
    } else {
        None
    }
}

pub(super) fn lossy(pipe: &MemoryOutputPipe) -> String {
    String::from_utf8_lossy(&pipe.contents()).into_owned()
}

pub(super) fn classify_trap(
    e: &wasmtime::Error,
    limits: &ResourceLimits,
    memory_refused: bool,
    stdout: &MemoryOutputPipe,
    stderr: &MemoryOutputPipe,
) -> CallError {
    if let Some(trap) = e.downcast_ref::<Trap>() {
        match trap {
            Trap::OutOfFuel => return CallError::OutOfFuel { limit: limits.fuel },
            Trap::Interrupt => {
                return CallError::Timeout {
                    limit: limits.deadline,
                };
            }
            Trap::StackOverflow => return CallError::StackOverflow,
            _ => {}
        }
    }
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return CallError::Guest(GuestFault {
            kind: ErrorKind::Exit,
            error_type: "SystemExit".into(),
            message: format!("the skill exited the process with status {}", exit.0),
            traceback: String::new(),
            line: 0,
        });
    }
    let text = format!("{e:#}");
    if let Some(stream) = overflowed(limits, stdout, stderr) {
        return CallError::OutputLimit {
            stream,
            limit_bytes: limits.output_bytes,
        };
    }
    // MemoryOutputPipe traps a single write that would pass its cap.
    if text.contains("beyond capacity of MemoryOutputPipe") {
        let stream = if stderr.contents().len() > stdout.contents().len() {
            "stderr"
        } else {
            "stdout"
        };
        return CallError::OutputLimit {
            stream,
            limit_bytes: limits.output_bytes,
        };
    }
    if memory_refused {
        return CallError::MemoryLimit {
            limit_bytes: limits.memory_bytes,
        };
    }
    // The full text (a wasm backtrace of the runtime's internals, and what
    // the guest printed as it died) is for the operator's log; the caller
    // gets what trapped, on one line.
    tracing::warn!(
        "sandbox crash: {}; guest stderr: {}",
        truncate(&text, 8 * MAX_MESSAGE_BYTES),
        truncate(&lossy(stderr), MAX_MESSAGE_BYTES)
    );
    let what = match e.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => e.root_cause().to_string(),
    };
    let first = what.lines().next().unwrap_or("the guest stopped");
    CallError::Crash(truncate(first, MAX_MESSAGE_BYTES))
}

pub(super) fn guest_fault(f: bindings::Fault) -> GuestFault {
    use bindings::FaultKind as K;
    let kind = match f.kind {
        K::Syntax => ErrorKind::Syntax,
        K::MissingEntry => ErrorKind::MissingEntry,
        K::BadInput => ErrorKind::BadInput,
        K::Exception => ErrorKind::Exception,
        K::Memory => ErrorKind::MemoryLimit,
        K::Recursion => ErrorKind::Recursion,
        K::Exit => ErrorKind::Exit,
        K::BadOutput => ErrorKind::BadOutput,
        K::ForbiddenImport => ErrorKind::ForbiddenImport,
    };
    // The guest is untrusted: its texts are cut here, so every path (MCP,
    // CLI, REST, the store) sees bounded ones.
    GuestFault {
        kind,
        error_type: truncate(&f.error_type, 256),
        message: truncate(&f.message, MAX_MESSAGE_BYTES),
        traceback: truncate(&f.traceback, MAX_TRACEBACK_BYTES),
        line: f.line,
    }
}
