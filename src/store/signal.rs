//! Cheap "this table changed" signals for SQLite, across processes. A
//! server caches what it reads on every request (which version of a skill
//! is current, which tenant a bearer key names) so that a request costs no
//! database round trip; the CLI, another process on the same file, has no
//! event bus to tell it. So every write to a signalled table also writes a
//! fresh random number to a sidecar file next to the database
//! (`autolearn.db-skills`, `autolearn.db-tenants`), after its commit, and a
//! reader reads that file before the database: a few microseconds against a
//! round trip. Reading the signal first and the table second means a racing
//! write can only pair new rows with an old signal, which the next read
//! corrects.
//!
//! PostgreSQL and in-memory databases have no sidecars ([`SkillStore::signal`]
//! is `None`): their readers go to the database every time.

use std::path::{Path, PathBuf};

use super::SkillStore;

/// A table whose writes are signalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// `skills`: versions and their status.
    Skills,
    /// `tenants`: tenants, their keys and settings.
    Tenants,
}

/// The sidecars of one SQLite database file.
#[derive(Debug)]
pub(super) struct Sidecars {
    skills: PathBuf,
    tenants: PathBuf,
}

impl Sidecars {
    /// The sidecars of the SQLite database at `db`.
    pub(super) fn of(db: &Path) -> Self {
        let with = |suffix: &str| {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        };
        Self {
            skills: with("-skills"),
            tenants: with("-tenants"),
        }
    }

    fn path(&self, which: Signal) -> &Path {
        match which {
            Signal::Skills => &self.skills,
            Signal::Tenants => &self.tenants,
        }
    }
}

impl SkillStore {
    /// The current value of the `which` signal, or `None` when this store
    /// has none (then nothing read from that table may be cached). A
    /// missing sidecar reads as 0.
    pub fn signal(&self, which: Signal) -> Option<u64> {
        let path = self.signals.as_deref()?.path(which);
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

    /// Tell readers the `which` table changed; call after the change
    /// committed.
    pub(super) fn changed(&self, which: Signal) {
        let Some(sidecars) = self.signals.as_deref() else {
            return;
        };
        let path = sidecars.path(which);
        let value: u64 = rand::random::<u64>().max(1);
        if let Err(e) = std::fs::write(path, value.to_le_bytes()) {
            // Readers revalidate on their own within a second.
            tracing::warn!("writing the signal {}: {e}", path.display());
        }
    }
}
