//! Events between replicas through PostgreSQL `LISTEN/NOTIFY`: one
//! channel, JSON payloads the app defines (src/app/bus.rs). SQLite has no
//! replicas to tell, so there these are no-ops.

use sqlx::postgres::PgListener;

use super::{Backend, SkillStore, StoreError};

/// The channel every replica listens on.
pub const CHANNEL: &str = "autolearn_events";

/// Largest payload PostgreSQL carries (8000 bytes), less a margin.
pub const MAX_PAYLOAD: usize = 7900;

/// What the listener heard.
#[derive(Debug)]
pub enum Heard {
    /// A payload.
    Event(String),
    /// The connection was lost and made again: events of the meantime are
    /// gone, so anything may have changed.
    Gap,
}

/// A connection that listens on [`CHANNEL`].
pub struct EventListener(PgListener);

impl SkillStore {
    /// Whether other processes share this database and its events.
    pub fn shares_events(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// Tell every listener `payload` (at most [`MAX_PAYLOAD`] bytes).
    pub async fn publish_event(&self, payload: &str) -> Result<(), StoreError> {
        if !self.shares_events() {
            return Ok(());
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// A listener on [`CHANNEL`] (`None` on SQLite).
    pub async fn event_listener(&self) -> Result<Option<EventListener>, StoreError> {
        let Some(url) = &self.url else {
            return Ok(None);
        };
        let mut listener = PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(EventListener(listener)))
    }
}

impl EventListener {
    /// The next event, or a gap. An error means the database cannot be
    /// reached now; calling again tries to reconnect.
    pub async fn next(&mut self) -> Result<Heard, StoreError> {
        Ok(match self.0.try_recv().await? {
            Some(n) => Heard::Event(n.payload().to_owned()),
            None => Heard::Gap,
        })
    }
}
