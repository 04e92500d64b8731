//! Shared helpers: one sandbox for the whole binary (loading it maps a
//! 40 MB precompiled image; tests should not each pay for it).

use std::path::PathBuf;
use std::sync::OnceLock;

use autolearn::sandbox::{
    CallError, Determinism, ErrorKind, ResourceLimits, RunOutput, Sandbox, SandboxConfig, SkillCode,
};

pub fn artifact() -> PathBuf {
    std::env::var_os("AUTOLEARN_ARTIFACT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/python-wasm/runtime.wasm")
        })
}

pub fn cache_dir() -> PathBuf {
    artifact().parent().unwrap().join("cache")
}

pub fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        let path = artifact();
        assert!(
            path.exists(),
            "sandbox artifact {} is missing: run `make artifact`",
            path.display()
        );
        Sandbox::new(&SandboxConfig::new(path, cache_dir())).expect("sandbox loads")
    })
}

pub async fn run_with(
    source: &str,
    entry: &str,
    input: &str,
    limits: &ResourceLimits,
) -> Result<RunOutput, CallError> {
    let code = SkillCode {
        deps: &[],
        name: "t",
        source,
        entry,
    };
    sandbox().run(code, input, limits, Determinism::Live).await
}

pub async fn run(source: &str, input: &str) -> Result<RunOutput, CallError> {
    run_with(source, "f", input, &ResourceLimits::default()).await
}

/// Assert a call fails with `kind`, then that a healthy call right after
/// still works: a hostile skill must never hurt the next call.
pub async fn expect_kind(source: &str, input: &str, kind: ErrorKind) -> CallError {
    let err = match run(source, input).await {
        Ok(out) => panic!("expected {kind}, got success: {}", out.json),
        Err(e) => e,
    };
    assert_eq!(err.kind(), kind, "wrong kind for error: {err:?}");
    assert_healthy().await;
    err
}

pub async fn assert_healthy() {
    let out = run("def f(x):\n    return x + 1\n", r#"{"x": 41}"#)
        .await
        .expect("healthy call");
    assert_eq!(out.json, "42");
}

/// A temporary data dir for tests that touch the store or the binary.
pub fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A child process killed (and reaped) when dropped, so a failing test
/// leaves no server behind.
pub struct Reaped(pub std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serve `practice` (and its app) on a fresh loopback port, as `autolearn
/// serve` does, with the default limits and, if given, an OAuth issuer;
/// returns `http://ADDR`.
pub async fn serve(
    practice: autolearn::practice::Practice,
    oauth: Option<autolearn::api::OAuthConfig>,
) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = autolearn::api::ServeOptions {
        addr,
        allowed_hosts: Vec::new(),
        conformance: false,
        limits: autolearn::limits::ServerLimits::default(),
        metrics_token: None,
        oauth,
    };
    tokio::spawn(autolearn::api::run(
        practice,
        listener,
        options,
        std::future::pending(),
    ));
    format!("http://{addr}")
}

/// A sandbox of its own: an app or a server that floods it slows no
/// other test (the shared [`sandbox`] is for direct sandbox calls).
pub fn new_sandbox() -> std::sync::Arc<Sandbox> {
    std::sync::Arc::new(Sandbox::new(&SandboxConfig::new(artifact(), cache_dir())).unwrap())
}

/// The app of a test: on `store`, with a sandbox of its own. A test that
/// looks beneath the app (rows the store holds) keeps `store` to do so.
pub fn app_for(store: autolearn::store::SkillStore) -> autolearn::app::App {
    autolearn::app::App::new(store, new_sandbox())
}

/// An app on a fresh in-memory store.
pub async fn app() -> autolearn::app::App {
    app_for(autolearn::store::SkillStore::in_memory().await.unwrap())
}

/// An app on a fresh SQLite file in a new data dir, its store, and the dir.
pub async fn app_on_disk() -> (
    autolearn::app::App,
    autolearn::store::SkillStore,
    tempfile::TempDir,
) {
    let dir = data_dir();
    let store = autolearn::store::SkillStore::open(&dir.path().join("db.sqlite"))
        .await
        .unwrap();
    (app_for(store.clone()), store, dir)
}

/// POST `body` as JSON to `url`: the status and the JSON answer (null if
/// it is not JSON).
pub async fn post(url: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// GET `url`: the status and the JSON answer (null if it is not JSON).
pub async fn get(url: &str) -> (u16, serde_json::Value) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}
