//! Where AutoLearn keeps things. Resolved once from flags and environment
//! (clap handles both), with no I/O here: the callers create what they need.

use std::path::PathBuf;

use crate::sandbox::Artifact;
use crate::store::Location;

/// Resolved paths.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Root of everything AutoLearn writes.
    pub data_dir: PathBuf,
    /// The sandbox artifact: a `runtime.wasm` file (with `runtime.json`
    /// beside it), or the copy embedded in this binary.
    pub artifact: Artifact,
    /// Precompiled `.cwasm` files; `DATA_DIR/cache` unless set.
    pub cache_dir: Option<PathBuf>,
    /// A database server (`postgres://...`) instead of the SQLite file in
    /// the data dir.
    pub database_url: Option<String>,
}

impl Paths {
    /// Resolve the data dir (given, or the default) and the artifact.
    pub fn resolve(
        data_dir: Option<PathBuf>,
        artifact: Option<PathBuf>,
        cache_dir: Option<PathBuf>,
    ) -> Self {
        Self {
            data_dir: data_dir.unwrap_or_else(default_data_dir),
            artifact: artifact.map_or_else(default_artifact, Artifact::File),
            cache_dir,
            database_url: None,
        }
    }

    /// Use the database at `url` (`None`: the SQLite file in the data dir).
    #[must_use]
    pub fn with_database_url(mut self, url: Option<String>) -> Self {
        self.database_url = url.filter(|u| !u.is_empty());
        self
    }

    /// The database: the configured URL, else `DATA_DIR/autolearn.db`.
    pub fn database(&self) -> Location {
        match &self.database_url {
            Some(url) => Location::Url(url.clone()),
            None => Location::File(self.data_dir.join("autolearn.db")),
        }
    }

    /// Precompiled `.cwasm` files.
    pub fn cache_dir(&self) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("cache"))
    }
}

/// `$XDG_DATA_HOME/autolearn`, else `~/.local/share/autolearn`, else
/// `./.autolearn`.
pub fn default_data_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("autolearn");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home).join(".local/share/autolearn");
    }
    PathBuf::from(".autolearn")
}

/// The artifact compiled into this binary; else (a build made before
/// `make artifact`) where `make artifact` puts it in the source tree this
/// binary was built from. `--artifact` / `AUTOLEARN_ARTIFACT` override both.
pub fn default_artifact() -> Artifact {
    if Artifact::embedded().is_some() {
        Artifact::Embedded
    } else {
        Artifact::File(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/python-wasm/runtime.wasm"),
        )
    }
}
