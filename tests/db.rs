//! A fresh database of either backend for one test: SQLite in a temporary
//! file, or a new database on the test PostgreSQL cluster.
//!
//! The cluster is `AUTOLEARN_TEST_PG` (a URL whose user may create
//! databases) or, when that is unset, the project's private cluster,
//! started on first use by `deploy/pg.sh` (Debian's postgresql package).
//! Each PostgreSQL test database is named after the test process, and
//! databases of processes that are gone are dropped on the next run.

use std::sync::atomic::{AtomicU32, Ordering};

use autolearn::store::SkillStore;
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::OnceCell;

/// Which backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One test's database: open it as many times as the test needs handles
/// (two handles are two "processes" or "replicas").
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

const PREFIX: &str = "altest_";
static NEXT: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.sqlite");
        Self {
            backend: Backend::Sqlite,
            url: format!("sqlite://{}?mode=rwc", path.display()),
            _dir: Some(dir),
        }
    }

    pub async fn postgres() -> Self {
        let admin = admin_url().await;
        let name = format!(
            "{PREFIX}{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = PgConnection::connect(admin).await.unwrap();
        conn.execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
            .await
            .unwrap();
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        Self {
            backend: Backend::Postgres,
            url: with_database(admin, &name),
            _dir: None,
        }
    }

    /// A new handle (its own pool) on this database; migrates it.
    pub async fn open(&self) -> SkillStore {
        SkillStore::connect(&self.url).await.unwrap()
    }
}

/// The URL of the test cluster's maintenance database.
pub async fn admin_url() -> &'static str {
    static URL: OnceCell<String> = OnceCell::const_new();
    URL.get_or_init(|| async {
        let url = match std::env::var("AUTOLEARN_TEST_PG") {
            Ok(url) => url,
            Err(_) => start_private_cluster(),
        };
        drop_orphans(&url).await;
        url
    })
    .await
}

fn start_private_cluster() -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new(format!("{root}/deploy/pg.sh"))
        .args(["start", &format!("{root}/target/pg"), "25432"])
        .output()
        .expect("deploy/pg.sh runs");
    assert!(
        out.status.success(),
        "PostgreSQL tests need a cluster: set AUTOLEARN_TEST_PG, or install Debian's postgresql \
         package so deploy/pg.sh can start one: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Drop the test databases of processes that have exited.
async fn drop_orphans(admin: &str) {
    let mut conn = PgConnection::connect(admin).await.unwrap();
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'altest\\_%'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    for name in names {
        let pid = name[PREFIX.len()..].split('_').next().unwrap_or("");
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
        }
    }
}

/// `url` with its database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let host = match base[authority_end..].find('/') {
        Some(i) => &base[..authority_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host}/{name}?{q}"),
        None => format!("{host}/{name}"),
    }
}

/// Run each named `async fn(TestDb)` of the calling module on both
/// backends, as `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::db::TestDb::new($crate::db::Backend::Sqlite).await).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::db::TestDb::new($crate::db::Backend::Postgres).await).await
            })*
        }
    };
}
