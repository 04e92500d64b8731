//! The application core: the store and the sandbox together, with the
//! operations every front end (CLI, MCP, web) needs: add a verified skill,
//! run a skill by name, run a code cell, crystallize a trace, retire a
//! skill; and the change events that keep tool lists live. Front ends only
//! parse and render.

mod activity;
mod admin;
mod auto;
mod bus;
mod catalog;
mod deps;
mod errors;
mod executions;
mod fair;
mod generate;
mod heads;
mod keys;
mod memo;
mod metered;
mod quotas;
mod run;
mod signalled;
mod traces;
mod turns;
mod verified;

use std::sync::Arc;

use crate::config::Paths;
use crate::learn::{Verification, verify};
use crate::limits::Limits;
use crate::sandbox::{ResourceLimits, RunOutput, Sandbox, SandboxConfig, SandboxError};
use crate::skills::{Provenance, Skill, SkillManifest, Status};
use crate::store::{Inserted, SkillStore, StoreError};

pub use activity::{Activity, TenantActivity};
pub use admin::{AUDIT_KINDS, Admin, AdminError, check_tenant_name};
pub use auto::AutoMode;
pub use catalog::{Catalog, CatalogError};
pub use deps::DependencyError;
pub use errors::{AddError, CrystallizeError, OpenError, RunError, SearchError};
use fair::Shares;
pub use fair::{Admission, Busy};
pub use generate::{GenerateOutcome, GenerateSkillError};
pub use keys::KeyCheck;
pub use traces::{CellRun, Crystallize, PythonStep};
use verified::VerifiedSkills;

/// Store plus sandbox; cheap to clone.
#[derive(Clone)]
pub struct App {
    /// Where skills live.
    pub store: SkillStore,
    /// Where they run.
    pub sandbox: Arc<Sandbox>,
    /// Skill changes, for live tool lists.
    pub events: tokio::sync::broadcast::Sender<SkillEvent>,
    /// Everything that happens, for the web UI's live feed.
    activity: tokio::sync::broadcast::Sender<TenantActivity>,
    /// Skill calls, written to the store in the background.
    executions: executions::ExecutionLog,
    /// The server's limits, before any tenant's overrides.
    limits: Arc<Limits>,
    /// The language model, if any (generation needs one; nothing else does).
    llm: crate::llm::Llm,
    shares: Arc<Shares>,
    verified: VerifiedSkills,
    catalogs: Arc<catalog::Catalogs>,
    memo: Arc<memo::Memo>,
    heads: Arc<heads::Heads>,
    keys: Arc<keys::Keys>,
    quota_cache: Arc<quotas::QuotaCache>,
    /// Fair turns at the configured model.
    turns: Arc<turns::ModelTurns>,
    /// Events for other replicas, once relaying started.
    bus: Arc<bus::Bus>,
    /// This process, on the events bus.
    origin: Arc<str>,
    metrics: Arc<crate::metrics::Metrics>,
}

/// A tenant's set of skills changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillEvent {
    /// Whose skills ([`SkillEvent::EVERY_TENANT`]: anyone's may have).
    pub tenant: String,
    /// The skill that was published, changed or retired (empty when not
    /// known).
    pub name: String,
}

impl SkillEvent {
    /// The tenant of an event that may concern every tenant (events from
    /// other replicas were missed). No tenant name can be this.
    pub const EVERY_TENANT: &str = "*";

    /// Whether `tenant`'s sessions should hear of it.
    pub fn concerns(&self, tenant: &str) -> bool {
        self.tenant == tenant || self.tenant == Self::EVERY_TENANT
    }

    /// The skill, when one is known.
    pub fn skill(&self) -> Option<&str> {
        (!self.name.is_empty()).then_some(self.name.as_str())
    }
}

/// The outcome of crystallizing a trace.
#[derive(Debug, Clone)]
pub enum Crystallized {
    /// A new skill was verified and published.
    Published(Skill),
    /// A skill with the same code already existed; no duplicate was made.
    Existing(Skill),
}

/// A successful run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The skill that ran.
    pub skill: Arc<Skill>,
    /// The sandbox's output.
    pub output: RunOutput,
    /// The parsed result.
    pub value: serde_json::Value,
    /// Served from the memo of a deterministic skill, without running it.
    pub cached: bool,
}

impl App {
    /// Open the store and load the sandbox from `paths`.
    pub async fn open(paths: &Paths) -> Result<Self, OpenError> {
        let store = SkillStore::open_at(&paths.database()).await?;
        let config = SandboxConfig::with_artifact(paths.artifact.clone(), paths.cache_dir());
        let sandbox = tokio::task::spawn_blocking(move || Sandbox::new(&config))
            .await
            .map_err(|e| SandboxError::InvalidLimits(format!("sandbox loader panicked: {e}")))??;
        Ok(Self::new(store, Arc::new(sandbox)))
    }

    /// Compose an app from parts, with the default [`Limits`].
    pub fn new(store: SkillStore, sandbox: Arc<Sandbox>) -> Self {
        let (events, _) = tokio::sync::broadcast::channel(256);
        let (activity, _) = tokio::sync::broadcast::channel(1024);
        Self {
            store,
            sandbox,
            events,
            activity,
            executions: executions::ExecutionLog::default(),
            limits: Arc::new(Limits::default()),
            llm: Arc::new(crate::llm::NoModel { label: "none" }),
            shares: Arc::default(),
            verified: VerifiedSkills::default(),
            catalogs: Arc::default(),
            memo: Arc::default(),
            heads: Arc::default(),
            keys: Arc::default(),
            quota_cache: Arc::default(),
            turns: Arc::new(turns::ModelTurns::new(16, 4)),
            bus: Arc::default(),
            origin: {
                let mut bytes = [0u8; 8];
                rand::Rng::fill_bytes(&mut rand::rng(), &mut bytes);
                hex::encode(bytes).into()
            },
            metrics: Arc::default(),
        }
    }

    /// This process's id among replicas (events, leases).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The process's metrics.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// `/metrics`: the text exposition, with the database pool as of now.
    pub fn render_metrics(&self) -> String {
        let pool = self.store.pool();
        self.metrics.render(crate::metrics::PoolState {
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        })
    }

    /// The same app with a language model.
    pub fn with_llm(mut self, llm: crate::llm::Llm) -> Self {
        self.turns = Arc::new(metered::turns_for(&llm));
        self.llm = llm;
        self
    }

    /// The language model (the web UI's chat runs the agent with it).
    pub fn llm(&self) -> crate::llm::Llm {
        self.llm.clone()
    }

    /// What the language model is.
    pub fn llm_info(&self) -> crate::llm::BackendInfo {
        self.llm.info()
    }

    /// Whether a model of our own is configured (else MCP calls may borrow
    /// the client's, through sampling).
    pub fn has_own_llm(&self) -> bool {
        !matches!(self.llm.info().backend.as_str(), "none" | "sampling")
    }

    /// Tell live pages of a new skill version (not of one stored again).
    pub(crate) fn stored(&self, tenant: &str, inserted: &Inserted) {
        if matches!(inserted, Inserted::Existing(_)) {
            return;
        }
        let s = inserted.skill();
        self.notify(
            tenant,
            Activity::SkillAdded {
                name: s.manifest.name.clone(),
                version: s.version,
                status: s.status.to_string(),
                trust: s.trust(),
            },
        );
    }

    fn announce(&self, tenant: &str, name: &str) {
        self.relay_skill(tenant, name);
        // No receivers is fine: nobody is listening yet.
        let _ = self.events.send(SkillEvent {
            tenant: tenant.to_owned(),
            name: name.to_owned(),
        });
        self.notify(
            tenant,
            Activity::McpUpdated {
                name: Some(name.to_owned()),
            },
        );
    }

    /// The tenant's published and draft skills ranked for `query` (BM25, see
    /// [`crate::search`]), best first, at most `limit`. The query must fit
    /// the tenant's `query_bytes`; the ranking runs off the I/O threads.
    pub async fn search_skills(
        &self,
        tenant: &str,
        query: &str,
        limit: usize,
    ) -> Result<Vec<(Arc<Skill>, f64)>, SearchError> {
        let max = self.limits(tenant).await.query_bytes;
        if query.len() > max {
            return Err(SearchError::QueryTooLong {
                size: query.len(),
                limit: max,
            });
        }
        // Drafts are offered too (flagged by their status): a suggestion
        // the agent or a person may publish.
        let catalog = self.catalog(tenant).await?;
        let query = query.to_owned();
        tokio::task::spawn_blocking(move || catalog.search(&query, limit))
            .await
            .map_err(|e| SearchError::Worker(e.to_string()))
    }

    /// Record what was learned in the hash-chained log. The operation it
    /// describes has already happened, so a failure to record is logged,
    /// not returned.
    pub(crate) async fn learn(
        &self,
        tenant: &str,
        kind: &str,
        subject: &str,
        detail: serde_json::Value,
    ) {
        if let Err(e) = self
            .store
            .append_learning(tenant, kind, subject, &detail)
            .await
        {
            tracing::error!("recording a learning ({kind} {subject}): {e}");
        }
    }

    /// The tenant's learnings after `after`, oldest first.
    pub async fn learnings(
        &self,
        tenant: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<crate::store::Learning>, StoreError> {
        self.store.learnings(tenant, after, limit).await
    }

    /// The tenant's newest `n` learnings, oldest first.
    pub async fn recent_learnings(
        &self,
        tenant: &str,
        n: usize,
    ) -> Result<Vec<crate::store::Learning>, StoreError> {
        self.store.recent_learnings(tenant, n).await
    }

    /// The tenant's published skills (the newest version of each name).
    pub async fn published(&self, tenant: &str) -> Result<Vec<Arc<Skill>>, CatalogError> {
        Ok(self.catalog(tenant).await?.published().cloned().collect())
    }

    /// `tenant`'s current skills, as the store has them now (cached while
    /// they are unchanged).
    pub async fn catalog(&self, tenant: &str) -> Result<Arc<Catalog>, CatalogError> {
        self.catalogs.get(&self.store, tenant).await
    }

    /// The newest version of `name`, whatever its status.
    pub async fn skill(&self, tenant: &str, name: &str) -> Result<Skill, StoreError> {
        self.store.latest(tenant, name).await
    }

    /// Retire the newest version of `name`; it stops being a tool.
    /// Retiring a retired skill changes nothing.
    pub async fn retire_skill(&self, tenant: &str, name: &str) -> Result<Skill, StoreError> {
        let skill = self.store.latest(tenant, name).await?;
        if skill.status == Status::Retired {
            return Ok(skill);
        }
        let retired = self
            .store
            .set_status(tenant, name, &skill.id, Status::Retired)
            .await?;
        self.notify(
            tenant,
            Activity::SkillRetired {
                name: name.to_owned(),
            },
        );
        self.announce(tenant, name);
        Ok(retired)
    }

    /// Verify `manifest` in the sandbox, then store it as published. Storing
    /// an identical manifest again returns the existing skill.
    pub async fn add_skill(
        &self,
        tenant: &str,
        manifest: SkillManifest,
        provenance: Provenance,
    ) -> Result<(Inserted, Verification), AddError> {
        self.add_skill_as(tenant, manifest, provenance, Status::Published)
            .await
    }

    /// [`App::add_skill`] with a status: a draft is stored but is not a
    /// tool, and never replaces a published version of its name.
    pub async fn add_skill_as(
        &self,
        tenant: &str,
        manifest: SkillManifest,
        provenance: Provenance,
        status: Status,
    ) -> Result<(Inserted, Verification), AddError> {
        let limits = self.limits(tenant).await;
        manifest.validate(&limits.skill)?;
        // Verification runs user code: one call at a time, each under the
        // normal per-call limits, inside the tenant's share.
        let call = ResourceLimits::default();
        let admission = self.admit(tenant, &limits, call.deadline).await?;
        let deps = self.dependencies(tenant, &manifest).await?;
        let (sandbox, scope) = (self.sandbox.clone(), tenant.to_owned());
        let m = manifest.clone();
        let verification = off_io(async move { verify(&sandbox, &scope, &m, &deps, &call).await })
            .await
            .map_err(|e| StoreError::Corrupt {
                name: manifest.name.clone(),
                reason: format!("verifier failed: {e}"),
            })?;
        drop(admission);
        if !verification.passed() {
            self.learn(
                tenant,
                "decision",
                &manifest.name,
                serde_json::json!({"source": provenance, "published": false, "problems": verification.problems}),
            )
            .await;
            return Err(AddError::Rejected(Box::new(verification)));
        }
        if status == Status::Draft
            && matches!(
                self.store.head(tenant, &manifest.name).await?,
                Some((_, Status::Published))
            )
        {
            return Err(AddError::Store(StoreError::Conflict(format!(
                "a published skill named {:?} exists; a draft must not replace it",
                manifest.name
            ))));
        }
        let inserted = self
            .store
            .insert(tenant, &manifest, provenance, status, &verification.kpis)
            .await?;
        self.stored(tenant, &inserted);
        if status == Status::Published && !matches!(inserted, Inserted::Existing(_)) {
            self.announce(tenant, &manifest.name);
            let s = inserted.skill();
            self.learn(
                tenant,
                "decision",
                &manifest.name,
                serde_json::json!({"source": provenance, "published": true, "version": s.version, "id": s.id, "trust": s.trust()}),
            )
            .await;
        } else if status == Status::Draft {
            let s = inserted.skill();
            self.learn(
                tenant,
                "decision",
                &manifest.name,
                serde_json::json!({"source": provenance, "published": false, "draft": true, "version": s.version, "trust": s.trust()}),
            )
            .await;
        }
        Ok((inserted, verification))
    }
}

/// Run sandbox work on a blocking-pool thread, so wasm compute between
/// awaits never stalls the runtime's I/O workers (and so other requests).
async fn off_io<F>(work: F) -> Result<F::Output, tokio::task::JoinError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(work)).await
}
