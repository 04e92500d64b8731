//! Embed the sandbox artifact in the binary when it has been built
//! (`make artifact` writes `target/python-wasm/runtime.wasm` and its
//! `runtime.json`), so a copied or installed binary carries its sandbox.
//! Without it the binary still builds and looks for the artifact on disk.

use std::path::PathBuf;

fn main() {
    let dir = std::env::var_os("AUTOLEARN_EMBED_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/python-wasm"),
        PathBuf::from,
    );
    let (wasm, json) = (dir.join("runtime.wasm"), dir.join("runtime.json"));
    println!("cargo::rerun-if-env-changed=AUTOLEARN_EMBED_DIR");
    println!("cargo::rerun-if-changed={}", wasm.display());
    println!("cargo::rerun-if-changed={}", json.display());
    println!("cargo::rustc-check-cfg=cfg(embedded_artifact)");
    if wasm.is_file() && json.is_file() {
        println!("cargo::rustc-cfg=embedded_artifact");
        println!(
            "cargo::rustc-env=AUTOLEARN_EMBEDDED_WASM={}",
            wasm.display()
        );
        println!(
            "cargo::rustc-env=AUTOLEARN_EMBEDDED_JSON={}",
            json.display()
        );
    }
}
