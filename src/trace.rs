//! What an agent did: traces of `run_python` steps. Pure model, no I/O.
//!
//! A trace lives in the database (see [`crate::store`]) so that it
//! survives restarts and spans requests of stateless clients. Which trace a
//! step joins is decided by [`TraceRef`], in the order the MCP built-ins
//! document: an explicit id, else the legacy session's own trace, else the
//! tenant's open trace.

use crate::runtime::Runtime;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One `run_python` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The cell's code.
    pub code: String,
    /// Variables bound before it ran.
    #[serde(default)]
    pub inputs: Map<String, Value>,
    /// Its value (last expression or `result`), when it succeeded.
    #[serde(default)]
    pub value: Option<Value>,
    /// Names the cell bound.
    #[serde(default)]
    pub names: Vec<String>,
    /// Values of the names it bound that are JSON and small: what lets a
    /// later step's input be traced back to the cell that computed it.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub bound: Map<String, Value>,
    /// The error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The agent reported this step's result back as its answer to the
    /// person (`run_python` with `answer: true`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub answer: bool,
    /// The interpreter it ran on (left out when `core`).
    #[serde(default, skip_serializing_if = "Runtime::is_core")]
    pub runtime: Runtime,
}

/// Which trace a step joins, or which trace to crystallize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceRef {
    /// A trace id the client passed.
    Id(TraceId),
    /// The trace of a legacy MCP session.
    Session(String),
    /// The tenant's open trace (stateless clients, stdio).
    Open,
}

/// A trace id: 1 to 64 of `[A-Za-z0-9_-]`. Server-made ids are `t_` and 24
/// hex digits; a client may name its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TraceId(String);

impl TraceId {
    /// A fresh random id.
    pub fn random() -> Self {
        use rand::Rng;
        let mut bytes = [0u8; 12];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("t_{}", hex::encode(bytes)))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for TraceId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "invalid trace id {:?}: use 1 to 64 letters, digits, '_' or '-'",
                crate::text::truncate(s, 80)
            ))
        }
    }
}

impl std::fmt::Display for TraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A trace as listed: its id, how it is kept, and its size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceSummary {
    /// The id.
    pub id: TraceId,
    /// `explicit`, `session` or `open`.
    pub kind: String,
    /// Steps recorded (kept).
    pub steps: u32,
    /// When its first step was recorded (ms since the Unix epoch).
    pub created_ms: i64,
    /// When its last step was recorded.
    pub updated_ms: i64,
    /// Whether it was closed (crystallized, or idle too long).
    pub closed: bool,
    /// The skill it became, if any.
    pub skill: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_and_plain() {
        assert!("t_abc".parse::<TraceId>().is_ok());
        assert!("agent-1_run".parse::<TraceId>().is_ok());
        assert!("".parse::<TraceId>().is_err());
        assert!("a b".parse::<TraceId>().is_err());
        assert!("x".repeat(65).parse::<TraceId>().is_err());
        let r = TraceId::random();
        assert_eq!(r.as_str().len(), 26);
        assert!(r.as_str().parse::<TraceId>().is_ok());
    }
}
