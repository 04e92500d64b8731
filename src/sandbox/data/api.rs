//! The data runtime's calls, each one request of the boot's
//! `_autolearn_serve`: the same operations as the core runtime's exports.

use std::time::Instant;

use serde_json::json;

use super::DataRuntime;
use crate::sandbox::outcome::finish;
use crate::sandbox::{
    CallError, Dependency, Determinism, Finding, ResourceLimits, RunOutput, SkillCode, TestCase,
    TestReport,
};

/// The public calls, each one request of the boot's `_autolearn_serve`.
impl DataRuntime {
    /// Call `code.entry(**input)`; `input_json` must be a JSON object.
    pub async fn run(
        &self,
        code: SkillCode<'_>,
        input_json: &str,
        limits: &ResourceLimits,
        determinism: Determinism,
    ) -> Result<RunOutput, CallError> {
        let started = Instant::now();
        let request = json!({"op": "run", "name": code.name, "source": code.source,
            "entry": code.entry, "input": input_json, "deps": deps(code.deps)});
        let (result, meta) = self.call(Some(&request), limits, determinism).await?;
        finish(result, meta, limits, started)
    }

    /// Run a code cell with `inputs_json` bound as variables (`run_python`).
    pub async fn exec(
        &self,
        code: &str,
        inputs_json: &str,
        limits: &ResourceLimits,
        determinism: Determinism,
    ) -> Result<RunOutput, CallError> {
        let started = Instant::now();
        let request = json!({"op": "exec", "code": code, "inputs": inputs_json});
        let (result, meta) = self.call(Some(&request), limits, determinism).await?;
        finish(result, meta, limits, started)
    }

    /// Compose recorded cells into one skill module (see the WIT world).
    pub async fn compose(
        &self,
        cells: &str,
        params: &str,
        name: &str,
        doc: &str,
        limits: &ResourceLimits,
    ) -> Result<String, CallError> {
        let request =
            json!({"op": "compose", "cells": cells, "params": params, "name": name, "doc": doc});
        let (result, _) = self
            .call(Some(&request), limits, Determinism::Seeded(0))
            .await?;
        result.map_err(CallError::Guest)
    }

    /// The static check of `code.source`, as in the core runtime.
    pub async fn check(
        &self,
        code: SkillCode<'_>,
        limits: &ResourceLimits,
    ) -> Result<Vec<Finding>, CallError> {
        let request = json!({"op": "check", "name": code.name, "source": code.source,
            "deps": deps(code.deps)});
        let (result, _) = self
            .call(Some(&request), limits, Determinism::Seeded(0))
            .await?;
        let json = result.map_err(CallError::Guest)?;
        serde_json::from_str(&json).map_err(|e| CallError::Host(format!("check report: {e}")))
    }

    /// Run `cases` against the skill with line coverage on, in one instance.
    pub async fn test(
        &self,
        code: SkillCode<'_>,
        cases: &[TestCase],
        limits: &ResourceLimits,
        determinism: Determinism,
    ) -> Result<TestReport, CallError> {
        let cases = serde_json::to_string(cases).map_err(|e| CallError::BadInput(e.to_string()))?;
        let request = json!({"op": "test", "name": code.name, "source": code.source,
            "entry": code.entry, "cases": cases, "deps": deps(code.deps)});
        let (result, _) = self.call(Some(&request), limits, determinism).await?;
        let json = result.map_err(CallError::Guest)?;
        serde_json::from_str(&json).map_err(|e| CallError::Host(format!("test report: {e}")))
    }
}

fn deps(deps: &[Dependency]) -> serde_json::Value {
    deps.iter()
        .map(|d| json!({"name": d.name, "source": d.source, "entry": d.entry}))
        .collect()
}
