//! A project's KPIs and trust, from its skills' measured KPIs. The only
//! place these functions are defined (docs/practice.md quotes them).
//!
//! Per published skill, each 0 to 100:
//! - code quality: 100 with no static finding, 0 with an error-level
//!   finding, `100 / (1 + warnings)` otherwise;
//! - test coverage: line coverage of its examples in the sandbox;
//! - performance: fuel per call on a log scale between a trivial call
//!   ([`FUEL_FLOOR`], 100) and the whole per-call budget (0);
//! - documentation: the mean of "has a docstring and a description" and
//!   the share of described parameters.
//!
//! The project's KPI is the mean over its published skills (0 when none).
//! The project's **trust** is the mean, over *all* its goals, of the trust
//! of the goal's published skill, a goal without one counting 0: a project
//! is only as trustworthy as the share of it that was built and verified.

use serde::Serialize;

use crate::skills::{DEFAULT_FUEL_BUDGET, Kpis, Skill};

/// The fuel of a trivial call (instantiation and a return): performance
/// 100 at or below it.
pub const FUEL_FLOOR: u64 = 1_000_000;

/// The four KPIs of the brief.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ProjectKpis {
    /// Static analysis.
    pub code_quality_score: f64,
    /// Line coverage.
    pub test_coverage: f64,
    /// Fuel per call.
    pub performance_score: f64,
    /// Docstrings, descriptions, described parameters.
    pub documentation_score: f64,
}

fn code_quality(k: &Kpis) -> f64 {
    if k.findings_errors > 0 {
        0.0
    } else {
        100.0 / (1.0 + f64::from(k.findings_warnings))
    }
}

/// Performance of one skill, 0 to 100.
pub fn performance(fuel_per_call: u64) -> f64 {
    let (lo, hi) = (
        (FUEL_FLOOR as f64).log10(),
        (DEFAULT_FUEL_BUDGET as f64).log10(),
    );
    let f = (fuel_per_call.max(1) as f64).log10();
    100.0 * ((hi - f) / (hi - lo)).clamp(0.0, 1.0)
}

fn documentation(k: &Kpis) -> f64 {
    100.0 * (f64::from(u8::from(k.documented)) + k.params_described.clamp(0.0, 1.0)) / 2.0
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = xs.fold((0.0, 0u32), |(s, n), x| (s + x, n + 1));
    if n == 0 { 0.0 } else { sum / f64::from(n) }
}

fn round1(x: f64) -> f64 {
    (10.0 * x).round() / 10.0
}

/// The project's KPIs from its published skills.
pub fn project_kpis(skills: &[&Skill]) -> ProjectKpis {
    let k = |f: fn(&Kpis) -> f64| round1(mean(skills.iter().map(|s| f(&s.kpis))));
    ProjectKpis {
        code_quality_score: k(code_quality),
        test_coverage: k(|k| k.coverage_percent.clamp(0.0, 100.0)),
        performance_score: k(|k| performance(k.fuel_per_call)),
        documentation_score: k(documentation),
    }
}

/// The project's trust: its skills' trust summed over `goals`, each goal
/// without a published skill counting 0.
pub fn project_trust(skills: &[&Skill], goals: usize) -> f64 {
    if goals == 0 {
        return 0.0;
    }
    // A fold from +0.0: `Sum` of no floats is -0.0, which JSON prints as `-0.0`.
    round1(skills.iter().map(|s| s.trust()).fold(0.0, |a, b| a + b) / goals as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn performance_runs_from_the_floor_to_the_budget_on_a_log_scale() {
        assert_eq!(performance(FUEL_FLOOR), 100.0);
        assert_eq!(performance(1), 100.0);
        assert_eq!(performance(DEFAULT_FUEL_BUDGET), 0.0);
        let mid = performance(10 * FUEL_FLOOR);
        assert!((69.0..71.0).contains(&mid), "{mid}");
    }

    #[test]
    fn a_project_without_skills_scores_zero() {
        assert_eq!(project_kpis(&[]), ProjectKpis::default());
        assert_eq!(project_trust(&[], 10), 0.0);
        assert!(project_trust(&[], 10).is_sign_positive(), "never -0.0");
    }
}
