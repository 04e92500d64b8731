//! What happens in a tenant's AutoLearn, as it happens: the web UI's live
//! feed. One broadcast channel for the process; a subscriber sees only the
//! events of its own tenant. Events are notices, not state: a page that
//! lags behind reloads its lists from the API.

use std::time::Duration;

use serde::Serialize;

use super::{App, RunError, RunResult};
use crate::store::{Execution, ResetCounts, StoreError};

/// Bytes of an input or output kept in the execution log.
const PREVIEW_BYTES: usize = 1024;

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Activity {
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
    /// A skill ran.
    SkillExecuted(Execution),
    /// The tenant's MCP tool list changed.
    McpUpdated {
        /// The skill whose change it was, if one.
        name: Option<String>,
    },
    /// A step of a chat with the consumer agent.
    AgentStep {
        /// The chat.
        chat: String,
        /// The step.
        step: crate::agent::AgentStep,
    },
    /// A chat with the consumer agent ended.
    AgentDone {
        /// The chat.
        chat: String,
        /// The report, when it answered.
        report: Option<crate::agent::AgentReport>,
        /// The error, when it did not.
        error: Option<String>,
    },
    /// The tenant's skills, traces, executions and learnings were cleared.
    Reset,
    /// A step of a practice project finished.
    Practice(crate::practice::StepDone),
    /// Background practice work stopped: its budget is spent, nothing else
    /// can run, or it failed.
    PracticeStopped {
        /// The project.
        project_id: String,
        /// Why it failed, when it did.
        error: Option<String>,
    },
    /// An event another replica relayed, as it sent it (see
    /// `src/app/bus.rs`); serialized as is.
    #[serde(untagged)]
    Relayed(serde_json::Value),
}

/// An event and whose it is.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantActivity {
    /// Whose.
    pub tenant: String,
    /// What.
    pub activity: Activity,
}

impl App {
    /// Tell `tenant`'s live pages that `activity` happened.
    pub fn notify(&self, tenant: &str, activity: Activity) {
        self.relay_activity(tenant, &activity);
        // No receivers is fine: no page is open.
        let _ = self.activity.send(TenantActivity {
            tenant: tenant.to_owned(),
            activity,
        });
    }

    /// Every tenant's events from now on (filter by tenant).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<TenantActivity> {
        self.activity.subscribe()
    }

    pub(super) fn log_execution(
        &self,
        tenant: &str,
        name: &str,
        input: &serde_json::Value,
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
            input: preview(input),
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
                row.error_kind = Some(e.kind().to_owned());
                row.error = Some(crate::text::truncate(&e.to_string(), PREVIEW_BYTES));
            }
        }
        self.executions.record(row, &self.store, &self.activity);
    }

    /// Wait until every skill call so far is in the execution log.
    pub async fn flush_executions(&self) {
        self.executions.flush().await;
    }

    /// `tenant`'s skill calls before `before` (0: the newest), newest first.
    pub async fn executions(
        &self,
        tenant: &str,
        before: i64,
        limit: usize,
    ) -> Result<Vec<Execution>, StoreError> {
        self.store.executions(tenant, before, limit).await
    }

    /// Clear `tenant`'s skills, traces, executions and (from its view)
    /// learnings, so a demo can start over. Every MCP session of the tenant
    /// hears that its tool list changed, and every open page gets `reset`.
    pub async fn reset(&self, tenant: &str) -> Result<ResetCounts, StoreError> {
        self.flush_executions().await;
        let names: Vec<String> = self
            .store
            .list(tenant)
            .await
            .map(|skills| skills.into_iter().map(|s| s.manifest.name).collect())
            .unwrap_or_default();
        let counts = self.store.reset_tenant(tenant).await?;
        self.verified.forget_tenant(tenant);
        self.memo.forget_tenant(tenant);
        self.learn(tenant, "reset", "*", serde_json::json!(counts))
            .await;
        for name in &names {
            self.announce(tenant, name);
        }
        self.notify(tenant, Activity::Reset);
        Ok(counts)
    }
}
