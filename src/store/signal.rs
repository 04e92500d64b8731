//! A cheap "the skills changed" signal for SQLite, across processes. A
//! server caches skill heads (which version of a name is current) so that a
//! call costs no database round trip; the CLI, another process on the same
//! file, has no event bus to tell it. So every write to the skills table
//! also writes a fresh random number to a sidecar file next to the
//! database (`autolearn.db-skills`), after its commit, and a reader reads
//! that file before the database: a few microseconds against a round trip.
//! Reading the signal first and the skills second means a racing write can
//! only pair new skills with an old signal, which the next read corrects.
//!
//! PostgreSQL and in-memory databases have no sidecar ([`SkillStore::skills_signal`]
//! is `None`): their readers go to the database every time.

use std::path::{Path, PathBuf};

use super::SkillStore;

/// The sidecar of the SQLite database at `db`.
pub(super) fn sidecar(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-skills");
    PathBuf::from(name)
}

impl SkillStore {
    /// The current skills signal, or `None` when this store has none (then
    /// nothing read from it may be cached). A missing sidecar reads as 0.
    pub fn skills_signal(&self) -> Option<u64> {
        let path = self.signal.as_deref()?;
        match std::fs::read(path) {
            Ok(bytes) => Some(
                bytes
                    .get(..8)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_le_bytes)
                    // A torn read (a writer mid-write) still differs from any
                    // value a reader cached, so it only costs a reload.
                    .unwrap_or(u64::MAX),
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(0),
            Err(_) => None,
        }
    }

    /// Tell readers the skills changed; call after the change committed.
    pub(super) fn skills_changed(&self) {
        let Some(path) = self.signal.as_deref() else {
            return;
        };
        let value: u64 = rand::random::<u64>().max(1);
        if let Err(e) = std::fs::write(path, value.to_le_bytes()) {
            // Readers revalidate on their own within a second.
            tracing::warn!("writing the skills signal {}: {e}", path.display());
        }
    }
}
