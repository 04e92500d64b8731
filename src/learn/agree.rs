//! Behavioural agreement between candidates, weighed by its evidence. Pure.
//!
//! Every candidate runs on every test input; what it did on each (a value,
//! or the kind of error) is its behaviour. A candidate that fails the gate
//! (the user's examples, and answers the user gave since) is broken, not a
//! voter. Among the others:
//!
//! - **Selection** is by consensus, weighed by how much it rests on
//!   (CodeT's score, in the form of MBR-exec): a candidate scores one point
//!   for every other passing candidate and every input on which the two
//!   return the same value. A group of `g` identical programs that return
//!   values on `n` inputs scores about `(g - 1) * n`, and a single dissent
//!   on one input costs one point, not the decision.
//! - **Disagreements come in two kinds.** On a *value* dispute two programs
//!   both return, and return different things: one of them answers a user
//!   wrongly. On a *validity* dispute one returns and the other raises: they
//!   disagree about whether the input is in the function's domain, which
//!   for inputs made by mutating the examples is mostly a matter of taste.
//!   Inputs on which both raise are no evidence either way.
//! - **Agreement** (the trust KPI) is the mean support of the other passing
//!   programs for the winner, each support being the share of the evidence
//!   on which they agree, with validity disputes counting
//!   [`VALIDITY_WEIGHT`] of a value dispute and a prior of one dispute
//!   (an agreement on three inputs is weaker than one on thirty). The panel
//!   is counted as at least as many programs as the model was asked for,
//!   less the repeats of programs that pass (and never fewer than
//!   [`MIN_PANEL`]): an attempt that failed the examples backs nobody. When
//!   three of eight attempts pass and agree, the model mostly could not do
//!   the task, and their agreement is a shared guess more often than the
//!   answer (measured by `autolearn bench learn`: on the development half,
//!   every wrong skill that was published came from at most half of the
//!   attempts, the right one from seven of eight).
//!
//! Inputs on which passing candidates disagree are the discovered edge
//! cases, and the ones that split them most evenly are the questions worth
//! asking a person ([`questions`]).

use serde::Serialize;
use serde_json::Value;

use crate::skills::same_value;

/// What a candidate did on one input. Values compare as Python compares
/// them ([`same_value`]): `1` and `1.0` are the same behaviour.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It returned this value.
    Value(Value),
    /// It failed with this error kind.
    Error(String),
}

impl PartialEq for Outcome {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Value(a), Self::Value(b)) => same_value(a, b),
            (Self::Error(a), Self::Error(b)) => a == b,
            _ => false,
        }
    }
}

/// What the gate expects on one input: the user's example, or the user's
/// answer to a question.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// This value.
    Value(Value),
    /// An error of any kind: the input is invalid.
    Raises,
}

impl Expect {
    /// Whether `o` meets it.
    pub fn met_by(&self, o: &Outcome) -> bool {
        match (self, o) {
            (Self::Value(want), Outcome::Value(got)) => same_value(want, got),
            (Self::Raises, Outcome::Error(_)) => true,
            _ => false,
        }
    }
}

/// A validity dispute weighs this much of a value dispute.
pub const VALIDITY_WEIGHT: f64 = 0.25;

/// The fewest programs agreement is measured against.
pub const MIN_PANEL: usize = 4;

/// How two outcomes on one input bear on each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    /// Both returned the same value.
    Same,
    /// Both returned, different values.
    ValueDispute,
    /// One returned, one raised.
    ValidityDispute,
    /// Both raised: no evidence.
    Silent,
}

fn relate(a: &Outcome, b: &Outcome) -> Relation {
    match (a, b) {
        (Outcome::Value(x), Outcome::Value(y)) if same_value(x, y) => Relation::Same,
        (Outcome::Value(_), Outcome::Value(_)) => Relation::ValueDispute,
        (Outcome::Error(_), Outcome::Error(_)) => Relation::Silent,
        _ => Relation::ValidityDispute,
    }
}

/// What one other passing program says about the winner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Support {
    /// Inputs on which both returned the same value.
    pub same: usize,
    /// Inputs on which both returned, different values.
    pub value_disputes: usize,
    /// Inputs on which one returned and the other raised.
    pub validity_disputes: usize,
}

impl Support {
    /// The share of the evidence that agrees, 0 to 1, with a prior of one
    /// dispute.
    pub fn share(&self) -> f64 {
        let against =
            self.value_disputes as f64 + VALIDITY_WEIGHT * self.validity_disputes as f64 + 1.0;
        self.same as f64 / (self.same as f64 + against)
    }
}

/// The chosen candidate and what the others said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Index of the winning candidate.
    pub winner: usize,
    /// Candidates that behave exactly as the winner, the winner included.
    pub group: Vec<usize>,
    /// Candidates that pass the gate.
    pub passing: Vec<usize>,
    /// Candidates ruled out although they pass the gate: they break what
    /// the request promises of every result ([`super::promises`]).
    pub ruled_out: Vec<usize>,
    /// Inputs (indices) on which passing candidates disagreed in any way.
    pub disputed: Vec<usize>,
    /// Inputs on which passing candidates returned different values.
    pub value_disputed: Vec<usize>,
    /// What each other program of the panel (those that pass the user's
    /// examples) says of the winner, in order, without the winner.
    pub support: Vec<Support>,
    /// Programs that pass the user's examples (the person's answers aside).
    pub panel: usize,
    /// Programs the model was asked for: the panel is counted as at least
    /// this many.
    pub attempts: usize,
    /// Consensus score of each passing candidate, in `passing`'s order.
    pub scores: Vec<usize>,
}

impl Verdict {
    /// Independent agreement with the winner, 0 to 1 (see the module doc).
    pub fn agreement(&self) -> f64 {
        let panel = self.panel.max(self.attempts).max(MIN_PANEL) - 1;
        // Folded from +0.0: an empty `sum` of floats is -0.0, which reads
        // "-0%" in a report.
        self.support
            .iter()
            .map(Support::share)
            .fold(0.0, |a, s| a + s)
            / panel as f64
    }
}

/// Candidates that pass every expectation in `gate` (input index, what it
/// must do).
pub fn passing(runs: &[Vec<Outcome>], gate: &[(usize, Expect)]) -> Vec<usize> {
    (0..runs.len())
        .filter(|&c| {
            gate.iter()
                .all(|(i, want)| runs[c].get(*i).is_some_and(|o| want.met_by(o)))
        })
        .collect()
}

/// Pick the winner. `runs[c][i]` is candidate `c` on input `i`; `gate`
/// says what the candidates must do: its first `examples` entries are the
/// user's examples, the rest the person's answers to questions. Inputs in
/// the gate are no evidence of agreement (every candidate was made to pass
/// them). The panel that supports the winner is every candidate that
/// passes the examples: a program the person's answer ruled out still
/// read the request as the winner did everywhere else, and where it did
/// not, the person settled it; it is counted as at least `attempts`
/// programs (those the model was asked for). Candidates in `ruled_out`
/// neither pass nor sit on the panel, whatever the gate says. `None` when
/// no candidate passes.
pub fn decide(
    runs: &[Vec<Outcome>],
    gate: &[(usize, Expect)],
    examples: usize,
    attempts: usize,
    ruled_out: &[usize],
) -> Option<Verdict> {
    let allowed = |c: &usize| !ruled_out.contains(c);
    let (passing, ruled_out): (Vec<usize>, Vec<usize>) =
        passing(runs, gate).into_iter().partition(allowed);
    let panel: Vec<usize> = self::passing(runs, &gate[..examples.min(gate.len())])
        .into_iter()
        .filter(allowed)
        .collect();
    let inputs = runs.first().map_or(0, Vec::len);
    let evidence: Vec<usize> = (0..inputs)
        .filter(|i| !gate.iter().any(|(g, _)| g == i))
        .collect();
    let same = |a: usize, b: usize| {
        evidence
            .iter()
            .filter(|&&i| relate(&runs[a][i], &runs[b][i]) == Relation::Same)
            .count()
    };
    let scores: Vec<usize> = passing
        .iter()
        .map(|&a| {
            passing
                .iter()
                .filter(|&&b| b != a)
                .map(|&b| same(a, b))
                .sum()
        })
        .collect();
    let errors = |c: usize| {
        runs[c]
            .iter()
            .filter(|o| matches!(o, Outcome::Error(_)))
            .count()
    };
    // Highest score; ties go to the candidate with the fewest errors, then
    // to the earliest (lower temperature).
    let (_, &winner) = scores.iter().zip(&passing).max_by(|(sa, a), (sb, b)| {
        sa.cmp(sb)
            .then(errors(**b).cmp(&errors(**a)))
            .then(b.cmp(a))
    })?;
    let group = passing
        .iter()
        .copied()
        .filter(|&c| runs[c] == runs[winner])
        .collect();
    let support = panel
        .iter()
        .filter(|&&b| b != winner)
        .map(|&b| {
            let mut s = Support::default();
            for &i in &evidence {
                match relate(&runs[winner][i], &runs[b][i]) {
                    Relation::Same => s.same += 1,
                    Relation::ValueDispute => s.value_disputes += 1,
                    Relation::ValidityDispute => s.validity_disputes += 1,
                    Relation::Silent => {}
                }
            }
            s
        })
        .collect();
    let disputed = evidence
        .iter()
        .copied()
        .filter(|&i| passing.iter().any(|&c| runs[c][i] != runs[passing[0]][i]))
        .collect();
    let value_disputed = evidence
        .iter()
        .copied()
        .filter(|&i| {
            passing.iter().any(|&a| {
                passing
                    .iter()
                    .any(|&b| relate(&runs[a][i], &runs[b][i]) == Relation::ValueDispute)
            })
        })
        .collect();
    Some(Verdict {
        winner,
        group,
        passing,
        ruled_out,
        disputed,
        value_disputed,
        support,
        panel: panel.len(),
        attempts,
        scores,
    })
}

/// One answer the passing candidates give to a disputed input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    /// What they did: a value, or an error (the input is invalid).
    pub outcome: Outcome,
    /// How many passing programs did it.
    pub programs: usize,
}

/// A disputed input worth asking a person about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    /// The input's index among the test inputs.
    pub input: usize,
    /// What the passing candidates answered, most programs first. Errors
    /// of any kind are one choice: "this input is invalid".
    pub choices: Vec<Choice>,
}

/// The disputed inputs of `verdict`, the most informative first: the one
/// whose answers split the passing candidates most evenly (highest
/// entropy), then value disputes before validity ones, then the earlier.
pub fn questions(runs: &[Vec<Outcome>], verdict: &Verdict) -> Vec<Question> {
    let mut qs: Vec<(f64, bool, Question)> = verdict
        .disputed
        .iter()
        .map(|&i| {
            let mut choices: Vec<Choice> = Vec::new();
            for &c in &verdict.passing {
                let outcome = match &runs[c][i] {
                    Outcome::Error(_) => Outcome::Error("invalid".into()),
                    v => v.clone(),
                };
                match choices.iter_mut().find(|ch| ch.outcome == outcome) {
                    Some(ch) => ch.programs += 1,
                    None => choices.push(Choice {
                        outcome,
                        programs: 1,
                    }),
                }
            }
            choices.sort_by_key(|c| std::cmp::Reverse(c.programs));
            let n = verdict.passing.len() as f64;
            let entropy: f64 = choices
                .iter()
                .map(|ch| {
                    let p = ch.programs as f64 / n;
                    -p * p.ln()
                })
                .sum();
            let value = verdict.value_disputed.contains(&i);
            (entropy, value, Question { input: i, choices })
        })
        // Errors of different kinds are one answer: no question.
        .filter(|(_, _, q)| q.choices.len() > 1)
        .collect();
    qs.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then(a.2.input.cmp(&b.2.input))
    });
    qs.into_iter().map(|(_, _, q)| q).collect()
}

/// The gate of the user's examples: input `i` expects `expected[i]`.
pub fn examples_gate(expected: &[Value]) -> Vec<(usize, Expect)> {
    expected
        .iter()
        .enumerate()
        .map(|(i, v)| (i, Expect::Value(v.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use serde_json::json;

    fn v(x: i64) -> Outcome {
        Outcome::Value(json!(x))
    }
    fn err(t: &str) -> Outcome {
        Outcome::Error(t.into())
    }
    fn gate(xs: &[i64]) -> Vec<(usize, Expect)> {
        examples_gate(&xs.iter().map(|x| json!(x)).collect::<Vec<_>>())
    }

    #[test]
    fn the_candidate_most_others_agree_with_wins() {
        // Input 0 is the example (expects 1); inputs 1 and 2 are evidence.
        let runs = vec![
            vec![v(1), v(5), v(9)],        // passes, group A
            vec![v(2), v(5), v(9)],        // fails the example: no voter
            vec![v(1), v(6), err("boom")], // passes, alone
            vec![v(1), v(5), v(9)],        // passes, group A
        ];
        let d = decide(&runs, &gate(&[1]), 1, 0, &[]).unwrap();
        assert_eq!(d.winner, 0);
        assert_eq!(d.group, vec![0, 3]);
        assert_eq!(d.passing, vec![0, 2, 3]);
        assert_eq!(d.disputed, vec![1, 2]);
        assert_eq!(d.value_disputed, vec![1]);
        assert_eq!(d.scores, vec![2, 0, 2]);
        // Candidate 2 disputes a value and the validity of input 2;
        // candidate 3 agrees on both. Panel of at least 3 others.
        let s2 = 0.0;
        let s3 = 2.0 / 3.0;
        assert!((d.agreement() - (s2 + s3) / 3.0).abs() < 1e-9);
    }

    #[test]
    fn a_lone_program_has_no_agreement_not_a_negative_one() {
        let d = decide(&[vec![v(1), v(5)]], &gate(&[1]), 1, 8, &[]).unwrap();
        assert!(d.support.is_empty());
        assert!(d.agreement().is_sign_positive(), "{}", d.agreement());
        assert_eq!(format!("{:.0}%", 100.0 * d.agreement()), "0%");
    }

    #[test]
    fn one_dissent_on_one_input_of_many_costs_little() {
        // rolling_max in the issue: four programs agree on 30 inputs; one
        // of them raises on an input none of the others rejects.
        let base: Vec<Outcome> = (0..31).map(v).collect();
        let mut dissent = base.clone();
        dissent[30] = err("TypeError: x");
        let runs = vec![base.clone(), base.clone(), base.clone(), dissent];
        let d = decide(&runs, &gate(&[0]), 1, 0, &[]).unwrap();
        assert_eq!(d.group, vec![0, 1, 2]);
        assert!(d.value_disputed.is_empty());
        let a = d.agreement();
        // Two full supporters (30/31) and one with a validity dispute.
        let full = 30.0 / 31.0;
        let partial = 29.0 / (29.0 + 1.0 + VALIDITY_WEIGHT);
        assert!((a - (2.0 * full + partial) / 3.0).abs() < 1e-9, "{a}");
        assert!(a > 0.9);
    }

    #[test]
    fn few_programs_or_little_evidence_stay_weak() {
        let runs = vec![vec![v(1), v(2)], vec![v(1), v(2)]];
        let d = decide(&runs, &gate(&[1]), 1, 0, &[]).unwrap();
        // One other program, on one input, counted against three.
        assert!((d.agreement() - (1.0 / 2.0) / 3.0).abs() < 1e-9);
        let lone = decide(&runs[..1], &gate(&[1]), 1, 0, &[]).unwrap();
        assert_eq!(lone.agreement(), 0.0);
    }

    #[test]
    fn attempts_that_failed_the_examples_back_nobody() {
        // Four programs that pass and agree on 30 inputs: strong when they
        // were four attempts of four, weak when four of eight.
        let same: Vec<Outcome> = (0..31).map(v).collect();
        let mut runs = vec![same.clone(); 4];
        runs.extend(vec![vec![v(99); 31]; 4]);
        let of_four = decide(&runs[..4], &gate(&[0]), 1, 4, &[]).unwrap();
        let of_eight = decide(&runs, &gate(&[0]), 1, 8, &[]).unwrap();
        assert_eq!(of_eight.winner, of_four.winner);
        let full = 30.0 / 31.0;
        assert!((of_four.agreement() - full).abs() < 1e-9);
        assert!((of_eight.agreement() - 3.0 * full / 7.0).abs() < 1e-9);
        // Asked for fewer than MIN_PANEL, the floor still holds.
        let two = decide(&runs[..2], &gate(&[0]), 1, 2, &[]).unwrap();
        assert!((two.agreement() - full / 3.0).abs() < 1e-9);
    }

    #[test]
    fn inputs_on_which_all_raise_are_no_evidence() {
        let runs = vec![
            vec![v(1), err("ValueError: a"), v(3)],
            vec![v(1), err("TypeError: b"), v(3)],
        ];
        let d = decide(&runs, &gate(&[1]), 1, 0, &[]).unwrap();
        assert_eq!(
            d.support,
            vec![Support {
                same: 1,
                ..Support::default()
            }]
        );
        // Different errors are different behaviour, but no question: both
        // say the input is invalid.
        assert_eq!(d.disputed, vec![1]);
        assert!(questions(&runs, &d).is_empty());
    }

    #[test]
    fn agreeing_candidates_that_fail_an_example_are_rejected() {
        let runs = vec![vec![v(2), v(5)], vec![v(2), v(5)], vec![v(2), v(5)]];
        assert!(decide(&runs, &gate(&[1]), 1, 0, &[]).is_none());
    }

    #[test]
    fn ruled_out_candidates_neither_win_nor_back_the_winner() {
        // fin_compound_interest: three programs that forgot to round agree;
        // the one that rounds is alone, and the agreement of the three is
        // no support for it.
        let runs = vec![
            vec![v(1), v(7), v(8)],
            vec![v(1), v(7), v(8)],
            vec![v(1), v(6), v(8)],
            vec![v(1), v(7), v(8)],
        ];
        let d = decide(&runs, &gate(&[1]), 1, 4, &[0, 1, 3]).unwrap();
        assert_eq!(d.winner, 2);
        assert_eq!(d.passing, vec![2]);
        assert_eq!(d.ruled_out, vec![0, 1, 3]);
        assert!(d.support.is_empty());
        assert!(d.agreement().abs() < 1e-9);
        assert!(decide(&runs, &gate(&[1]), 1, 4, &[0, 1, 2, 3]).is_none());
    }

    #[test]
    fn without_examples_consensus_alone_decides() {
        let runs = vec![vec![v(1)], vec![v(2)], vec![v(2)]];
        let d = decide(&runs, &[], 0, 0, &[]).unwrap();
        assert_eq!(d.winner, 1);
        assert_eq!(d.group, vec![1, 2]);
    }

    #[test]
    fn an_answer_that_the_input_is_invalid_gates_like_an_example() {
        let runs = vec![
            vec![v(1), v(0)],
            vec![v(1), err("ValueError: empty")],
            vec![v(1), v(0)],
        ];
        let mut g = gate(&[1]);
        g.push((1, Expect::Raises));
        assert_eq!(passing(&runs, &g), vec![1]);
        // The answer settled the one dispute: the programs it ruled out
        // still back the winner where they agree, so the person's answer
        // raises agreement rather than leaving a lone survivor.
        let runs = vec![
            vec![v(1), v(0), v(5), v(6)],
            vec![v(1), err("ValueError: empty"), v(5), v(6)],
            vec![v(1), v(0), v(5), v(6)],
        ];
        let d = decide(&runs, &g, 1, 0, &[]).unwrap();
        assert_eq!((d.winner, d.passing.clone(), d.panel), (1, vec![1], 3));
        assert_eq!(d.support.len(), 2);
        assert!((d.agreement() - 2.0 * (2.0 / 3.0) / 3.0).abs() < 1e-9);
    }

    #[test]
    fn the_most_even_split_is_asked_first() {
        // Input 1 splits 2:2, input 2 splits 3:1, input 3 is a 3:1
        // validity dispute.
        let runs = vec![
            vec![v(0), v(1), v(5), v(7)],
            vec![v(0), v(1), v(5), v(7)],
            vec![v(0), v(2), v(5), v(7)],
            vec![v(0), v(2), v(6), err("ValueError: no")],
        ];
        let d = decide(&runs, &gate(&[0]), 1, 0, &[]).unwrap();
        let qs = questions(&runs, &d);
        assert_eq!(
            qs.iter().map(|q| q.input).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(
            qs[2].choices,
            vec![
                Choice {
                    outcome: v(7),
                    programs: 3
                },
                Choice {
                    outcome: err("invalid"),
                    programs: 1
                }
            ]
        );
    }
}
