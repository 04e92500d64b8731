//! The application core: the store and the sandbox together, behind the
//! operations every front end (MCP, REST, the CLI) and the practice loop
//! need. `App` is the composition root: it holds the parts (store, sandbox,
//! the one event channel, the caches, the model) privately, and each
//! capability is a module of its own with its own types and errors, reached
//! through a handle borrowed from the app. Front ends only parse and render.
//!
//! `App`'s public surface:
//!
//! - making one: [`App::open`], [`App::open_parts`], [`App::new`],
//!   [`App::with_llm`], [`App::with_limits`];
//! - capabilities: [`App::skills`] (publish, read, search, retire, a
//!   person's review of a draft; `skills.rs`, `publish.rs`, `deps.rs`,
//!   `review.rs`), [`App::calls`] (run a skill,
//!   code that is no skill, the log of calls; `run.rs`, `grade.rs`),
//!   [`App::traces`] (`run_python`, crystallize, automatic judging;
//!   `traces.rs`, `auto.rs`), [`App::generate_skill`] and
//!   [`App::generate_skill_with`] (skills from plain English;
//!   `generate.rs`), [`App::learnings`] (the hash-chained log),
//!   [`App::tenants`] (keys and the operator's [`Admin`]), [`App::model`],
//!   [`App::replicas`] (the relay between replicas; `bus.rs`),
//!   [`App::practice_book`] and [`App::leases`] (the practice loop's
//!   records);
//! - events: [`App::notify`], [`App::subscribe`] (one [`Event`] type, one
//!   channel; `events.rs`), and [`App::reset`];
//! - the operator's: [`App::limits`], [`App::readiness`], [`App::metrics`],
//!   [`App::render_metrics`], [`App::prune`], [`App::origin`], and
//!   [`App::halt`] at the end (sandbox and model work runs off the I/O
//!   threads and stops with its caller; `offload.rs`).
//!
//! Every error implements [`crate::fault::Classify`]; each front end maps
//! it in one function.

mod admin;
mod auto;
mod bus;
mod cache;
mod catalog;
mod decision;
mod deps;
mod errors;
mod events;
mod executions;
mod fair;
mod generate;
mod grade;
mod heads;
mod health;
mod keys;
mod learnings;
mod memo;
mod metered;
mod offload;
mod pending;
mod publish;
mod quotas;
mod records;
mod review;
mod run;
mod skills;
mod traces;
mod turns;
mod verified;

use std::sync::Arc;

use crate::config::Paths;
use crate::limits::Limits;
use crate::sandbox::{RunOutput, Sandbox, SandboxConfig};
use crate::skills::Skill;
use crate::store::{Inserted, SkillStore};

pub use admin::{AUDIT_KINDS, Admin, AdminError, check_tenant_name};
pub use auto::AutoMode;
pub use bus::Replicas;
pub use catalog::{Catalog, CatalogError};
pub use deps::DependencyError;
pub use errors::{AddError, CrystallizeError, OpenError, RunError, SearchError};
pub use events::{Event, Notice, TenantEvent};
use fair::Shares;
pub use fair::{Admission, Busy};
pub use generate::{GenerateOutcome, GenerateSkillError};
pub use health::{Pruned, Readiness};
pub use keys::{KeyCheck, Tenants};
pub use learnings::Learnings;
pub use metered::Model;
use offload::Offload;
pub use offload::OffloadError;
pub use publish::PUBLISH_TRUST;
pub use review::{MAX_NOTE as MAX_REVIEW_NOTE, Review, ReviewError};
pub use run::Calls;
pub use skills::Skills;
pub use traces::{Cell, CellRun, Crystallize, PythonStep, Traces};
use verified::VerifiedSkills;

/// Store plus sandbox; cheap to clone.
#[derive(Clone)]
pub struct App {
    /// Where skills live.
    store: SkillStore,
    /// Where they run.
    sandbox: Arc<Sandbox>,
    /// Everything that happens, for every consumer (see `events.rs`).
    events: events::Events,
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
    /// Drafts whose questions a follow-up may settle.
    pending: Arc<pending::PendingDrafts>,
    /// Fair turns at the configured model.
    turns: Arc<turns::ModelTurns>,
    /// Events for other replicas, once relaying started.
    bus: Arc<bus::Bus>,
    /// This process, on the events bus.
    origin: Arc<str>,
    metrics: Arc<crate::metrics::Metrics>,
    /// Long work clients poll (MCP tasks), held by this process.
    tasks: crate::tasks::Tasks,
    /// Sandbox and model work on blocking-pool threads (`offload.rs`).
    offload: Offload,
}

/// The authenticated tenant of a request: the HTTP layer puts it in the
/// request's extensions, MCP and REST handlers act for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantId(pub String);

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
        let (store, sandbox) = Self::open_parts(paths).await?;
        Ok(Self::new(store, sandbox))
    }

    /// The store and the sandbox at `paths`, for a composition root that
    /// also uses them on their own (a benchmark's baseline, a check of
    /// reference solutions that needs no store).
    pub async fn open_parts(paths: &Paths) -> Result<(SkillStore, Arc<Sandbox>), OpenError> {
        let store = SkillStore::open_at(&paths.database()).await?;
        let config = SandboxConfig::with_artifact(paths.artifact.clone(), paths.cache_dir());
        let sandbox = tokio::task::spawn_blocking(move || Sandbox::new(&config))
            .await
            .map_err(|e| {
                OpenError::Internal(crate::fault::Internal::of("the sandbox loader", e))
            })??;
        Ok((store, Arc::new(sandbox)))
    }

    /// Compose an app from parts, with the default [`Limits`].
    pub fn new(store: SkillStore, sandbox: Arc<Sandbox>) -> Self {
        let origin: Arc<str> = {
            let mut bytes = [0u8; 8];
            rand::Rng::fill_bytes(&mut rand::rng(), &mut bytes);
            hex::encode(bytes).into()
        };
        Self {
            tasks: crate::tasks::Tasks::new(store.task_book(), &origin),
            store,
            sandbox,
            events: events::Events::default(),
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
            pending: Arc::default(),
            turns: Arc::new(turns::ModelTurns::new(16, 4)),
            bus: Arc::default(),
            origin,
            metrics: Arc::default(),
            offload: Offload::default(),
        }
    }

    /// Start loading the data runtime in the background if it is fetched,
    /// so a server's first data call does not wait for it.
    pub fn warm_data_runtime(&self) {
        self.sandbox.warm_data();
    }

    /// The process is ending: stop the sandbox and model work still
    /// running (its callers get [`OffloadError::Halted`]) and wait up to
    /// `grace` for it. False if some outlived `grace`.
    pub async fn halt(&self, grace: std::time::Duration) -> bool {
        self.offload.halt(grace).await
    }

    /// This process's id among replicas (events, leases).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The process's metrics.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// The same app with a language model.
    pub fn with_llm(mut self, llm: crate::llm::Llm) -> Self {
        self.turns = Arc::new(metered::turns_for(&llm));
        self.llm = llm;
        self
    }

    /// Tell live pages of a new skill version (not of one stored again).
    pub(crate) fn stored(&self, tenant: &str, inserted: &Inserted) {
        if matches!(inserted, Inserted::Existing(_)) {
            return;
        }
        let s = inserted.skill();
        self.notify(
            tenant,
            Event::SkillAdded {
                name: s.manifest.name.clone(),
                version: s.version,
                status: s.status.to_string(),
                trust: s.trust(),
            },
        );
    }

    /// The tenant's tool list changed: MCP sessions re-read it.
    fn announce(&self, tenant: &str, name: &str) {
        self.notify(
            tenant,
            Event::ListChanged {
                name: Some(name.to_owned()),
            },
        );
    }
}
