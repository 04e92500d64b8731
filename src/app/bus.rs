//! Replicas that agree: what one replica announces (a skill published,
//! changed or retired; the live feed of its pages) reaches the MCP
//! sessions and pages of every replica, through the database's
//! `LISTEN/NOTIFY` (PostgreSQL; on SQLite there is one process and
//! nothing to relay).
//!
//! Outgoing events queue for one publisher task (in order, never blocking
//! the caller). A listener task turns other replicas' events into local
//! ones on the one channel (`events.rs`), so MCP sessions and pages hear
//! them as they hear their own replica's; a tool list change also drops
//! the verified-skill cache entry. A replica skips its own events (by
//! origin id).
//! After the listener loses its connection, it cannot know what it
//! missed: it tells every session its list may have changed and empties
//! the cache. Skill calls (`SkillExecuted`) are not relayed: one NOTIFY
//! per call would cost more than it is worth, and pages read the execution
//! log from the database.

use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::{App, Event, Notice, TenantEvent};
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

/// An [`Event`], tagged with whose notice it carries when it is one (a
/// notice's JSON alone does not say whose it is).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum What {
    /// One of the core's own events.
    Core { event: Event },
    /// The agent's.
    Agent { notice: Notice },
    /// The practice loop's.
    Practice { notice: Notice },
    /// A watched generation's.
    Generation { notice: Notice },
}

impl What {
    fn of(event: &Event) -> Option<Self> {
        Some(match event {
            // Calls are not relayed: see the module's notes.
            Event::SkillExecuted(_) => return None,
            Event::Agent(n) => Self::Agent { notice: n.clone() },
            Event::Practice(n) => Self::Practice { notice: n.clone() },
            Event::Generation(n) => Self::Generation { notice: n.clone() },
            e => Self::Core { event: e.clone() },
        })
    }

    fn into_event(self) -> Event {
        match self {
            Self::Core { event } => event,
            Self::Agent { notice } => Event::Agent(notice),
            Self::Practice { notice } => Event::Practice(notice),
            Self::Generation { notice } => Event::Generation(notice),
        }
    }
}

enum Outgoing {
    Payload(String),
    Flush(oneshot::Sender<()>),
}

/// The publisher's queue, once started.
#[derive(Default)]
pub(super) struct Bus(OnceLock<mpsc::Sender<Outgoing>>);

/// This replica among others on one PostgreSQL; borrowed from the app
/// ([`App::replicas`]).
#[derive(Clone, Copy)]
pub struct Replicas<'a> {
    pub(super) app: &'a App,
}

impl App {
    /// Relay events to, and hear them from, other replicas.
    pub fn replicas(&self) -> Replicas<'_> {
        Replicas { app: self }
    }

    /// Relay `event` to other replicas, once relaying started.
    pub(super) fn relay(&self, tenant: &str, event: &Event) {
        let Some(tx) = self.bus.0.get() else { return };
        let Some(what) = What::of(event) else { return };
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
        let event = wire.what.into_event();
        // The cache layer's second rule: what another replica changed is
        // dropped at once (`cache.rs`).
        match &event {
            Event::ListChanged { name: Some(name) } => {
                self.verified.forget(&wire.tenant, name);
                self.heads.forget_tenant(&wire.tenant);
            }
            Event::ListChanged { name: None } | Event::Reset => {
                self.verified.forget_tenant(&wire.tenant);
                self.heads.forget_tenant(&wire.tenant);
            }
            _ => {}
        }
        // Sent on, not relayed again.
        self.events.send(&wire.tenant, event);
    }

    /// Events may have been missed: every session re-reads its list.
    fn heard_gap(&self) {
        self.verified.forget_all();
        self.heads.forget_all();
        self.events
            .send(TenantEvent::EVERY_TENANT, Event::ListChanged { name: None });
    }
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

impl Replicas<'_> {
    /// Start relaying this app's events to other replicas (PostgreSQL
    /// only; idempotent). Needs a Tokio runtime.
    pub fn start(&self) {
        if !self.app.store.shares_events() {
            return;
        }
        self.app.bus.0.get_or_init(|| {
            let (tx, mut rx) = mpsc::channel::<Outgoing>(QUEUE);
            let store = self.app.store.clone();
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
    pub async fn flush(&self) {
        if let Some(tx) = self.app.bus.0.get() {
            let (done, sent) = oneshot::channel();
            if tx.send(Outgoing::Flush(done)).await.is_ok() {
                let _ = sent.await;
            }
        }
    }

    /// Listen to other replicas' events until the process ends (PostgreSQL
    /// only). Reconnects by itself while the database is away.
    pub fn listen(&self) {
        if !self.app.store.shares_events() {
            return;
        }
        let app = self.app.clone();
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
}
