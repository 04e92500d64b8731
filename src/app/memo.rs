//! Memoized calls of pure skills. A skill whose author opted in
//! (`SkillManifest::memoize`) and whose KPIs say it is deterministic (three
//! runs with fresh entropy and the real clock agreed) has its successful
//! results cached by (skill id, canonical input) in one LRU shared by the
//! process. A hit answers without the sandbox, the quota or the tenant's
//! admission share: it uses none of them. A changed skill has a new id, so
//! its old entries are never hit again and age out. Off by default.
//!
//! Bounded: at most [`MAX_ENTRIES`] results and [`MAX_BYTES`] of result
//! and output text in all; a result over [`MAX_RESULT_BYTES`] is not kept.

use std::sync::{Arc, Mutex};

use hashlink::LruCache;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::sandbox::RunOutput;
use crate::skills::Skill;

const MAX_ENTRIES: usize = 10_000;
const MAX_BYTES: usize = 64 << 20;
const MAX_RESULT_BYTES: usize = 256 << 10;

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
pub(super) struct Memo {
    inner: Mutex<Inner>,
}

struct Inner {
    entries: LruCache<[u8; 32], Arc<Memoized>>,
    bytes: usize,
}

impl Default for Memo {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: LruCache::new(MAX_ENTRIES),
                bytes: 0,
            }),
        }
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
    pub fn get(&self, key: &[u8; 32]) -> Option<Arc<Memoized>> {
        self.lock().entries.get(key).cloned()
    }

    pub fn put(&self, key: [u8; 32], hit: Memoized) {
        let size = hit.bytes();
        if size > MAX_RESULT_BYTES {
            return;
        }
        let mut inner = self.lock();
        inner.bytes += size;
        if let Some(old) = inner.entries.insert(key, Arc::new(hit)) {
            inner.bytes -= old.bytes();
        }
        while inner.bytes > MAX_BYTES {
            match inner.entries.remove_lru() {
                Some((_, old)) => inner.bytes -= old.bytes(),
                None => break,
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
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
