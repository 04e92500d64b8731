//! Code that is not a stored skill, run through the app: a practice
//! goal's edge probes and held-back tests. It runs in the tenant's part of
//! the compiled-code cache, under the limits it is given; nothing is
//! stored and no trace is kept.

use serde_json::Value;

use crate::learn::grade::{Score, score};
use crate::sandbox::{CallError, Determinism, ResourceLimits, RunOutput, SkillCode};
use crate::skills::Example;

impl super::Calls<'_> {
    /// Run `code` on `input` for `tenant`.
    pub async fn try_code(
        &self,
        tenant: &str,
        code: SkillCode<'_>,
        input: &Value,
        limits: &ResourceLimits,
        determinism: Determinism,
    ) -> Result<RunOutput, CallError> {
        self.app
            .sandbox
            .run_in(tenant, code, &input.to_string(), limits, determinism)
            .await
    }

    /// How many of `cases` `code` passes, under a normal call's limits.
    pub async fn grade(&self, code: SkillCode<'_>, cases: &[Example]) -> Score {
        score(&self.app.sandbox, code, cases).await
    }
}
