//! The only `bindgen!` in the crate, generated from `runtime/wit`, the WIT
//! world the guest harness is built from.
//!
//! Exports are async on purpose: WASI host calls such as a clock sleep are
//! tokio futures, and only an async call lets the host drop such a future at
//! the deadline. A sync call would block in the host where the epoch
//! interrupt cannot reach (a `time.sleep(3600)` would hold its slot an hour).

// `run-compiled` takes the store plus seven parameters; the WIT is the API.
#![allow(
    clippy::too_many_arguments,
    reason = "generated from the WIT world, whose exports take many parameters"
)]

wasmtime::component::bindgen!({
    world: "skill-runtime",
    path: "runtime/wit",
    exports: { default: async },
});
