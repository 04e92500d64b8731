//! Behavioural agreement between candidates. Pure.
//!
//! Every candidate runs on every test input; what it did on each (a value,
//! or the kind of error) is its behaviour. Candidates that pass the user's
//! examples are grouped by identical behaviour, and the largest group wins
//! (CodeT's dual agreement, AlphaCode's clustering): independent samples
//! that agree on many inputs they were not shown are far more often right
//! than one that merely passes the examples. Inputs on which passing
//! candidates disagree are the discovered edge cases.

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

/// The chosen candidate and what the others said.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Index of the winning candidate (the first of its group).
    pub winner: usize,
    /// Candidates in the winning group.
    pub group: Vec<usize>,
    /// Candidates that passed every example.
    pub passing: Vec<usize>,
    /// Inputs (indices) on which passing candidates disagreed.
    pub disputed: Vec<usize>,
}

/// Pick the winner. `runs[c][i]` is candidate `c` on input `i`; the first
/// `examples` inputs are the user's examples, with `expected` outputs.
/// `None` when no candidate passes every example.
pub fn decide(runs: &[Vec<Outcome>], expected: &[Value]) -> Option<Verdict> {
    let passing: Vec<usize> = (0..runs.len())
        .filter(|&c| {
            expected
                .iter()
                .enumerate()
                .all(|(i, want)| runs[c].get(i) == Some(&Outcome::Value(want.clone())))
        })
        .collect();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for &c in &passing {
        match groups.iter_mut().find(|g| runs[g[0]] == runs[c]) {
            Some(g) => g.push(c),
            None => groups.push(vec![c]),
        }
    }
    // Largest group; ties go to the group with the fewest errors, then to
    // the earliest candidate (lower temperature).
    let errors = |c: usize| {
        runs[c]
            .iter()
            .filter(|o| matches!(o, Outcome::Error(_)))
            .count()
    };
    let group = groups.into_iter().max_by(|a, b| {
        a.len()
            .cmp(&b.len())
            .then(errors(b[0]).cmp(&errors(a[0])))
            .then(b[0].cmp(&a[0]))
    })?;
    let inputs = runs.first().map_or(0, Vec::len);
    let disputed = (0..inputs)
        .filter(|&i| passing.iter().any(|&c| runs[c][i] != runs[passing[0]][i]))
        .collect();
    Some(Verdict {
        winner: group[0],
        group,
        passing,
        disputed,
    })
}

/// The fewest programs agreement is measured against.
pub const MIN_PANEL: usize = 4;

/// Independent agreement, 0 to 1: how many of the other distinct programs
/// that pass the examples behave exactly as the winner, counted as if there
/// were at least [`MIN_PANEL`] of them, and halved when any of them
/// dissents.
///
/// - A program that fails the examples is broken, not a dissenting vote
///   (more samples must not lower the score of a clear winner).
/// - Two programs that agree are weak evidence when nobody else passed (a
///   shared misreading of the request), so they score 1/3, not 1. A lone
///   survivor scores 0.
/// - Dissent halves it. Measured on the practice set (`autolearn bench
///   learn`), the majority of a small model's programs often shares a
///   misreading: they drop a detail of the request (a rounding, what a
///   word is) that the dissenting program keeps. A majority against a
///   passing dissenter is not enough evidence to publish unless it is
///   overwhelming.
pub fn agreement(group: usize, passing: usize) -> f64 {
    let panel = passing.max(MIN_PANEL);
    let share = (group.saturating_sub(1)) as f64 / (panel - 1) as f64;
    if group < passing { share / 2.0 } else { share }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use serde_json::json;

    fn v(x: i64) -> Outcome {
        Outcome::Value(json!(x))
    }

    #[test]
    fn the_largest_agreeing_group_of_passing_candidates_wins() {
        // Input 0 is the example (expects 1); inputs 1 and 2 are edges.
        let runs = vec![
            vec![v(1), v(5), v(9)],                               // passes, group A
            vec![v(2), v(5), v(9)],                               // fails the example
            vec![v(1), v(6), Outcome::Error("exception".into())], // passes, alone
            vec![v(1), v(5), v(9)],                               // passes, group A
        ];
        let d = decide(&runs, &[json!(1)]).unwrap();
        assert_eq!(d.group, vec![0, 3]);
        assert_eq!(d.passing, vec![0, 2, 3]);
        assert_eq!(d.disputed, vec![1, 2]);
        // Group A against one passing dissenter: 1 of 3 others, halved.
        assert!((agreement(d.group.len(), d.passing.len()) - 1.0 / 6.0).abs() < 1e-9);
        // Unanimous passing programs: the share of the others that agree.
        assert!((agreement(4, 4) - 1.0).abs() < 1e-9);
        assert!((agreement(3, 3) - 2.0 / 3.0).abs() < 1e-9);
        assert!((agreement(5, 7) - 4.0 / 12.0).abs() < 1e-9);
    }

    #[test]
    fn agreeing_candidates_that_fail_an_example_are_rejected() {
        let runs = vec![vec![v(2), v(5)], vec![v(2), v(5)], vec![v(2), v(5)]];
        assert!(decide(&runs, &[json!(1)]).is_none());
    }

    #[test]
    fn without_examples_agreement_alone_decides() {
        let runs = vec![vec![v(1)], vec![v(2)], vec![v(2)]];
        let d = decide(&runs, &[]).unwrap();
        assert_eq!(d.group, vec![1, 2]);
        assert_eq!(agreement(1, 1), 0.0);
        assert!((agreement(2, 2) - 1.0 / 3.0).abs() < 1e-9);
    }
}
