//! Whether a generated skill is published, held for the person's answers,
//! or kept as a draft, and the reasons the person reads.
//!
//! Held: it would be published on its trust, but programs that pass the
//! person's examples return different values on some input, and the person
//! can still say which is right (a follow-up call of an MCP or REST
//! client). Choosing between the values by the evidence alone is a guess;
//! in the benchmark's records both wrong skills published had such a
//! dispute, and the majority of the programs was the wrong side in both.

use crate::learn::generate::Question;
use crate::skills::{Kpis, W_AGREEMENT, W_EXAMPLES};

use super::publish::PUBLISH_TRUST;

/// What becomes of a generated skill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Published: a tool now.
    Publish,
    /// A draft until the person answers its value questions.
    Hold {
        /// Open questions on which passing programs return different values.
        value_questions: usize,
    },
    /// A draft: its trust is too low, or its verification failed.
    Draft,
}

/// The decision for a skill whose verification `passed`, with `trust`,
/// and the questions still open about it; `answers_later`: the person can
/// answer them in a follow-up call.
pub fn decide(passed: bool, trust: f64, answers_later: bool, open: &[Question]) -> Decision {
    if !passed || trust < PUBLISH_TRUST {
        return Decision::Draft;
    }
    let value_questions = open.iter().filter(|q| q.disputes_value()).count();
    if answers_later && value_questions > 0 {
        Decision::Hold { value_questions }
    } else {
        Decision::Publish
    }
}

/// What the generation left that a reason can mention.
pub struct Findings<'a> {
    /// The KPIs the trust came from.
    pub kpis: &'a Kpis,
    /// The trust.
    pub trust: f64,
    /// Candidates that passed the examples but broke a promise.
    pub ruled_out: usize,
    /// Inputs the passing candidates disagree on.
    pub edge_cases: usize,
}

/// Why a skill that is not published was kept back, and what would help;
/// `problems` are its verification's. Empty for a published one.
pub fn reasons(decision: Decision, f: &Findings<'_>, problems: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    match decision {
        Decision::Publish => return problems.to_vec(),
        Decision::Hold { value_questions } => out.push(format!(
            "trust {:.1} reaches {PUBLISH_TRUST}, but programs that pass your examples return different values for {value_questions} of the questions: kept as a draft until you answer them, so that the evidence does not guess",
            f.trust
        )),
        Decision::Draft => {
            out.push(format!(
                "trust {:.1} is below {PUBLISH_TRUST}: kept as a draft",
                f.trust
            ));
        }
    }
    out.extend(problems.iter().cloned());
    if decision == Decision::Draft {
        out.extend(advice(f.kpis));
    }
    if f.ruled_out > 0 {
        out.push(format!(
            "{} more candidates passed your examples but broke what the request says of every result (such as its rounding), so they did not count",
            f.ruled_out
        ));
    }
    if f.edge_cases > 0 {
        out.push(format!(
            "candidates that pass your examples disagree on {} inputs (see edge_cases; questions has the ones worth settling first): add examples that settle them",
            f.edge_cases
        ));
    }
    out
}

/// What would raise a skill's trust, from its KPIs.
fn advice(k: &Kpis) -> Vec<String> {
    let mut out = Vec::new();
    if k.tests_total == 0 {
        out.push(format!(
            "no examples were given: add worked examples (they are the hard gate and weigh {W_EXAMPLES} of 100)"
        ));
    }
    match k.agreement {
        Some(a) if a < 0.67 => out.push(format!(
            "independent candidates agreed only {:.0}% (agreement weighs {W_AGREEMENT} of 100): the request may be ambiguous or hard for the model; state the expected behaviour on edge cases, add examples, or use a stronger model",
            100.0 * a
        )),
        _ => {}
    }
    if k.coverage_percent < 80.0 {
        out.push(format!(
            "the examples cover {:.0}% of the lines: add examples that reach the rest",
            k.coverage_percent
        ));
    }
    if k.findings_errors > 0 || k.findings_warnings > 0 {
        out.push("static findings lower the score".into());
    }
    if !k.deterministic {
        out.push("the result is not deterministic".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::learn::agree::{Choice, Outcome};

    fn question(outcomes: &[Outcome]) -> Question {
        Question {
            call: "f(x=0)".into(),
            input: json!({"x": 0}),
            choices: outcomes
                .iter()
                .map(|o| Choice {
                    outcome: o.clone(),
                    programs: 1,
                })
                .collect(),
        }
    }

    fn values() -> Question {
        question(&[Outcome::Value(json!(-100.0)), Outcome::Value(json!(null))])
    }

    fn validity() -> Question {
        question(&[Outcome::Value(json!(1)), Outcome::Error("invalid".into())])
    }

    fn confirmation() -> Question {
        question(&[Outcome::Value(json!(1))])
    }

    #[test]
    fn a_value_dispute_holds_a_trusted_skill_when_the_person_can_answer_later() {
        assert_eq!(
            decide(true, 87.0, true, &[validity(), values()]),
            Decision::Hold { value_questions: 1 }
        );
    }

    #[test]
    fn without_anyone_to_answer_later_the_trust_decides() {
        assert_eq!(decide(true, 87.0, false, &[values()]), Decision::Publish);
    }

    #[test]
    fn validity_disputes_and_confirmations_do_not_hold() {
        assert_eq!(
            decide(true, 87.0, true, &[validity(), confirmation()]),
            Decision::Publish
        );
    }

    #[test]
    fn low_trust_or_a_failed_verification_is_a_draft_whatever_the_questions() {
        assert_eq!(decide(true, 69.9, true, &[values()]), Decision::Draft);
        assert_eq!(decide(false, 95.0, true, &[]), Decision::Draft);
    }

    #[test]
    fn a_held_skill_says_why_and_how_many_questions_decide_it() {
        let kpis = Kpis::default();
        let f = Findings {
            kpis: &kpis,
            trust: 87.0,
            ruled_out: 0,
            edge_cases: 4,
        };
        let r = reasons(Decision::Hold { value_questions: 2 }, &f, &[]);
        assert!(
            r[0].contains("different values for 2 of the questions"),
            "{r:?}"
        );
        assert!(!r.iter().any(|x| x.contains("below")), "{r:?}");
        assert!(reasons(Decision::Publish, &f, &[]).is_empty());
    }
}
