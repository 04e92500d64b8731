//! The door: how a call's answer leaves the guest (the package's
//! `host.call` import), and what the answer may say.

use serde::Deserialize;
use wasmtime::Caller;

use super::DataState;
use crate::sandbox::GuestFault;

/// The largest answer the door takes: past it the call fails as too large.
pub(super) const MAX_ANSWER: usize = 64 << 20;

/// What the harness answered.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Answer {
    /// The entry point's own result (JSON text, or the source for compose).
    Ok(String),
    /// The guest classified a failure.
    Fault(WireFault),
    /// The request itself was wrong: a host bug.
    Host(String),
}

/// A fault as the boot sends it: the WIT record, by name.
#[derive(Debug, Deserialize)]
pub(super) struct WireFault {
    kind: String,
    error_type: String,
    message: String,
    traceback: String,
    line: u32,
}

/// The door: the guest's one way to hand the host its answer. The last
/// frame wins (the harness sends it after the skill has run); nothing is
/// written back, so the guest sees an empty response.
pub(super) fn door(
    mut caller: Caller<'_, DataState>,
    ptr: i32,
    len: i32,
    out_ptr_ptr: i32,
    out_len_ptr: i32,
) -> i32 {
    const HOST_FAULT: i32 = -2;
    let Some(memory) = caller
        .get_export("memory")
        .and_then(wasmtime::Extern::into_memory)
    else {
        return HOST_FAULT;
    };
    let at = |v: i32| usize::try_from(v.cast_unsigned()).unwrap_or(usize::MAX);
    let (ptr, len) = (at(ptr), at(len));
    let (out_ptr_ptr, out_len_ptr) = (at(out_ptr_ptr), at(out_len_ptr));
    let size = memory.data_size(&caller);
    let fits = |start: usize, n: usize| start.checked_add(n).is_some_and(|end| end <= size);
    if !fits(ptr, len) || !fits(out_ptr_ptr, 4) || !fits(out_len_ptr, 4) {
        return HOST_FAULT;
    }
    if len > MAX_ANSWER {
        caller.data_mut().answer_too_large = Some(len);
        caller.data_mut().answer = None;
    } else {
        let frame = memory.data(&caller)[ptr..ptr + len].to_vec();
        caller.data_mut().answer = Some(frame);
        caller.data_mut().answer_too_large = None;
    }
    let data = memory.data_mut(&mut caller);
    data[out_ptr_ptr..out_ptr_ptr + 4].copy_from_slice(&0u32.to_le_bytes());
    data[out_len_ptr..out_len_ptr + 4].copy_from_slice(&0u32.to_le_bytes());
    0
}

/// A fault from the wire, as the core runtime would have reported it.
pub(super) fn wire_fault(f: WireFault) -> GuestFault {
    use crate::sandbox::bindings::FaultKind as K;
    let kind = match f.kind.as_str() {
        "syntax" => K::Syntax,
        "missing-entry" => K::MissingEntry,
        "bad-input" => K::BadInput,
        "memory" => K::Memory,
        "recursion" => K::Recursion,
        "exit" => K::Exit,
        "bad-output" => K::BadOutput,
        "forbidden-import" => K::ForbiddenImport,
        _ => K::Exception,
    };
    crate::sandbox::outcome::guest_fault(crate::sandbox::bindings::Fault {
        kind,
        error_type: f.error_type,
        message: f.message,
        traceback: f.traceback,
        line: f.line,
    })
}
