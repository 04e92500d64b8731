//! Replicas that agree: what one replica announces (a skill published,
//! changed or retired; the live feed of its pages) reaches the MCP
//! sessions and pages of every replica, through the database's
//! `LISTEN/NOTIFY` (PostgreSQL; on SQLite there is one process and
//! nothing to relay).
//!
//! Outgoing events queue for one publisher task (in order, never blocking
//! the caller). A listener task turns other replicas' events into local
//! ones: a skill change drops the verified-skill cache entry and tells
//! MCP sessions (`tools/list_changed`, resource updates), an activity goes
//! to the WebSocket feed. A replica skips its own events (by origin id).
//! After the listener loses its connection, it cannot know what it
//! missed: it tells every session its list may have changed and empties
//! the cache. Skill calls (`SkillExecuted`) are not relayed: one NOTIFY
//! per call would cost more than it is worth, and pages read the execution
//! log from the database.

use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::{Activity, App, SkillEvent, TenantActivity};
use crate::store::Heard;

/// Events waiting for the publisher; past this, new ones are dropped (and
/// logged): a stalled database must not grow memory.
const QUEUE: usize = 4096;

/// One event on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    /// The replica that sent it.
    origin: String,
    /// When it was sent (µs since the Unix epoch), to measure the delay.
    #[serde(default)]
    sent_us: i64,
    tenant: String,
    #[serde(flatten)]
    what: What,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum What {
    /// A skill was published, changed or retired.
    Skill { name: String },
    /// Something for the tenant's live pages.
    Activity { activity: serde_json::Value },
}

enum Outgoing {
    Payload(String),
    Flush(oneshot::Sender<()>),
}

/// The publisher's queue, once started.
#[derive(Default)]
pub(super) struct Bus(OnceLock<mpsc::Sender<Outgoing>>);

impl App {
    /// Start relaying this app's events to other replicas (PostgreSQL
    /// only; idempotent). Needs a Tokio runtime.
    pub fn start_relay(&self) {
        if !self.store.shares_events() {
            return;
        }
        self.bus.0.get_or_init(|| {
            let (tx, mut rx) = mpsc::channel::<Outgoing>(QUEUE);
            let store = self.store.clone();
            tokio::spawn(async move {
                while let Some(out) = rx.recv().await {
                    match out {
                        Outgoing::Payload(p) => {
                            if let Err(e) = store.publish_event(&p).await {
                                tracing::warn!("relaying an event to other replicas: {e}");
                            }
                        }
                        Outgoing::Flush(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            });
            tx
        });
    }

    /// Wait until every event relayed so far has been sent (a CLI command
    /// does this before it exits).
    pub async fn flush_relay(&self) {
        if let Some(tx) = self.bus.0.get() {
            let (done, sent) = oneshot::channel();
            if tx.send(Outgoing::Flush(done)).await.is_ok() {
                let _ = sent.await;
            }
        }
    }

    /// Relay a skill change.
    pub(super) fn relay_skill(&self, tenant: &str, name: &str) {
        self.relay(
            tenant,
            What::Skill {
                name: name.to_owned(),
            },
        );
    }

    /// Relay an activity (not skill calls: see the module's notes).
    pub(super) fn relay_activity(&self, tenant: &str, activity: &Activity) {
        if matches!(activity, Activity::SkillExecuted(_) | Activity::Relayed(_)) {
            return;
        }
        if let Ok(activity) = serde_json::to_value(activity) {
            self.relay(tenant, What::Activity { activity });
        }
    }

    fn relay(&self, tenant: &str, what: What) {
        let Some(tx) = self.bus.0.get() else { return };
        let wire = Wire {
            origin: self.origin.to_string(),
            sent_us: now_us(),
            tenant: tenant.to_owned(),
            what,
        };
        let Ok(payload) = serde_json::to_string(&wire) else {
            return;
        };
        if payload.len() > crate::store::MAX_EVENT_PAYLOAD {
            // A big activity (an agent's report) is not relayed whole;
            // the page on another replica reloads what it shows.
            tracing::debug!("not relaying a {} byte event", payload.len());
            return;
        }
        if tx.try_send(Outgoing::Payload(payload)).is_err() {
            tracing::warn!("the relay queue is full; an event for other replicas was dropped");
        }
    }

    /// Listen to other replicas' events until the process ends (PostgreSQL
    /// only). Reconnects by itself while the database is away.
    pub fn listen_to_replicas(&self) {
        if !self.store.shares_events() {
            return;
        }
        let app = self.clone();
        tokio::spawn(async move {
            let mut listener = None;
            loop {
                if listener.is_none() {
                    match app.store.event_listener().await {
                        Ok(l) => {
                            listener = l;
                            // Whatever happened before we listened is unknown.
                            app.heard_gap();
                        }
                        Err(e) => {
                            tracing::warn!("listening to other replicas: {e}; retrying");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            continue;
                        }
                    }
                }
                let Some(l) = listener.as_mut() else { return };
                match l.next().await {
                    Ok(Heard::Event(payload)) => app.heard(&payload),
                    Ok(Heard::Gap) => app.heard_gap(),
                    Err(e) => {
                        tracing::warn!("listening to other replicas: {e}; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
    }

    fn heard(&self, payload: &str) {
        let wire: Wire = match serde_json::from_str(payload) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!("an event from another replica is not understood: {e}");
                return;
            }
        };
        if wire.origin == *self.origin {
            return;
        }
        let delay_us = u64::try_from(now_us().saturating_sub(wire.sent_us)).unwrap_or(0);
        self.metrics.relayed(Duration::from_micros(delay_us));
        match wire.what {
            What::Skill { name } => {
                self.verified.forget(&wire.tenant, &name);
                let _ = self.events.send(SkillEvent {
                    tenant: wire.tenant,
                    name,
                });
            }
            What::Activity { activity } => {
                if activity.get("type").and_then(serde_json::Value::as_str) == Some("reset") {
                    self.verified.forget_tenant(&wire.tenant);
                }
                let _ = self.activity.send(TenantActivity {
                    tenant: wire.tenant,
                    activity: Activity::Relayed(activity),
                });
            }
        }
    }

    /// Events may have been missed: every session re-reads its list.
    fn heard_gap(&self) {
        self.verified.forget_all();
        let _ = self.events.send(SkillEvent {
            tenant: SkillEvent::EVERY_TENANT.to_owned(),
            name: String::new(),
        });
    }
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
