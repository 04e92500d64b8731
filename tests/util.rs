//! Shared helpers: one sandbox for the whole binary (loading it maps a
//! 40 MB precompiled image; tests should not each pay for it).

use std::path::PathBuf;
use std::sync::OnceLock;

use autolearn::runtime::Runtime;
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

/// Wait until the shared sandbox's data runtime is loaded. The first load
/// on a cold cache compiles its snapshot (minutes): it runs once, on a
/// runtime of its own, so no test's deadline cuts it short.
pub fn data_ready() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        std::thread::spawn(|| {
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(sandbox().data_runtime(std::time::Duration::from_secs(1200)))
                .expect("the data runtime loads (fetch it with `autolearn runtime fetch data`)");
        })
        .join()
        .unwrap();
    });
}

/// Calls on one runtime: the hostile suites run on both (see
/// [`on_both_runtimes`](crate::on_both_runtimes)).
#[derive(Debug, Clone, Copy)]
pub struct On(pub Runtime);

impl On {
    pub async fn run_with(
        self,
        source: &str,
        entry: &str,
        input: &str,
        limits: &ResourceLimits,
    ) -> Result<RunOutput, CallError> {
        if self.0 == Runtime::Data {
            data_ready();
        }
        let code = SkillCode::new("t", source, entry).on(self.0);
        sandbox().run(code, input, limits, Determinism::Live).await
    }

    pub async fn run(self, source: &str, input: &str) -> Result<RunOutput, CallError> {
        self.run_with(source, "f", input, &ResourceLimits::default())
            .await
    }

    /// Assert a call fails with `kind`, then that a healthy call right after
    /// still works: a hostile skill must never hurt the next call.
    pub async fn expect_kind(self, source: &str, input: &str, kind: ErrorKind) -> CallError {
        let err = match self.run(source, input).await {
            Ok(out) => panic!("expected {kind} on {}, got success: {}", self.0, out.json),
            Err(e) => e,
        };
        assert_eq!(
            err.kind(),
            kind,
            "wrong kind for error on {}: {err:?}",
            self.0
        );
        self.assert_healthy().await;
        err
    }

    pub async fn assert_healthy(self) {
        let out = self
            .run("def f(x):\n    return x + 1\n", r#"{"x": 41}"#)
            .await
            .expect("healthy call");
        assert_eq!(out.json, "42");
    }

    /// The shared sandbox, with this runtime loaded.
    pub fn sandbox(self) -> &'static Sandbox {
        if self.0 == Runtime::Data {
            data_ready();
        }
        sandbox()
    }

    pub fn is_data(self) -> bool {
        self.0 == Runtime::Data
    }
}

#[allow(dead_code, reason = "not every module uses every helper")]
pub async fn run_with(
    source: &str,
    entry: &str,
    input: &str,
    limits: &ResourceLimits,
) -> Result<RunOutput, CallError> {
    On(Runtime::Core)
        .run_with(source, entry, input, limits)
        .await
}

pub async fn run(source: &str, input: &str) -> Result<RunOutput, CallError> {
    On(Runtime::Core).run(source, input).await
}

/// Run each named `async fn(On)` of the calling module on both runtimes,
/// as `on_core::NAME` and `on_data::NAME`.
#[macro_export]
macro_rules! on_both_runtimes {
    ($($name:ident),* $(,)?) => {
        mod on_core {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::util::On(autolearn::runtime::Runtime::Core)).await
            })*
        }
        mod on_data {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::util::On(autolearn::runtime::Runtime::Data)).await
            })*
        }
    };
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
