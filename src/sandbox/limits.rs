//! Per-call resource limits.
//!
//! A plain struct with a deny-leaning [`Default`]: a skill written by a
//! stranger gets a little CPU, a little memory and no time to waste.
//! Callers loosen it per call; [`ResourceLimits::generous`] is for trusted
//! work such as test runs with coverage.

use std::time::Duration;

/// Limits enforced on one sandboxed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceLimits {
    /// Wasm fuel for the call; about 1e9 units are 100 ms of CPU here.
    /// Default: 2e9.
    pub fuel: u64,
    /// Wall-clock deadline, enforced through epoch interruption so that a
    /// skill blocked in the host cannot outlive it. Default: 2 s.
    pub deadline: Duration,
    /// Cap on each of the instance's linear memories. Default: 256 MiB.
    /// Must not exceed [`super::SandboxConfig::max_memory_bytes`].
    pub memory_bytes: u64,
    /// Bytes of stdout and of stderr kept; writing more ends the call.
    /// Default: 64 KiB.
    pub output_bytes: usize,
    /// Largest result, as JSON text, the host accepts. Default: 1 MiB.
    pub result_bytes: usize,
}

impl Default for ResourceLimits {
    fn default() -> Self {
        Self {
            fuel: 2_000_000_000,
            deadline: Duration::from_secs(2),
            memory_bytes: 256 << 20,
            output_bytes: 64 << 10,
            result_bytes: 1 << 20,
        }
    }
}

impl ResourceLimits {
    /// Roomier limits for verification runs (tests with coverage) of code
    /// that already passed the static checks; still bounded.
    pub fn generous() -> Self {
        Self {
            fuel: 20_000_000_000,
            deadline: Duration::from_secs(20),
            memory_bytes: 512 << 20,
            output_bytes: 1 << 20,
            result_bytes: 8 << 20,
        }
    }
}

/// How the sandbox supplies randomness and time to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Determinism {
    /// Fresh entropy from the host and the real clocks.
    #[default]
    Live,
    /// A RNG seeded with this value and clocks frozen at a fixed instant,
    /// so the same (skill, input) gives byte-identical output.
    Seeded(u64),
}
