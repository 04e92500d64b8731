//! The application core: the store and the sandbox together, with the
//! operations every front end (CLI, MCP, web) needs: add a verified skill,
//! run a skill by name, run a code cell, crystallize a trace, retire a
//! skill; and the change events that keep tool lists live. Front ends only
//! parse and render.

use std::sync::Arc;

use crate::config::Paths;
use crate::learn::crystallize::fingerprint;
use crate::learn::{Verification, verify};
use crate::sandbox::{
    CallError, Determinism, ResourceLimits, RunOutput, Sandbox, SandboxConfig, SandboxError,
    SkillCode,
};
use crate::skills::{InputValidator, ManifestError, Provenance, Skill, SkillManifest, Status};
use crate::store::{Inserted, SkillStore, StoreError};

/// Store plus sandbox; cheap to clone.
#[derive(Clone)]
pub struct App {
    /// Where skills live.
    pub store: SkillStore,
    /// Where they run.
    pub sandbox: Arc<Sandbox>,
    /// Skill changes, for live tool lists and UIs.
    pub events: tokio::sync::broadcast::Sender<SkillEvent>,
    verified: VerifiedSkills,
}

/// A skill as loaded and hash-checked, with its schemas compiled.
struct Verified {
    skill: Arc<Skill>,
    input: InputValidator,
    output: Option<InputValidator>,
}

/// Verified skills by (tenant, name), so a call skips decoding, the hash
/// check and schema compilation. Every call still asks the store for the
/// newest id and status (one indexed lookup), so a new version, a retirement
/// or a write by another process is seen at once; and what runs is always
/// content that was verified when it was loaded.
#[derive(Clone, Default)]
struct VerifiedSkills(Arc<std::sync::RwLock<VerifiedMap>>);

type VerifiedMap = std::collections::HashMap<(String, String), Arc<Verified>>;

impl VerifiedSkills {
    fn get(&self, tenant: &str, name: &str, id: &crate::skills::SkillId) -> Option<Arc<Verified>> {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        map.get(&(tenant.to_owned(), name.to_owned()))
            .filter(|v| &v.skill.id == id)
            .cloned()
    }

    fn put(&self, tenant: &str, name: &str, v: Arc<Verified>) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        map.insert((tenant.to_owned(), name.to_owned()), v);
    }
}

/// A tenant's set of skills changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillEvent {
    /// Whose skills.
    pub tenant: String,
    /// The skill that was published, changed or retired.
    pub name: String,
}

/// The outcome of crystallizing a trace.
#[derive(Debug, Clone)]
pub enum Crystallized {
    /// A new skill was verified and published.
    Published(Skill),
    /// A skill with the same code already existed; no duplicate was made.
    Existing(Skill),
}

/// Crystallizing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrystallizeError {
    /// The trace is not worth a skill, and why.
    #[error(transparent)]
    Refused(#[from] crate::learn::crystallize::Refusal),
    /// The composed skill could not be added.
    #[error(transparent)]
    Add(#[from] AddError),
}

/// Opening the app failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The sandbox.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
}

/// Adding a skill failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AddError {
    /// The manifest is malformed.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Verification found problems; the skill was not stored.
    #[error("the skill failed verification:\n- {}", .0.problems.join("\n- "))]
    Rejected(Box<Verification>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Running a skill failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// No such skill for this tenant.
    #[error("no skill named {0:?}")]
    NotFound(String),
    /// The newest version is not published.
    #[error("skill {name:?} is {status}, not published")]
    NotPublished {
        /// The skill.
        name: String,
        /// Its status.
        status: Status,
    },
    /// The store failed or the row is tampered.
    #[error(transparent)]
    Store(StoreError),
    /// The call failed in the sandbox (or its input was rejected).
    #[error(transparent)]
    Call(#[from] CallError),
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
}

impl App {
    /// Open the store and load the sandbox from `paths`.
    pub async fn open(paths: &Paths) -> Result<Self, OpenError> {
        let store = SkillStore::open(&paths.database()).await?;
        let config = SandboxConfig::new(&paths.artifact, paths.cache_dir());
        let sandbox = tokio::task::spawn_blocking(move || Sandbox::new(&config))
            .await
            .map_err(|e| SandboxError::InvalidLimits(format!("sandbox loader panicked: {e}")))??;
        Ok(Self::new(store, Arc::new(sandbox)))
    }

    /// Compose an app from parts.
    pub fn new(store: SkillStore, sandbox: Arc<Sandbox>) -> Self {
        let (events, _) = tokio::sync::broadcast::channel(256);
        Self {
            store,
            sandbox,
            events,
            verified: VerifiedSkills::default(),
        }
    }

    fn announce(&self, tenant: &str, name: &str) {
        // No receivers is fine: nobody is listening yet.
        let _ = self.events.send(SkillEvent {
            tenant: tenant.to_owned(),
            name: name.to_owned(),
        });
    }

    /// Run a code cell with `inputs` bound as variables (the `run_python`
    /// tool). Returns the sandbox output; its JSON is `{"value", "names"}`.
    pub async fn run_python(
        &self,
        code: &str,
        inputs: &serde_json::Value,
        limits: ResourceLimits,
    ) -> Result<RunOutput, CallError> {
        let sandbox = self.sandbox.clone();
        let (code, inputs) = (code.to_owned(), inputs.to_string());
        off_io(async move {
            sandbox
                .exec(&code, &inputs, &limits, Determinism::Live)
                .await
        })
        .await
        .map_err(|e| CallError::Host(format!("sandbox worker failed: {e}")))?
    }

    /// Turn a trace into a published skill, or say why not. If the tenant
    /// already has a published skill with the same code, return it.
    pub async fn crystallize(
        &self,
        tenant: &str,
        request: &str,
        steps: &[crate::learn::crystallize::Step],
        final_result: Option<&serde_json::Value>,
        name: Option<&str>,
    ) -> Result<Crystallized, CrystallizeError> {
        let sandbox = self.sandbox.clone();
        let (request, steps, final_result, name) = (
            request.to_owned(),
            steps.to_vec(),
            final_result.cloned(),
            name.map(str::to_owned),
        );
        let manifest = off_io(async move {
            crate::learn::crystallize::prepare(
                &sandbox,
                &request,
                &steps,
                final_result.as_ref(),
                name.as_deref(),
            )
            .await
        })
        .await
        .map_err(|e| crate::learn::crystallize::Refusal::Fails(e.to_string()))??;

        let existing = self.store.list(tenant).await.map_err(AddError::Store)?;
        let wanted = fingerprint(&manifest.source, &manifest.entry);
        if let Some(same) = existing.into_iter().find(|s| {
            s.status == Status::Published
                && fingerprint(&s.manifest.source, &s.manifest.entry) == wanted
        }) {
            return Ok(Crystallized::Existing(same));
        }
        let (inserted, _) = self
            .add_skill(tenant, manifest, Provenance::Crystallized)
            .await?;
        Ok(match inserted {
            Inserted::New(s) => Crystallized::Published(s),
            Inserted::Existing(s) => Crystallized::Existing(s),
        })
    }

    /// Retire the newest version of `name`; it stops being a tool.
    pub async fn retire_skill(&self, tenant: &str, name: &str) -> Result<Skill, StoreError> {
        let skill = self.store.latest(tenant, name).await?;
        self.store
            .set_status(tenant, &skill.id, Status::Retired)
            .await?;
        self.announce(tenant, name);
        self.store.latest(tenant, name).await
    }

    /// Verify `manifest` in the sandbox, then store it as published. Storing
    /// an identical manifest again returns the existing skill.
    pub async fn add_skill(
        &self,
        tenant: &str,
        manifest: SkillManifest,
        provenance: Provenance,
    ) -> Result<(Inserted, Verification), AddError> {
        manifest.validate()?;
        let sandbox = self.sandbox.clone();
        let m = manifest.clone();
        let verification = off_io(async move { verify(&sandbox, &m).await })
            .await
            .map_err(|e| StoreError::Corrupt {
                name: manifest.name.clone(),
                reason: format!("verifier failed: {e}"),
            })?;
        if !verification.passed() {
            return Err(AddError::Rejected(Box::new(verification)));
        }
        let inserted = self
            .store
            .insert(
                tenant,
                &manifest,
                provenance,
                Status::Published,
                &verification.kpis,
            )
            .await?;
        if matches!(inserted, Inserted::New(_)) {
            self.announce(tenant, &manifest.name);
        }
        Ok((inserted, verification))
    }

    /// The newest version of `name`, published and verified, from the cache
    /// when its id is unchanged.
    async fn resolve(&self, tenant: &str, name: &str) -> Result<Arc<Verified>, RunError> {
        let (id, status) = match self.store.head(tenant, name).await {
            Ok(Some(head)) => head,
            Ok(None) => return Err(RunError::NotFound(name.to_owned())),
            Err(e) => return Err(RunError::Store(e)),
        };
        if status != Status::Published {
            return Err(RunError::NotPublished {
                name: name.to_owned(),
                status,
            });
        }
        if let Some(v) = self.verified.get(tenant, name, &id) {
            return Ok(v);
        }
        let skill = match self.store.get(tenant, &id).await {
            Ok(s) => s,
            Err(StoreError::NotFound(_)) => return Err(RunError::NotFound(name.to_owned())),
            Err(e) => return Err(RunError::Store(e)),
        };
        let compile = |schema: &serde_json::Value| {
            InputValidator::new(schema).map_err(|e| CallError::Host(e.to_string()))
        };
        let verified = Arc::new(Verified {
            input: compile(&skill.manifest.input_schema)?,
            output: skill
                .manifest
                .output_schema
                .as_ref()
                .map(compile)
                .transpose()?,
            skill: Arc::new(skill),
        });
        self.verified.put(tenant, name, verified.clone());
        Ok(verified)
    }

    /// Run the newest version of `name` on `input`, which is checked
    /// against the skill's input schema first and its output schema after.
    pub async fn run_skill(
        &self,
        tenant: &str,
        name: &str,
        input: &serde_json::Value,
        limits: ResourceLimits,
        determinism: Determinism,
    ) -> Result<RunResult, RunError> {
        let verified = self.resolve(tenant, name).await?;
        verified
            .input
            .validate(input)
            .map_err(CallError::BadInput)?;

        let sandbox = self.sandbox.clone();
        let (job, input_json) = (verified.clone(), input.to_string());
        let output = off_io(async move {
            let m = &job.skill.manifest;
            let code = SkillCode {
                name: &m.name,
                source: &m.source,
                entry: &m.entry,
            };
            sandbox.run(code, &input_json, &limits, determinism).await
        })
        .await
        .map_err(|e| CallError::Host(format!("sandbox worker failed: {e}")))??;

        let value: serde_json::Value = serde_json::from_str(&output.json)
            .map_err(|e| CallError::Host(format!("guest returned invalid JSON: {e}")))?;
        if let Some(schema) = &verified.output {
            schema.validate(&value).map_err(|e| {
                CallError::Guest(crate::sandbox::GuestFault {
                    kind: crate::sandbox::ErrorKind::BadOutput,
                    error_type: "OutputSchemaError".into(),
                    message: format!("the result does not fit the output schema: {e}"),
                    traceback: String::new(),
                    line: 0,
                })
            })?;
        }
        let skill = verified.skill.clone();
        Ok(RunResult {
            skill,
            output,
            value,
        })
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
