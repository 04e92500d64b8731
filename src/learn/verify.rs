//! Verify a skill in the sandbox before it is stored as published: the
//! static check, its examples, line coverage, and the fuel one call costs.
//! The outcome is a list of problems (empty means it passed) and the KPIs
//! we measured on the way.
//!
//! Every verdict is made here, on the host, from the raw output of a call
//! made exactly as a tool call is made: a fresh instance per example, under
//! the caller's normal per-call limits (verification gets no extra fuel or
//! time). Nothing the guest says about itself is trusted: a skill can patch
//! whatever the harness uses later in the same instance, so a report from
//! inside could be forged. Coverage comes from a second, instrumented run
//! per example; it only feeds a KPI, never the verdict.

use crate::sandbox::{
    CallError, Coverage, Dependency, Determinism, Finding, ResourceLimits, Sandbox, SkillCode,
    TestCase,
};
use crate::skills::{InputValidator, Kpis, SkillManifest};
use crate::text::quote;

/// What verification found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    /// Static-analysis findings, all severities.
    pub findings: Vec<Finding>,
    /// One entry per example: `{"ok", "output"}` or `{"ok", "error"}`,
    /// as decided on the host.
    pub cases: Vec<serde_json::Value>,
    /// Measurements, for the store.
    pub kpis: Kpis,
    /// Why the skill cannot be published; empty when it can.
    pub problems: Vec<String>,
}

impl Verification {
    /// Whether the skill may be published.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verify `manifest` in `sandbox`, each call under `limits`, with `deps`
/// (the closure of its pinned prerequisites) importable. Its code is
/// compiled into `scope`'s part of the code cache (the tenant it is
/// verified for), so that tenant's first call finds it. CPU-bound between
/// awaits: servers should run it off their I/O threads.
pub async fn verify(
    sandbox: &Sandbox,
    scope: &str,
    manifest: &SkillManifest,
    deps: &[Dependency],
    limits: &ResourceLimits,
) -> Verification {
    let code = SkillCode {
        deps,
        name: &manifest.name,
        source: &manifest.source,
        entry: &manifest.entry,
        runtime: manifest.runtime,
    };
    let mut problems = Vec::new();
    let findings = match sandbox.check(code, limits).await {
        Ok(f) => f,
        Err(e) => {
            problems.push(format!("static check failed to run: {}", describe(&e)));
            Vec::new()
        }
    };
    for f in findings.iter().filter(|f| f.severity == "error") {
        problems.push(format!("line {}: {} {}", f.line, f.code, f.message));
    }
    let mut kpis = Kpis {
        findings_errors: count(&findings, "error"),
        findings_warnings: count(&findings, "warning"),
        documented: !manifest.description.trim().is_empty()
            && !findings.iter().any(|f| f.code == "D100"),
        tests_total: u32::try_from(manifest.examples.len()).unwrap_or(u32::MAX),
        deterministic: true,
        ..Kpis::default()
    };
    if !problems.is_empty() {
        return Verification {
            findings,
            cases: Vec::new(),
            kpis,
            problems,
        };
    }

    if let Ok(validator) = InputValidator::new(&manifest.input_schema) {
        for (i, ex) in manifest.examples.iter().enumerate() {
            if let Err(e) = validator.validate(&ex.input) {
                problems.push(format!(
                    "example {} does not fit the input schema: {e}",
                    i + 1
                ));
            }
        }
    }

    let mut cases = Vec::new();
    let mut fuel = Vec::new();
    let mut passed = 0u32;
    for (i, ex) in manifest.examples.iter().enumerate() {
        let outcome = sandbox
            .run_in(
                scope,
                code,
                &ex.input.to_string(),
                limits,
                Determinism::Seeded(0),
            )
            .await;
        match outcome {
            Ok(out) => {
                fuel.push(out.fuel_used);
                let got: serde_json::Value = serde_json::from_str(&out.json).unwrap_or_default();
                if crate::skills::same_value(&got, &ex.output) {
                    passed += 1;
                    cases.push(serde_json::json!({"ok": true, "output": got}));
                } else {
                    problems.push(format!(
                        "example {} failed: input {} expected {} but got {}",
                        i + 1,
                        quote(&ex.input),
                        quote(&ex.output),
                        quote(&got)
                    ));
                    cases.push(serde_json::json!({"ok": false, "output": got}));
                }
            }
            Err(e) => {
                problems.push(format!(
                    "example {} failed: input {} expected {} but got error {}",
                    i + 1,
                    quote(&ex.input),
                    quote(&ex.output),
                    describe(&e)
                ));
                cases.push(serde_json::json!({"ok": false, "error": e.to_json()}));
            }
        }
    }
    kpis.tests_passed = passed;
    kpis.params_described = params_described(&manifest.input_schema);
    // Determinism: the first example three times, with fresh entropy and
    // the real clock each time.
    if let Some(ex) = manifest.examples.first() {
        let mut seen = Vec::new();
        for _ in 0..3 {
            let out = sandbox
                .run_in(
                    scope,
                    code,
                    &ex.input.to_string(),
                    limits,
                    Determinism::Live,
                )
                .await
                .map(|o| o.json)
                .map_err(|e| e.kind());
            seen.push(out);
        }
        kpis.deterministic = seen.windows(2).all(|w| w[0] == w[1]);
    }
    if !fuel.is_empty() {
        kpis.fuel_per_call = fuel.iter().sum::<u64>() / fuel.len() as u64;
    }
    if let Some(c) = coverage(sandbox, code, manifest, limits).await {
        kpis.coverage_percent = c.percent;
    }
    Verification {
        findings,
        cases,
        kpis,
        problems,
    }
}

/// Line coverage of all examples together: one instrumented instance per
/// example (each under the normal limits), lines hit by any of them.
async fn coverage(
    sandbox: &Sandbox,
    code: SkillCode<'_>,
    manifest: &SkillManifest,
    limits: &ResourceLimits,
) -> Option<Coverage> {
    let mut merged: Option<Coverage> = None;
    for ex in &manifest.examples {
        let case = TestCase {
            input: ex.input.clone(),
            expected: None,
        };
        let Ok(report) = sandbox
            .test(code, &[case], limits, Determinism::Seeded(0))
            .await
        else {
            continue;
        };
        let c = report.coverage;
        merged = Some(match merged {
            None => c,
            Some(m) => {
                let missed: Vec<u32> = m
                    .missed
                    .into_iter()
                    .filter(|l| c.missed.contains(l))
                    .collect();
                let hit = m.executable.saturating_sub(missed.len() as u32);
                Coverage {
                    percent: percent(hit, m.executable),
                    executable: m.executable,
                    hit,
                    missed,
                }
            }
        });
    }
    merged
}

/// Share of the schema's properties that carry a description (1 when
/// there are none).
fn params_described(schema: &serde_json::Value) -> f64 {
    let Some(props) = schema.get("properties").and_then(|p| p.as_object()) else {
        return 1.0;
    };
    if props.is_empty() {
        return 1.0;
    }
    let described = props
        .values()
        .filter(|p| {
            p.get("description")
                .and_then(|d| d.as_str())
                .is_some_and(|d| !d.trim().is_empty())
        })
        .count();
    described as f64 / props.len() as f64
}

fn percent(hit: u32, total: u32) -> f64 {
    if total == 0 {
        100.0
    } else {
        (10_000.0 * f64::from(hit) / f64::from(total)).round() / 100.0
    }
}

fn count(findings: &[Finding], severity: &str) -> u32 {
    u32::try_from(findings.iter().filter(|f| f.severity == severity).count()).unwrap_or(u32::MAX)
}

fn describe(e: &CallError) -> String {
    format!("{} ({})", e, e.kind())
}
