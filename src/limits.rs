//! The host's limits: a bound on every piece of work that untrusted data
//! can drive, sandbox or not.
//!
//! The sandbox bounds guest code (fuel, memory, deadline: see
//! [`crate::sandbox::ResourceLimits`]). Everything else the host does on a
//! caller's behalf, validating schemas, keeping traces, searching,
//! formatting errors, holding sessions and sockets, is bounded here. One
//! plain struct with documented, deny-leaning defaults; a tenant may carry
//! overrides ([`TenantOverrides`], `autolearn tenant set-limits`), and the
//! server-wide values come from flags.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::skills::SkillLimits;

/// Every host bound, resolved for one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Sizes and complexity of what a skill may hold.
    pub skill: SkillLimits,
    /// Sandbox calls this tenant may have running or queued for a slot at
    /// once; its share of the instance pool. Default: 4.
    pub concurrent_calls: usize,
    /// Largest JSON input of one call (a skill's input, or `run_python`'s
    /// `inputs`), in bytes. Default: 1 MiB.
    pub input_bytes: usize,
    /// Largest `run_python` cell, in bytes. Default: 64 KiB.
    pub code_bytes: usize,
    /// Steps kept per trace; the oldest go first. Default: 256.
    pub trace_steps: usize,
    /// Bytes kept per trace (code, inputs and values of its steps); the
    /// oldest steps go first. Default: 4 MiB.
    pub trace_bytes: usize,
    /// Longest `search_skills` query, in bytes. Default: 512.
    pub query_bytes: usize,
    /// Open MCP sessions per tenant. Default: 32.
    pub sessions: usize,
    /// A tenant's open trace (the one stateless clients share) closes after
    /// this long without a step. Default: 30 minutes.
    pub trace_idle: Duration,
    /// Traces idle longer than this are deleted. Default: 7 days.
    pub trace_max_age: Duration,
    /// Traces kept per tenant (the newest). Default: 1000.
    pub traces_kept: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            skill: SkillLimits::default(),
            concurrent_calls: 4,
            input_bytes: 1 << 20,
            code_bytes: 64 << 10,
            trace_steps: 256,
            trace_bytes: 4 << 20,
            query_bytes: 512,
            sessions: 32,
            trace_idle: Duration::from_secs(30 * 60),
            trace_max_age: Duration::from_secs(7 * 24 * 3600),
            traces_kept: 1000,
        }
    }
}

impl Limits {
    /// These limits with a tenant's overrides applied.
    pub fn with(&self, o: &TenantOverrides) -> Self {
        let mut l = self.clone();
        let set = |field: &mut usize, v: Option<usize>| {
            if let Some(v) = v {
                *field = v;
            }
        };
        set(&mut l.concurrent_calls, o.concurrent_calls);
        set(&mut l.input_bytes, o.input_bytes);
        set(&mut l.code_bytes, o.code_bytes);
        set(&mut l.trace_steps, o.trace_steps);
        set(&mut l.trace_bytes, o.trace_bytes);
        set(&mut l.query_bytes, o.query_bytes);
        set(&mut l.sessions, o.sessions);
        set(&mut l.skill.description_bytes, o.description_bytes);
        set(&mut l.skill.source_bytes, o.source_bytes);
        set(&mut l.skill.examples, o.examples);
        set(&mut l.skill.examples_bytes, o.examples_bytes);
        l
    }
}

/// A tenant's overrides of [`Limits`]; absent fields keep the server's
/// value. Stored as JSON with the tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantOverrides {
    /// See [`Limits::concurrent_calls`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrent_calls: Option<usize>,
    /// See [`Limits::input_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_bytes: Option<usize>,
    /// See [`Limits::code_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_bytes: Option<usize>,
    /// See [`Limits::trace_steps`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_steps: Option<usize>,
    /// See [`Limits::trace_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_bytes: Option<usize>,
    /// See [`Limits::query_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_bytes: Option<usize>,
    /// See [`Limits::sessions`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<usize>,
    /// See [`SkillLimits::description_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_bytes: Option<usize>,
    /// See [`SkillLimits::source_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_bytes: Option<usize>,
    /// See [`SkillLimits::examples`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examples: Option<usize>,
    /// See [`SkillLimits::examples_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examples_bytes: Option<usize>,
}

impl TenantOverrides {
    /// Set one field from `key=value` text (the CLI's form).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let v: usize = value
            .parse()
            .map_err(|_| format!("{key}: {value:?} is not a non-negative integer"))?;
        if v == 0 {
            return Err(format!("{key}: must be at least 1"));
        }
        let slot = match key {
            "concurrent_calls" => &mut self.concurrent_calls,
            "input_bytes" => &mut self.input_bytes,
            "code_bytes" => &mut self.code_bytes,
            "trace_steps" => &mut self.trace_steps,
            "trace_bytes" => &mut self.trace_bytes,
            "query_bytes" => &mut self.query_bytes,
            "sessions" => &mut self.sessions,
            "description_bytes" => &mut self.description_bytes,
            "source_bytes" => &mut self.source_bytes,
            "examples" => &mut self.examples,
            "examples_bytes" => &mut self.examples_bytes,
            other => return Err(format!("unknown limit {other:?}")),
        };
        *slot = Some(v);
        Ok(())
    }
}

/// Bounds on the server itself, shared by every tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    /// Open TCP connections; further clients wait in the listen backlog.
    /// Default: 512.
    pub connections: usize,
    /// Open MCP sessions across all tenants. Default: 1024.
    pub sessions: usize,
    /// Time a client has to send a request's headers. Default: 10 s.
    pub header_timeout: Duration,
    /// Time a client has to send a request's whole body. Default: 30 s.
    pub body_timeout: Duration,
    /// Largest request body, in bytes. Default: 4 MiB.
    pub body_bytes: usize,
    /// On SIGTERM, how long in-flight requests may take to finish before
    /// the server exits anyway. Default: 10 s.
    pub drain_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            connections: 512,
            sessions: 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            body_bytes: 4 << 20,
            drain_timeout: Duration::from_secs(10),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn overrides_replace_only_what_they_name() {
        let mut o = TenantOverrides::default();
        o.set("concurrent_calls", "9").unwrap();
        o.set("description_bytes", "100").unwrap();
        let l = Limits::default().with(&o);
        assert_eq!(l.concurrent_calls, 9);
        assert_eq!(l.skill.description_bytes, 100);
        assert_eq!(l.sessions, Limits::default().sessions);
        assert!(o.set("nope", "1").is_err());
        assert!(o.set("sessions", "0").is_err());
        assert!(o.set("sessions", "-1").is_err());
    }
}
