//! Running a skill by name: the newest published version, verified and
//! cached by id, its input checked before and its output after, inside the
//! tenant's share; every call logged.

use crate::fault::Classify;
use std::sync::Arc;
use std::time::Instant;

use super::memo;
use super::verified::Verified;
use super::{App, RunError, RunResult};
use crate::limits::Limits;
use crate::sandbox::{CallError, Determinism, ResourceLimits, SkillCode};
use crate::skills::{InputValidator, Status};
use crate::store::StoreError;

/// Skill calls: running a skill by name (admission, quotas, the memo,
/// the execution log), code that is no skill, and the log of calls;
/// borrowed from the app ([`App::calls`]).
#[derive(Clone, Copy)]
pub struct Calls<'a> {
    pub(super) app: &'a App,
}

impl App {
    /// Run skills and read the log of calls.
    pub fn calls(&self) -> Calls<'_> {
        Calls { app: self }
    }
}

impl App {
    /// The newest version of `name`, published and verified, from the cache
    /// when its id is unchanged.
    async fn resolve(&self, tenant: &str, name: &str) -> Result<Arc<Verified>, RunError> {
        let (id, status) = match self.heads.get(&self.store, tenant, name).await {
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
        let load = async || {
            let skill = match self.store.get(tenant, &id).await {
                Ok(s) => s,
                Err(StoreError::NotFound(_)) => return Err(RunError::NotFound(name.to_owned())),
                Err(e) => return Err(RunError::Store(e)),
            };
            let compile = |schema: &serde_json::Value| {
                InputValidator::new(schema).map_err(|e| CallError::Host(e.to_string()))
            };
            let deps = self.skills().dependencies(tenant, &skill.manifest).await?;
            Ok(Arc::new(Verified {
                deps,
                input: compile(&skill.manifest.input_schema)?,
                output: skill
                    .manifest
                    .output_schema
                    .as_ref()
                    .map(compile)
                    .transpose()?,
                skill: Arc::new(skill),
            }))
        };
        self.verified.get(tenant, name, &id, load).await
    }

    async fn run_skill_unlogged(
        &self,
        tenant: &str,
        name: &str,
        input: &serde_json::Value,
        input_json: &str,
        mut limits: ResourceLimits,
        determinism: Determinism,
    ) -> Result<RunResult, RunError> {
        let tenant_limits = self.limits(tenant).await;
        check_input_size(input_json, &tenant_limits)?;
        let verified = self.resolve(tenant, name).await?;
        let memo_key = memo::memoizable(&verified.skill).then(|| memo::key(&verified.skill, input));
        if let Some(hit) = memo_key.as_ref().and_then(|k| self.memo.get(tenant, k)) {
            return Ok(RunResult {
                skill: verified.skill.clone(),
                output: hit.output.clone(),
                value: hit.value.clone(),
                cached: true,
            });
        }
        let quota = self.begin_quota_call(tenant, &mut limits).await?;
        let _admission = self.admit_call(tenant, &tenant_limits, &mut limits).await?;

        let allowed_fuel = limits.fuel;
        let sandbox = self.sandbox.clone();
        let (job, input, scope) = (verified.clone(), input.clone(), tenant.to_owned());
        let input_json = input_json.to_owned();
        let output = self
            .offload
            .run(async move {
                // Validation is host work on untrusted data: it runs here, off
                // the I/O threads, inside the tenant's share, and its time
                // counts against the call's deadline.
                let started = Instant::now();
                job.input.validate(&input).map_err(CallError::BadInput)?;
                let full = limits.deadline;
                limits.deadline = limits.deadline.saturating_sub(started.elapsed());
                if limits.deadline.is_zero() {
                    return Err(CallError::Timeout { limit: full });
                }
                let m = &job.skill.manifest;
                let code = SkillCode {
                    deps: &job.deps,
                    name: &m.name,
                    source: &m.source,
                    entry: &m.entry,
                    runtime: m.runtime,
                };
                let output = sandbox
                    .run_in(&scope, code, &input_json, &limits, determinism)
                    .await?;
                let value: serde_json::Value = serde_json::from_str(&output.json)
                    .map_err(|e| CallError::Host(format!("guest returned invalid JSON: {e}")))?;
                if let Some(schema) = &job.output {
                    schema.validate(&value).map_err(|e| {
                        CallError::Guest(crate::sandbox::GuestFault {
                            kind: crate::sandbox::ErrorKind::BadOutput,
                            error_type: "OutputSchemaError".into(),
                            message: crate::text::truncate(
                                &format!("the result does not fit the output schema: {e}"),
                                crate::text::MAX_MESSAGE_BYTES,
                            ),
                            traceback: String::new(),
                            line: 0,
                        })
                    })?;
                }
                Ok((output, value))
            })
            .await
            .map_err(|e| CallError::Host(format!("sandbox worker failed: {e}")))?;
        let (output, value) = match output {
            Ok(done) => {
                quota.finish(done.0.fuel_used).await;
                done
            }
            Err(e) => {
                let by_quota = quota.stopped_by_quota(&e);
                // What a failed call burnt is not reported: it is charged
                // all it was allowed, except when it never reached wasm.
                let burnt = if matches!(e, CallError::BadInput(_) | CallError::Host(_)) {
                    0
                } else {
                    allowed_fuel
                };
                quota.finish(burnt).await;
                return Err(match by_quota {
                    Some(q) => self.refused(tenant, q).into(),
                    None => e.into(),
                });
            }
        };
        if let Some(key) = memo_key {
            self.memo.put(
                tenant,
                key,
                memo::Memoized {
                    output: output.clone(),
                    value: value.clone(),
                },
            );
        }
        let skill = verified.skill.clone();
        Ok(RunResult {
            skill,
            output,
            value,
            cached: false,
        })
    }
}

/// Refuse an input over the tenant's size limit before any work on it;
/// `input_json` is the input serialized, once per call.
pub(super) fn check_input_size(input_json: &str, limits: &Limits) -> Result<(), CallError> {
    let size = input_json.len();
    if size > limits.input_bytes {
        return Err(CallError::BadInput(format!(
            "the input is {size} bytes, over the {} byte limit",
            limits.input_bytes
        )));
    }
    Ok(())
}

impl Calls<'_> {
    /// Run the newest version of `name` on `input`, which is checked
    /// against the skill's input schema first and its output schema after.
    /// The call goes into the execution log.
    pub async fn run(
        &self,
        tenant: &str,
        name: &str,
        input: &serde_json::Value,
        limits: ResourceLimits,
        determinism: Determinism,
    ) -> Result<RunResult, RunError> {
        let started = Instant::now();
        // Serialized once: for the size check, the sandbox and the log.
        let input_json = input.to_string();
        let result = self
            .app
            .run_skill_unlogged(tenant, name, input, &input_json, limits, determinism)
            .await;
        let elapsed = started.elapsed();
        match &result {
            Ok(r) => self
                .app
                .metrics
                .call(tenant, None, elapsed, r.output.fuel_used),
            Err(e) => self
                .app
                .metrics
                .call(tenant, Some(Classify::kind(e)), elapsed, 0),
        }
        self.app
            .log_execution(tenant, name, &input_json, &result, elapsed);
        result
    }
}
