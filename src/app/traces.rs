//! The agent's work and what it becomes: `run_python` steps recorded in
//! their trace (in the database, so stateless clients and restarts keep
//! them), and crystallization of a trace into a skill.

use serde_json::Value;

use super::run::check_input_size;
use super::{AddError, App, CrystallizeError, Crystallized, RunError};
use crate::learn::crystallize::{Refusal, fingerprint, prepare};
use crate::learn::refine::refine;
use crate::runtime::Runtime;
use crate::sandbox::{CallError, Determinism, ResourceLimits};
use crate::skills::SkillManifest;
use crate::skills::{Provenance, Status};
use crate::store::{Inserted, Recorded, StepCost, StoreError, TraceCaps};
use crate::trace::{Step, TraceId, TraceRef, TraceSummary};

/// What a cell computed.
#[derive(Debug, Clone, PartialEq)]
pub struct CellRun {
    /// Its value: the last expression, else `result`, else null.
    pub value: Value,
    /// What it printed.
    pub stdout: String,
    /// Fuel it used.
    pub fuel: u64,
}

/// One `run_python` cell, as the agent sent it.
#[derive(Debug, Clone, Copy)]
pub struct Cell<'a> {
    /// The code.
    pub code: &'a str,
    /// The variables it gets (an object).
    pub inputs: &'a Value,
    /// The interpreter it runs on.
    pub runtime: Runtime,
    /// Whether the agent reports this cell's result back as its answer to
    /// the person: what automatic crystallization in `publish` mode requires.
    pub answer: bool,
}

/// A `run_python` step, recorded.
#[derive(Debug, Clone)]
pub struct PythonStep {
    /// Its trace and number there.
    pub recorded: Recorded,
    /// What the cell did.
    pub outcome: Result<CellRun, CallError>,
}

/// What to crystallize.
#[derive(Debug, Clone)]
pub enum Crystallize {
    /// Steps the caller passes.
    Steps(Vec<Step>),
    /// A recorded trace.
    Trace(TraceRef),
}

/// An agent's traces and what is made of them; borrowed from the app
/// ([`App::traces`]).
#[derive(Clone, Copy)]
pub struct Traces<'a> {
    pub(super) app: &'a App,
}

impl App {
    /// Run code cells into traces, crystallize them, read them.
    pub fn traces(&self) -> Traces<'_> {
        Traces { app: self }
    }

    fn trace_caps(limits: &crate::limits::Limits) -> TraceCaps {
        TraceCaps {
            steps: limits.trace_steps,
            bytes: limits.trace_bytes,
            idle: limits.trace_idle,
        }
    }

    /// With a model configured, let it improve a mechanically built skill
    /// (name, description, parameter descriptions, generalizations); keep
    /// the mechanical one unless the proposal reproduces every recorded
    /// result.
    async fn refined(
        &self,
        tenant: &str,
        mechanical: SkillManifest,
        name_given: bool,
    ) -> SkillManifest {
        if self.llm.info().backend == "none" {
            return mechanical;
        }
        let (llm, sandbox, m) = (
            self.model().for_tenant(tenant),
            self.sandbox.clone(),
            mechanical.clone(),
        );
        let limits = ResourceLimits::default();
        let refined = self
            .offload
            .run(async move { refine(&llm, &sandbox, &m, name_given, &limits).await })
            .await
            .ok()
            .flatten();
        let kept = refined.is_some();
        self.learn(
            tenant,
            "refine",
            &mechanical.name,
            serde_json::json!({"accepted": kept, "name": refined.as_ref().map(|r| r.manifest.name.clone())}),
        )
        .await;
        refined.map_or(mechanical, |r| r.manifest)
    }
}

impl Traces<'_> {
    /// Run a code cell with `inputs` bound as variables (the `run_python`
    /// tool), and record it as the next step of the trace `trace` names.
    /// A cell refused before it ran (too large, no room in the tenant's
    /// share) is an `Err` and is not recorded; a cell that ran, whether it
    /// worked or failed, is.
    pub async fn run_python(
        &self,
        tenant: &str,
        code: &str,
        inputs: &Value,
        limits: ResourceLimits,
        trace: &TraceRef,
    ) -> Result<PythonStep, RunError> {
        let cell = Cell {
            code,
            inputs,
            runtime: Runtime::Core,
            answer: false,
        };
        self.run_python_as(tenant, cell, limits, trace).await
    }

    /// [`Traces::run_python`] for a [`Cell`] with its runtime and whether
    /// it is the agent's answer.
    pub async fn run_python_as(
        &self,
        tenant: &str,
        cell: Cell<'_>,
        mut limits: ResourceLimits,
        trace: &TraceRef,
    ) -> Result<PythonStep, RunError> {
        let Cell {
            code,
            inputs,
            runtime,
            answer,
        } = cell;
        let tenant_limits = self.app.limits(tenant).await;
        if code.len() > tenant_limits.code_bytes {
            return Err(CallError::BadInput(format!(
                "the code is {} bytes, over the {} byte limit",
                code.len(),
                tenant_limits.code_bytes
            ))
            .into());
        }
        check_input_size(&inputs.to_string(), &tenant_limits)?;
        let Some(input_map) = inputs.as_object().cloned() else {
            return Err(CallError::BadInput("`inputs` must be an object".into()).into());
        };
        // A cell is a call like a skill's: it counts against the tenant's
        // calls per minute, concurrent calls and fuel per day.
        let quota = self.app.begin_quota_call(tenant, &mut limits).await?;
        let allowed_fuel = limits.fuel;
        let admission = self
            .app
            .admit_call(tenant, &tenant_limits, &mut limits)
            .await?;
        let sandbox = self.app.sandbox.clone();
        let (cell, inputs_json) = (code.to_owned(), inputs.to_string());
        let ran = self
            .app
            .offload
            .run(async move {
                sandbox
                    .exec(runtime, &cell, &inputs_json, &limits, Determinism::Live)
                    .await
            })
            .await
            .map_err(|e| CallError::Host(format!("sandbox worker failed: {e}")))?;
        drop(admission);
        let burnt = match &ran {
            Ok(out) => out.fuel_used,
            // What a failed cell burnt is not reported (see run_skill).
            Err(CallError::BadInput(_) | CallError::Host(_)) => 0,
            Err(_) => allowed_fuel,
        };
        quota.finish(burnt).await;

        let mut step = Step {
            code: code.to_owned(),
            inputs: input_map,
            value: None,
            names: Vec::new(),
            bound: Default::default(),
            error: None,
            answer,
            runtime,
        };
        let mut cost = StepCost::default();
        let outcome = match ran {
            Ok(out) => {
                let parsed: Value = serde_json::from_str(&out.json).unwrap_or(Value::Null);
                let value = parsed["value"].clone();
                step.value = Some(value.clone());
                step.names = serde_json::from_value(parsed["names"].clone()).unwrap_or_default();
                step.bound = parsed["bound"].as_object().cloned().unwrap_or_default();
                cost = StepCost {
                    fuel: out.fuel_used,
                    elapsed_us: u64::try_from(out.elapsed.as_micros()).unwrap_or(u64::MAX),
                };
                Ok(CellRun {
                    value,
                    stdout: out.stdout,
                    fuel: out.fuel_used,
                })
            }
            Err(e) => {
                step.error = Some(e.to_string());
                Err(e)
            }
        };
        let recorded = self
            .app
            .store
            .record_step(tenant, trace, &step, cost, App::trace_caps(&tenant_limits))
            .await
            .map_err(|e| CallError::Host(format!("recording the step: {e}")))?;
        Ok(PythonStep { recorded, outcome })
    }

    /// Turn a trace (or explicit steps) into a published skill, or say why
    /// not. If the tenant already has a published skill with the same code,
    /// return it. A trace that became a skill is closed.
    pub async fn crystallize(
        &self,
        tenant: &str,
        request: &str,
        from: Crystallize,
        final_result: Option<&Value>,
        name: Option<&str>,
    ) -> Result<Crystallized, CrystallizeError> {
        self.crystallize_as(tenant, request, from, final_result, name, Status::Published)
            .await
    }

    /// [`Traces::crystallize`], storing the skill with `status` (a draft is
    /// not a tool; see [`super::Skills::add_as`]).
    pub async fn crystallize_as(
        &self,
        tenant: &str,
        request: &str,
        from: Crystallize,
        final_result: Option<&Value>,
        name: Option<&str>,
        status: Status,
    ) -> Result<Crystallized, CrystallizeError> {
        let limits = self.app.limits(tenant).await;
        let (steps, trace) = match from {
            Crystallize::Steps(steps) => {
                // Passed steps get the same bounds as recorded ones: slicing
                // compares every step with the ones before it.
                let bytes = serde_json::to_string(&steps).map_or(usize::MAX, |t| t.len());
                if steps.len() > limits.trace_steps || bytes > limits.trace_bytes {
                    return Err(Refusal::TooLarge {
                        steps: steps.len(),
                        bytes,
                        max_steps: limits.trace_steps,
                        max_bytes: limits.trace_bytes,
                    }
                    .into());
                }
                (steps, None)
            }
            Crystallize::Trace(which) => {
                let found = self
                    .app
                    .store
                    .find_trace(tenant, &which, limits.trace_idle)
                    .await
                    .map_err(AddError::Store)?;
                match (found, &which) {
                    (Some(id), _) => {
                        let steps = self
                            .app
                            .store
                            .trace_steps(tenant, &id)
                            .await
                            .map_err(AddError::Store)?;
                        (steps, Some(id))
                    }
                    (None, TraceRef::Id(id)) => {
                        return Err(Refusal::UnknownTrace(id.to_string()).into());
                    }
                    (None, _) => (Vec::new(), None),
                }
            }
        };
        let call = ResourceLimits::default();
        let admission = self
            .app
            .admit(tenant, &limits, call.deadline)
            .await
            .map_err(AddError::Busy)?;
        let sandbox = self.app.sandbox.clone();
        let name_given = name.is_some();
        let (request, final_result, name) = (
            request.to_owned(),
            final_result.cloned(),
            name.map(str::to_owned),
        );
        let manifest = self
            .app
            .offload
            .run(async move {
                prepare(
                    &sandbox,
                    &request,
                    &steps,
                    final_result.as_ref(),
                    name.as_deref(),
                    &call,
                )
                .await
            })
            .await
            .map_err(|e| Refusal::Fails(e.to_string()));
        // add_skill takes its own place in the share.
        drop(admission);
        let subject = trace
            .as_ref()
            .map_or_else(|| "steps".to_owned(), TraceId::to_string);
        let manifest = match manifest {
            Ok(Ok(m)) => m,
            Ok(Err(refusal)) | Err(refusal) => {
                self.app.learn(
                    tenant,
                    "decision",
                    &subject,
                    serde_json::json!({"source": "crystallize", "published": false, "reason": refusal.to_string()}),
                )
                .await;
                return Err(refusal.into());
            }
        };

        let wanted = fingerprint(&manifest.source, &manifest.entry);
        let manifest = self.app.refined(tenant, manifest, name_given).await;
        let existing = self.app.store.list(tenant).await.map_err(AddError::Store)?;
        let outcome = match existing.into_iter().find(|s| {
            s.status == Status::Published
                && fingerprint(&s.manifest.source, &s.manifest.entry) == wanted
        }) {
            Some(same) => Crystallized::Existing(same),
            None => match self
                .app
                .skills()
                .add_as(tenant, manifest, Provenance::Crystallized, status)
                .await?
                .0
            {
                Inserted::New(s) | Inserted::Restored(s) => Crystallized::Published(s),
                Inserted::Existing(s) => Crystallized::Existing(s),
            },
        };
        if let Some(id) = trace {
            let skill = match &outcome {
                Crystallized::Published(s) | Crystallized::Existing(s) => &s.manifest.name,
            };
            self.app
                .store
                .close_trace(tenant, &id, Some(skill))
                .await
                .map_err(AddError::Store)?;
        }
        Ok(outcome)
    }

    /// The tenant's traces, newest first.
    pub async fn list(&self, tenant: &str, limit: usize) -> Result<Vec<TraceSummary>, StoreError> {
        self.app.store.list_traces(tenant, limit).await
    }

    /// One trace's steps.
    pub async fn steps(&self, tenant: &str, id: &TraceId) -> Result<Vec<Step>, StoreError> {
        self.app.store.trace_steps(tenant, id).await
    }

    /// A legacy MCP session ended: its trace is ready to be judged.
    pub async fn end_session(&self, tenant: &str, session: &str) -> Result<(), StoreError> {
        self.app.store.end_session(tenant, session).await
    }
}
