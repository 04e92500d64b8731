//! What happens in a tenant's AutoLearn, as it happens: one typed event
//! enum and one broadcast channel for the process. Every consumer reads
//! the same channel: MCP sessions (`tools/list_changed`, resource
//! updates), the web UI's live feed, the replica relay (`bus.rs`). A
//! subscriber sees every tenant's events and keeps its own tenant's.
//! Events are notices, not state: a consumer that lags behind re-reads
//! what it shows.
//!
//! The core names none of its front ends: the consumer agent's, the
//! practice loop's and a watched generation's events are [`Notice`]s, JSON those modules serialize
//! themselves (their `type` included), carried as is.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{App, RunError, RunResult};
use crate::store::{Execution, ResetCounts, StoreError};

/// Bytes of an input or output kept in the execution log.
const PREVIEW_BYTES: usize = 1024;

/// Events a slow subscriber may fall behind by before it hears `Lagged`.
const CHANNEL: usize = 1024;

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A skill version was stored (published or draft).
    SkillAdded {
        /// The skill.
        name: String,
        /// Its version.
        version: u32,
        /// `published` or `draft`.
        status: String,
        /// Its trust, 0-100.
        trust: f64,
    },
    /// A skill was retired.
    SkillRetired {
        /// The skill.
        name: String,
    },
    /// A skill ran (never relayed: see `bus.rs`).
    #[serde(skip_deserializing)]
    SkillExecuted(Execution),
    /// The tenant's tool list changed (a skill was published, changed or
    /// retired); `mcp_updated` on the wire, as the web UI reads it.
    #[serde(rename = "mcp_updated")]
    ListChanged {
        /// The skill whose change it was, when one is known.
        name: Option<String>,
    },
    /// The tenant's skills, traces, executions and learnings were cleared.
    Reset,
    /// Something the consumer agent did (a chat's step, its end).
    #[serde(untagged, skip_deserializing)]
    Agent(Notice),
    /// Something the practice loop did (a step, a stop).
    #[serde(untagged, skip_deserializing)]
    Practice(Notice),
    /// Something a generation someone watches did (a step, a question,
    /// its end).
    #[serde(untagged, skip_deserializing)]
    Generation(Notice),
}

impl Event {
    /// The skill a [`Event::ListChanged`] names: MCP sessions tell their
    /// clients about that skill's resources.
    pub fn changed_skill(&self) -> Option<&str> {
        match self {
            Self::ListChanged { name } => name.as_deref(),
            _ => None,
        }
    }
}

/// An event of a module above the core, serialized by that module: a JSON
/// object whose `type` says what it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Notice(pub serde_json::Value);

impl Notice {
    /// `value`, which must serialize to an object with a `type`.
    pub fn of(value: &impl Serialize) -> Self {
        Self(serde_json::to_value(value).unwrap_or_default())
    }

    /// Its `type`.
    pub fn kind(&self) -> Option<&str> {
        self.0.get("type").and_then(serde_json::Value::as_str)
    }
}

/// An event and whose it is; cheap to clone (every subscriber gets one).
#[derive(Debug, Clone, PartialEq)]
pub struct TenantEvent {
    /// Whose ([`TenantEvent::EVERY_TENANT`]: anyone's may be concerned).
    pub tenant: Arc<str>,
    /// What.
    pub event: Arc<Event>,
}

impl TenantEvent {
    /// The tenant of an event that may concern every tenant (events from
    /// other replicas were missed). No tenant name can be this.
    pub const EVERY_TENANT: &str = "*";

    /// Whether `tenant`'s MCP sessions should hear of it.
    pub fn concerns(&self, tenant: &str) -> bool {
        &*self.tenant == tenant || &*self.tenant == Self::EVERY_TENANT
    }
}

/// The process's one channel of events.
#[derive(Clone)]
pub(crate) struct Events(tokio::sync::broadcast::Sender<TenantEvent>);

impl Default for Events {
    fn default() -> Self {
        Self(tokio::sync::broadcast::channel(CHANNEL).0)
    }
}

impl Events {
    /// Send `event` to every subscriber (none listening is fine).
    pub(crate) fn send(&self, tenant: &str, event: Event) {
        let _ = self.0.send(TenantEvent {
            tenant: tenant.into(),
            event: Arc::new(event),
        });
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<TenantEvent> {
        self.0.subscribe()
    }
}

impl App {
    /// Tell every consumer (MCP sessions, live pages, other replicas) that
    /// `event` happened in `tenant`'s AutoLearn.
    pub fn notify(&self, tenant: &str, event: Event) {
        self.relay(tenant, &event);
        self.events.send(tenant, event);
    }

    /// Every tenant's events from now on (filter by tenant).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<TenantEvent> {
        self.events.subscribe()
    }

    pub(super) fn log_execution(
        &self,
        tenant: &str,
        name: &str,
        input_json: &str,
        result: &Result<RunResult, RunError>,
        elapsed: Duration,
    ) {
        let preview = |v: &serde_json::Value| crate::text::truncate(&v.to_string(), PREVIEW_BYTES);
        let mut row = Execution {
            seq: 0,
            tenant: tenant.to_owned(),
            at_ms: crate::store::now_ms(),
            skill: crate::text::truncate(name, 128),
            version: None,
            input: crate::text::truncate(input_json, PREVIEW_BYTES),
            output: None,
            error_kind: None,
            error: None,
            fuel: 0,
            elapsed_us: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        };
        match result {
            Ok(r) => {
                row.version = Some(r.skill.version);
                row.output = Some(preview(&r.value));
                row.fuel = r.output.fuel_used;
            }
            Err(e) => {
                row.error_kind = Some(crate::fault::Classify::kind(e).to_owned());
                row.error = Some(crate::text::truncate(&e.to_string(), PREVIEW_BYTES));
            }
        }
        self.executions.record(row, &self.store, &self.events);
    }

    /// Clear `tenant`'s skills, traces, executions and (from its view)
    /// learnings, so a demo can start over. Every MCP session of the tenant
    /// hears that its tool list changed, and every open page gets `reset`.
    pub async fn reset(&self, tenant: &str) -> Result<ResetCounts, StoreError> {
        self.calls().flush().await;
        let names: Vec<String> = self
            .store
            .list(tenant)
            .await
            .map(|skills| skills.into_iter().map(|s| s.manifest.name).collect())
            .unwrap_or_default();
        let counts = self.store.reset_tenant(tenant).await?;
        self.verified.forget_tenant(tenant);
        self.memo.forget_tenant(tenant);
        self.pending.forget_tenant(tenant);
        self.learn(tenant, "reset", "*", serde_json::json!(counts))
            .await;
        for name in &names {
            self.announce(tenant, name);
        }
        self.notify(tenant, Event::Reset);
        Ok(counts)
    }
}

impl super::Calls<'_> {
    /// Wait until every skill call so far is in the execution log.
    pub async fn flush(&self) {
        self.app.executions.flush().await;
    }

    /// `tenant`'s skill calls before `before` (0: the newest), newest first.
    pub async fn executions(
        &self,
        tenant: &str,
        before: i64,
        limit: usize,
    ) -> Result<Vec<Execution>, StoreError> {
        self.app.store.executions(tenant, before, limit).await
    }
}
