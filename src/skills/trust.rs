//! Trust: what verification measured about a skill version ([`Kpis`]),
//! and the one weighted average that turns it into a score from 0 to 100.
//! What score publishes is policy, decided where skills are published
//! (`crate::app::PUBLISH_TRUST`).

use serde::{Deserialize, Serialize};

/// What verification measured about a skill version. Fields added after
/// the first release default when an older row lacks them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    /// Example cases that passed.
    pub tests_passed: u32,
    /// Example cases run.
    pub tests_total: u32,
    /// Line coverage of the examples, percent.
    pub coverage_percent: f64,
    /// Static-analysis findings of severity `error`.
    pub findings_errors: u32,
    /// Static-analysis findings of severity `warning`.
    pub findings_warnings: u32,
    /// Mean fuel per example call.
    pub fuel_per_call: u64,
    /// Whether the skill documents itself (a docstring and a description).
    pub documented: bool,
    /// Share of the input's parameters that have a description.
    #[serde(default)]
    pub params_described: f64,
    /// Whether three runs with fresh entropy and the real clock agreed.
    #[serde(default = "yes")]
    pub deterministic: bool,
    /// For generated skills: independent candidates that behave exactly as
    /// this one, 0 to 1 (see `learn::agree`). `None` when not generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<f64>,
}

fn yes() -> bool {
    true
}

/// The trust weights, in one place. They sum to 100.
pub const W_EXAMPLES: f64 = 20.0;
/// Independent agreement's weight (see [`Kpis::trust`]).
pub const W_AGREEMENT: f64 = 50.0;
const W_COVERAGE: f64 = 10.0;
const W_STATIC: f64 = 10.0;
const W_DETERMINISM: f64 = 4.0;
const W_DOCS: f64 = 3.0;
const W_FUEL: f64 = 3.0;

impl Kpis {
    /// Trust, 0 to 100: a weighted average of the evidence, documented here
    /// and nowhere else. Independent agreement of candidates (50) carries
    /// the most, because it is what predicts a correct generated skill
    /// (measured by `autolearn bench learn`: examples alone are a poor
    /// gate, every candidate is made to pass them); then examples passed
    /// (20), coverage (10), no static findings (10), determinism (4),
    /// documentation (3), fuel headroom (3). Agreement is the support of
    /// the other programs that pass the examples, counted against every
    /// attempt the model was asked for (`crate::learn::agree`), so most
    /// attempts must back the winner to reach the publish threshold
    /// (`crate::app::PUBLISH_TRUST`); a skill with no examples, or a lone
    /// candidate, cannot. Skills that were not generated have no agreement;
    /// their trust is the average of the rest.
    pub fn trust(&self, fuel_budget: u64) -> f64 {
        let examples = if self.tests_total == 0 {
            0.0
        } else {
            f64::from(self.tests_passed) / f64::from(self.tests_total)
        };
        let clean = if self.findings_errors > 0 {
            0.0
        } else {
            1.0 / (1.0 + f64::from(self.findings_warnings))
        };
        let docs =
            (f64::from(u8::from(self.documented)) + self.params_described.clamp(0.0, 1.0)) / 2.0;
        let fuel = if fuel_budget == 0 {
            0.0
        } else {
            1.0 - (self.fuel_per_call as f64 / fuel_budget as f64).clamp(0.0, 1.0)
        };
        let mut score = W_EXAMPLES * examples
            + W_COVERAGE * (self.coverage_percent / 100.0).clamp(0.0, 1.0)
            + W_STATIC * clean
            + W_DETERMINISM * f64::from(u8::from(self.deterministic))
            + W_DOCS * docs
            + W_FUEL * fuel;
        let mut total = 100.0;
        match self.agreement {
            Some(a) => score += W_AGREEMENT * a.clamp(0.0, 1.0),
            None => total -= W_AGREEMENT,
        }
        (1000.0 * score / total).round() / 10.0
    }
}
