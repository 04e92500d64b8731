//! Memoized calls of pure skills. A skill whose author opted in
//! (`SkillManifest::memoize`) and whose KPIs say it is deterministic (three
//! runs with fresh entropy and the real clock agreed) has its successful
//! results cached by (tenant, skill id, canonical input). A hit answers
//! without the sandbox, the quota or the tenant's admission share: it uses
//! none of them. A changed skill has a new id, so its old entries are never
//! hit again and age out. Off by default.
//!
//! Each tenant has its own entries ([`crate::lru`]): two tenants who
//! publish the same skill and call it with the same input each pay for
//! their first call, so neither the `_meta` hit marker nor the timing tells
//! one that the other made that call; and one tenant's flood evicts only
//! its own entries. Bounded: [`BOUNDS`] (a result over 256 KiB is not kept).

use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::lru::{Bounds, PartitionedLru};
use crate::sandbox::RunOutput;
use crate::skills::Skill;

/// Results kept: 10,000 and 64 MiB in all; a quarter of each per tenant.
pub(super) const BOUNDS: Bounds = Bounds {
    entries: 10_000,
    bytes: 64 << 20,
    partition_entries: 2_500,
    partition_bytes: 16 << 20,
    entry_bytes: 256 << 10,
};

/// A result kept for reuse.
pub(super) struct Memoized {
    pub output: RunOutput,
    pub value: Value,
}

impl Memoized {
    fn bytes(&self) -> usize {
        self.output.json.len() + self.output.stdout.len() + self.output.stderr.len()
    }
}

/// The process's memo.
pub(super) struct Memo(PartitionedLru<[u8; 32], Arc<Memoized>>);

impl Default for Memo {
    fn default() -> Self {
        Self(PartitionedLru::new(BOUNDS))
    }
}

/// Whether calls of `skill` may be memoized.
pub(super) fn memoizable(skill: &Skill) -> bool {
    skill.manifest.memoize && skill.kpis.deterministic
}

/// The key of a call: the skill's content hash and its input with every
/// object's keys sorted, so the same input written in another key order
/// finds the same entry.
pub(super) fn key(skill: &Skill, input: &Value) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(skill.id.as_str().as_bytes());
    h.update([0]);
    canonical(input, &mut h);
    h.finalize().into()
}

fn canonical(v: &Value, h: &mut Sha256) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            h.update(b"{");
            for k in keys {
                h.update(Value::String(k.clone()).to_string().as_bytes());
                h.update(b":");
                canonical(&map[k], h);
                h.update(b",");
            }
            h.update(b"}");
        }
        Value::Array(items) => {
            h.update(b"[");
            for item in items {
                canonical(item, h);
                h.update(b",");
            }
            h.update(b"]");
        }
        other => h.update(other.to_string().as_bytes()),
    }
}

impl Memo {
    pub fn get(&self, tenant: &str, key: &[u8; 32]) -> Option<Arc<Memoized>> {
        self.0.get(tenant, key)
    }

    pub fn put(&self, tenant: &str, key: [u8; 32], hit: Memoized) {
        let size = hit.bytes();
        self.0.put(tenant, key, Arc::new(hit), size);
    }

    /// Forget `tenant`'s results (its skills were reset or removed).
    pub fn forget_tenant(&self, tenant: &str) {
        self.0.remove_partition(tenant);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use serde_json::json;

    fn digest(v: &Value) -> [u8; 32] {
        let mut h = Sha256::new();
        canonical(v, &mut h);
        h.finalize().into()
    }

    #[test]
    fn key_order_does_not_matter_but_values_and_nesting_do() {
        let a: Value = serde_json::from_str(r#"{"a": 1, "b": {"x": [1, 2], "y": "s"}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b": {"y": "s", "x": [1, 2]}, "a": 1}"#).unwrap();
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(
            digest(&a),
            digest(&json!({"a": 1, "b": {"x": [2, 1], "y": "s"}}))
        );
        assert_ne!(digest(&json!({"a": "1"})), digest(&json!({"a": 1})));
        assert_ne!(digest(&json!([["a"], "b"])), digest(&json!([["a", "b"]])));
    }
}
