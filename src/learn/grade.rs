//! Grading code against cases with known answers: the held-back tests of
//! the practice curricula and of `autolearn bench learn`, and the checks
//! of their reference solutions. One fresh sandbox instance per case.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sandbox::{CallError, Determinism, ResourceLimits, Sandbox, SkillCode};
use crate::skills::{Example, same_value};

/// How a piece of code did on some cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Score {
    /// Cases passed.
    pub passed: u32,
    /// Cases run.
    pub total: u32,
}

impl Score {
    /// Every case passed (and there was one).
    pub fn all(&self) -> bool {
        self.total > 0 && self.passed == self.total
    }
}

/// Whether `got` meets `want`: an equal value (as Python compares), or,
/// for `{"error": T}`, the exception `T`.
pub fn meets(got: &Result<Value, CallError>, want: &Value) -> bool {
    let raised = want
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("error"))
        .and_then(Value::as_str);
    match (got, raised) {
        (Err(CallError::Guest(fault)), Some(t)) => fault.error_type == t,
        (Ok(v), None) => same_value(v, want),
        _ => false,
    }
}

/// Run `code` on `cases` in the sandbox, one fresh instance per case,
/// under a normal call's limits.
pub async fn score(sandbox: &Sandbox, code: SkillCode<'_>, cases: &[Example]) -> Score {
    let limits = ResourceLimits::default();
    let mut passed = 0;
    for case in cases {
        let got = sandbox
            .run(
                code,
                &case.input.to_string(),
                &limits,
                Determinism::Seeded(0),
            )
            .await
            .map(|o| serde_json::from_str(&o.json).unwrap_or(Value::Null));
        if meets(&got, &case.output) {
            passed += 1;
        }
    }
    Score {
        passed,
        total: u32::try_from(cases.len()).unwrap_or(u32::MAX),
    }
}
