//! Prometheus metrics (`GET /metrics`, text format): skill calls and
//! their latency, fuel, errors by kind, quota rejections, LLM tokens and
//! database pool use, per tenant where cardinality allows.
//!
//! Each replica counts its own work; Prometheus sums replicas. Tenants are
//! labels, but at most [`MAX_TENANT_LABELS`] of them per process: past
//! that, new tenants are counted under `tenant="_other"`, so a flood of
//! tenants cannot grow the registry without bound.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Distinct tenant label values one process keeps.
pub const MAX_TENANT_LABELS: usize = 1000;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    tenant: String,
    /// `ok`, or the error kind.
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantLabels {
    tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QuotaLabels {
    tenant: String,
    quota: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    tenant: String,
    /// `prompt` or `completion`.
    direction: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    /// `idle` or `in_use`.
    state: String,
}

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    latency: Family<TenantLabels, Histogram>,
    fuel: Family<TenantLabels, Counter>,
    errors: Family<KindLabels, Counter>,
    quota_rejections: Family<QuotaLabels, Counter>,
    llm_tokens: Family<TokenLabels, Counter>,
    pool: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    relay_delay: Histogram,
    tenants: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn latency_histogram() -> Histogram {
    // 100 µs .. ~3.3 s, doubling.
    Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("autolearn");
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "skill_calls",
            "Skill calls, by tenant and outcome (ok, or the error kind)",
            calls.clone(),
        );
        let latency =
            Family::<TenantLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        registry.register(
            "skill_call_seconds",
            "Wall time of skill calls, from admission to result",
            latency.clone(),
        );
        let fuel = Family::<TenantLabels, Counter>::default();
        registry.register("fuel", "Sandbox fuel burnt by skill calls", fuel.clone());
        let errors = Family::<KindLabels, Counter>::default();
        registry.register(
            "errors",
            "Failed skill calls, by error kind",
            errors.clone(),
        );
        let quota_rejections = Family::<QuotaLabels, Counter>::default();
        registry.register(
            "quota_rejections",
            "Requests refused by a tenant quota",
            quota_rejections.clone(),
        );
        let llm_tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "llm_tokens",
            "Language-model tokens, by tenant and direction",
            llm_tokens.clone(),
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections, by state (at scrape time)",
            pool.clone(),
        );
        let pool_max = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "Largest size of the database pool",
            pool_max.clone(),
        );
        let relay_delay = Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        registry.register(
            "relay_delay_seconds",
            "From another replica's NOTIFY to this replica hearing it",
            relay_delay.clone(),
        );
        Self {
            registry,
            relay_delay,
            calls,
            latency,
            fuel,
            errors,
            quota_rejections,
            llm_tokens,
            pool,
            pool_max,
            tenants: Mutex::default(),
        }
    }
}

impl Metrics {
    /// The label for `tenant`: itself while there is room, else `_other`.
    fn tenant(&self, tenant: &str) -> String {
        let mut seen = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains(tenant) {
            return tenant.to_owned();
        }
        if seen.len() < MAX_TENANT_LABELS {
            seen.insert(tenant.to_owned());
            return tenant.to_owned();
        }
        "_other".to_owned()
    }

    /// One skill call ended: `error` is its error kind when it failed.
    pub fn call(&self, tenant: &str, error: Option<&str>, elapsed: Duration, fuel: u64) {
        let tenant = self.tenant(tenant);
        self.calls
            .get_or_create(&CallLabels {
                tenant: tenant.clone(),
                outcome: error.unwrap_or("ok").to_owned(),
            })
            .inc();
        if let Some(kind) = error {
            self.errors
                .get_or_create(&KindLabels {
                    kind: kind.to_owned(),
                })
                .inc();
        }
        self.fuel
            .get_or_create(&TenantLabels {
                tenant: tenant.clone(),
            })
            .inc_by(fuel);
        self.latency
            .get_or_create(&TenantLabels { tenant })
            .observe(elapsed.as_secs_f64());
    }

    /// A quota refused a request.
    pub fn quota_rejected(&self, tenant: &str, quota: crate::quota::QuotaKind) {
        self.quota_rejections
            .get_or_create(&QuotaLabels {
                tenant: self.tenant(tenant),
                quota: quota.as_str().to_owned(),
            })
            .inc();
    }

    /// An event from another replica arrived, `delay` after it was sent.
    pub fn relayed(&self, delay: Duration) {
        self.relay_delay.observe(delay.as_secs_f64());
    }

    /// A language model answered.
    pub fn llm_tokens(&self, tenant: &str, prompt: u64, completion: u64) {
        let tenant = self.tenant(tenant);
        for (direction, n) in [("prompt", prompt), ("completion", completion)] {
            self.llm_tokens
                .get_or_create(&TokenLabels {
                    tenant: tenant.clone(),
                    direction: direction.to_owned(),
                })
                .inc_by(n);
        }
    }

    /// The text exposition, with the pool's state as of now.
    pub fn render(&self, pool: PoolState) -> String {
        let set = |state: &str, n: u32| {
            self.pool
                .get_or_create(&PoolLabels {
                    state: state.to_owned(),
                })
                .set(i64::from(n));
        };
        set("idle", pool.idle);
        set("in_use", pool.size.saturating_sub(pool.idle));
        self.pool_max.set(i64::from(pool.max));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The database pool, as seen when scraped.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolState {
    /// Open connections.
    pub size: u32,
    /// Of which idle.
    pub idle: u32,
    /// The pool's maximum.
    pub max: u32,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn counts_render_in_the_text_format() {
        let m = Metrics::default();
        m.call("acme", None, Duration::from_millis(2), 1000);
        m.call("acme", Some("out_of_fuel"), Duration::from_millis(3), 50);
        m.quota_rejected("acme", crate::quota::QuotaKind::CallsPerMinute);
        let text = m.render(PoolState {
            size: 3,
            idle: 1,
            max: 8,
        });
        assert!(
            text.contains(r#"autolearn_skill_calls_total{tenant="acme",outcome="ok"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"autolearn_fuel_total{tenant="acme"} 1050"#),
            "{text}"
        );
        assert!(text.contains(r#"autolearn_errors_total{kind="out_of_fuel"} 1"#));
        assert!(text.contains(
            r#"autolearn_quota_rejections_total{tenant="acme",quota="calls_per_minute"} 1"#
        ));
        assert!(text.contains(r#"autolearn_db_pool_connections{state="in_use"} 2"#));
        assert!(text.contains(r#"autolearn_skill_call_seconds_count{tenant="acme"} 2"#));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn tenant_labels_are_bounded() {
        let m = Metrics::default();
        for i in 0..MAX_TENANT_LABELS + 5 {
            m.call(&format!("t{i}"), None, Duration::ZERO, 1);
        }
        let text = m.render(PoolState::default());
        assert!(text.contains(r#"autolearn_skill_calls_total{tenant="_other",outcome="ok"} 5"#));
    }
}
