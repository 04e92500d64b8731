//! Per-tenant quotas: what a hosted tenant may use, counted in the
//! database so that every replica agrees (`autolearn tenant set-quota`).
//!
//! Limits ([`crate::limits`]) bound one piece of work; quotas bound a
//! tenant's use over time and across the whole deployment:
//!
//! | quota                 | counted                                   | window         |
//! |-----------------------|-------------------------------------------|----------------|
//! | `calls_per_minute`    | skill calls and `run_python` cells        | the UTC minute |
//! | `fuel_per_day`        | sandbox fuel they burn                    | the UTC day    |
//! | `generations_per_day` | skill generations started (LLM)           | the UTC day    |
//! | `skills`              | skill names whose newest version is live  | none           |
//! | `concurrent_calls`    | calls and cells running, on all replicas  | none           |
//!
//! Windows are fixed and aligned to UTC, so "trips at its number" is
//! exact: the Nth call of a minute is served and the N+1th refused, with
//! `Retry-After` set to the start of the next window. Fuel is reserved
//! before a call (at most what is left today) and the unburnt part given
//! back after it, so concurrent calls can never overspend a day's fuel.
//! Pure types; the counting is [`crate::store::SkillStore::begin_call`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One tenant's quotas; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quotas {
    /// Skill calls per UTC minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls_per_minute: Option<u64>,
    /// Sandbox fuel per UTC day (about 1e9 units are 100 ms of CPU).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel_per_day: Option<u64>,
    /// Skills stored (names whose newest version is not retired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skills: Option<u64>,
    /// Skill generations (LLM) per UTC day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generations_per_day: Option<u64>,
    /// Skill calls running at once, across every replica.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrent_calls: Option<u64>,
}

/// Which quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaKind {
    /// [`Quotas::calls_per_minute`].
    CallsPerMinute,
    /// [`Quotas::fuel_per_day`].
    FuelPerDay,
    /// [`Quotas::skills`].
    Skills,
    /// [`Quotas::generations_per_day`].
    GenerationsPerDay,
    /// [`Quotas::concurrent_calls`].
    ConcurrentCalls,
}

impl QuotaKind {
    /// Every quota, in the order `tenant set-quota` lists them.
    pub const ALL: [Self; 5] = [
        Self::CallsPerMinute,
        Self::FuelPerDay,
        Self::Skills,
        Self::GenerationsPerDay,
        Self::ConcurrentCalls,
    ];

    /// The key in `tenant set-quota KEY=VALUE`, in errors and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CallsPerMinute => "calls_per_minute",
            Self::FuelPerDay => "fuel_per_day",
            Self::Skills => "skills",
            Self::GenerationsPerDay => "generations_per_day",
            Self::ConcurrentCalls => "concurrent_calls",
        }
    }

    /// The counting window, for the windowed quotas.
    pub fn window(self) -> Option<Duration> {
        match self {
            Self::CallsPerMinute => Some(MINUTE),
            Self::FuelPerDay | Self::GenerationsPerDay => Some(DAY),
            Self::Skills | Self::ConcurrentCalls => None,
        }
    }
}

impl std::fmt::Display for QuotaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(86_400);

/// A tenant used all of a quota.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("quota exceeded: {kind} is {limit} for this tenant{}", retry_text(*.retry_after))]
pub struct QuotaExceeded {
    /// Which quota.
    pub kind: QuotaKind,
    /// Its value.
    pub limit: u64,
    /// When trying again can succeed (the next window, or soon for
    /// `concurrent_calls`); `None` when only a change helps (`skills`:
    /// retire one, or ask for more).
    pub retry_after: Option<Duration>,
}

fn retry_text(retry: Option<Duration>) -> String {
    match retry {
        Some(d) => format!("; try again in {} s", d.as_secs().max(1)),
        None => "; retire a skill or ask for a larger quota".into(),
    }
}

impl QuotaExceeded {
    /// `Retry-After` in whole seconds (at least 1), if retrying can help.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after
            .map(|d| d.as_secs_f64().ceil().max(1.0) as u64)
    }
}

impl crate::fault::Classify for QuotaExceeded {
    fn kind(&self) -> &'static str {
        "quota_exceeded"
    }
    fn retry_after(&self) -> Option<std::time::Duration> {
        self.retry_after
    }
    fn detail(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("quota".into(), serde_json::json!(self.kind));
        m.insert("limit".into(), self.limit.into());
        // Said even when waiting does not help (a quota of stored skills).
        m.insert(
            "retry_after_seconds".into(),
            serde_json::json!(self.retry_after_secs()),
        );
        m
    }
}

impl Quotas {
    /// The value of one quota.
    pub fn get(&self, kind: QuotaKind) -> Option<u64> {
        match kind {
            QuotaKind::CallsPerMinute => self.calls_per_minute,
            QuotaKind::FuelPerDay => self.fuel_per_day,
            QuotaKind::Skills => self.skills,
            QuotaKind::GenerationsPerDay => self.generations_per_day,
            QuotaKind::ConcurrentCalls => self.concurrent_calls,
        }
    }

    /// Whether a skill call needs counting at all.
    pub fn limits_calls(&self) -> bool {
        self.calls_per_minute.is_some()
            || self.fuel_per_day.is_some()
            || self.concurrent_calls.is_some()
    }

    /// Set `key` (a [`QuotaKind::as_str`]) to a count, or `none` to lift it.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let kind = QuotaKind::ALL
            .into_iter()
            .find(|k| k.as_str() == key)
            .ok_or_else(|| {
                let keys: Vec<_> = QuotaKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown quota {key:?}; quotas are {}", keys.join(", "))
            })?;
        let value = match value {
            "none" | "unlimited" => None,
            v => Some(parse_count(v).ok_or_else(|| {
                format!("{key} must be a whole number (1000, 1_000, 1e3) or `none`, not {v:?}")
            })?),
        };
        let slot = match kind {
            QuotaKind::CallsPerMinute => &mut self.calls_per_minute,
            QuotaKind::FuelPerDay => &mut self.fuel_per_day,
            QuotaKind::Skills => &mut self.skills,
            QuotaKind::GenerationsPerDay => &mut self.generations_per_day,
            QuotaKind::ConcurrentCalls => &mut self.concurrent_calls,
        };
        *slot = value;
        Ok(())
    }
}

/// `1000`, `1_000` or `1e3`: a whole, non-negative count.
fn parse_count(text: &str) -> Option<u64> {
    let text = text.replace('_', "");
    if let Ok(n) = text.parse::<u64>() {
        return Some(n);
    }
    let f: f64 = text.parse().ok()?;
    // Below 2^53 every whole f64 is exact.
    (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 9.0e15).then_some(f as u64)
}

/// The start of the window holding `now_ms`, and the time left in it.
pub fn window_at(window: Duration, now_ms: i64) -> (i64, Duration) {
    let len = i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1);
    let start = now_ms - now_ms.rem_euclid(len);
    let left = u64::try_from(start + len - now_ms).unwrap_or(0);
    (start, Duration::from_millis(left))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn set_parses_counts_and_none_and_names_the_keys() {
        let mut q = Quotas::default();
        q.set("calls_per_minute", "120").unwrap();
        q.set("fuel_per_day", "5_000_000_000").unwrap();
        assert_eq!(q.calls_per_minute, Some(120));
        assert_eq!(q.fuel_per_day, Some(5_000_000_000));
        assert!(q.limits_calls());
        q.set("calls_per_minute", "none").unwrap();
        q.set("fuel_per_day", "none").unwrap();
        assert!(!q.limits_calls());
        let err = q.set("calls", "1").unwrap_err();
        assert!(err.contains("calls_per_minute"), "{err}");
        assert!(q.set("skills", "-1").is_err());
        q.set("fuel_per_day", "1e12").unwrap();
        assert_eq!(q.fuel_per_day, Some(1_000_000_000_000));
        assert!(q.set("fuel_per_day", "1.5").is_err());
    }

    #[test]
    fn windows_align_to_utc() {
        let (start, left) = window_at(MINUTE, 125_500);
        assert_eq!((start, left), (120_000, Duration::from_millis(54_500)));
        let (start, left) = window_at(DAY, 86_400_000 * 3 + 1);
        assert_eq!(start, 86_400_000 * 3);
        assert_eq!(left, Duration::from_millis(86_400_000 - 1));
    }

    #[test]
    fn retry_after_rounds_up_to_a_whole_second() {
        let e = QuotaExceeded {
            kind: QuotaKind::CallsPerMinute,
            limit: 5,
            retry_after: Some(Duration::from_millis(1_200)),
        };
        assert_eq!(e.retry_after_secs(), Some(2));
        assert!(e.to_string().contains("calls_per_minute is 5"), "{e}");
    }
}
