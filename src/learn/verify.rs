//! Verify a skill in the sandbox before it is stored as published: the
//! static check, its examples run as tests with line coverage, and the fuel
//! one call costs. The outcome is a list of problems (empty means it passed)
//! and the KPIs we measured on the way.

use crate::sandbox::{
    CallError, Determinism, Finding, ResourceLimits, Sandbox, SkillCode, TestCase, TestReport,
};
use crate::skills::{InputValidator, Kpis, SkillManifest};

/// What verification found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    /// Static-analysis findings, all severities.
    pub findings: Vec<Finding>,
    /// The examples' test run, if it got that far.
    pub report: Option<TestReport>,
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

/// Verify `manifest` in `sandbox`. CPU-bound between awaits: servers should
/// run it off their I/O threads.
pub async fn verify(sandbox: &Sandbox, manifest: &SkillManifest) -> Verification {
    let mut problems = Vec::new();
    let findings = match sandbox.check(&manifest.name, &manifest.source).await {
        Ok(f) => f,
        Err(e) => {
            problems.push(format!("static check failed to run: {e}"));
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
        ..Kpis::default()
    };
    if !problems.is_empty() {
        return Verification {
            findings,
            report: None,
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

    let code = SkillCode {
        name: &manifest.name,
        source: &manifest.source,
        entry: &manifest.entry,
    };
    let cases: Vec<TestCase> = manifest
        .examples
        .iter()
        .map(|e| TestCase {
            input: e.input.clone(),
            expected: Some(e.output.clone()),
        })
        .collect();
    let report = match sandbox
        .test(
            code,
            &cases,
            &ResourceLimits::generous(),
            Determinism::Seeded(0),
        )
        .await
    {
        Ok(r) => r,
        Err(e) => {
            problems.push(format!("running the examples failed: {}", describe(&e)));
            return Verification {
                findings,
                report: None,
                kpis,
                problems,
            };
        }
    };
    if let Some(err) = &report.load_error {
        problems.push(format!(
            "the skill does not load: {}",
            err["message"].as_str().unwrap_or("?")
        ));
    }
    for (i, (case, result)) in manifest.examples.iter().zip(&report.cases).enumerate() {
        if result["ok"] != true {
            let got = match result.get("error") {
                Some(err) => format!("error {}: {}", err["kind"], err["message"]),
                None => format!("{}", result["output"]),
            };
            problems.push(format!(
                "example {} failed: input {} expected {} but got {got}",
                i + 1,
                case.input,
                case.output
            ));
        }
    }
    kpis.tests_passed = report.passed;
    kpis.coverage_percent = report.coverage.percent;

    // Fuel per call, measured the way a tool call runs: a fresh instance.
    let mut fuel = Vec::new();
    for ex in manifest.examples.iter().take(3) {
        if let Ok(out) = sandbox
            .run(
                code,
                &ex.input.to_string(),
                &ResourceLimits::default(),
                Determinism::Seeded(0),
            )
            .await
        {
            fuel.push(out.fuel_used);
        }
    }
    if !fuel.is_empty() {
        kpis.fuel_per_call = fuel.iter().sum::<u64>() / fuel.len() as u64;
    }
    Verification {
        findings,
        report: Some(report),
        kpis,
        problems,
    }
}

fn count(findings: &[Finding], severity: &str) -> u32 {
    u32::try_from(findings.iter().filter(|f| f.severity == severity).count()).unwrap_or(u32::MAX)
}

fn describe(e: &CallError) -> String {
    format!("{} ({})", e, e.kind())
}
