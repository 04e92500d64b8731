//! Questions for a person when the candidates do not disagree but are too
//! few to trust. Pure.
//!
//! Disputed inputs are the questions worth asking first
//! ([`super::agree::questions`]). When there are none, a draft can still be
//! wrong the same way in every program that passes the examples (a clause
//! the examples never exercise, read the same wrong way), and agreement
//! that low cannot publish. Then the person is shown what the winner
//! returns on inputs beyond their examples and asked to confirm it: "every
//! candidate returns A for `f(x=...)`: is that right?". A different answer
//! joins the examples, the programs that contradict it drop out, and the
//! repair prompt shows it; a confirmed one joins them too.

use serde_json::Value;

use super::agree::{Choice, Expect, Outcome, Question, Verdict};

/// Below this agreement no generated skill reaches the publish threshold
/// (trust 70) whatever its other KPIs, which weigh 50 of 100
/// (`crate::skills::Kpis::trust`): only then are agreeing candidates
/// questioned. Above it, the evidence may publish without a person.
pub const UNPUBLISHABLE_BELOW: f64 = 0.4;

/// Inputs on which to ask a person to confirm the winner's answer, when
/// nothing is disputed and agreement is below [`UNPUBLISHABLE_BELOW`]; else
/// none. Each is an input outside `gate` on which the winner returns a
/// value that no example and no earlier question shows (a second input
/// with an answer already seen says little), in the order of the inputs:
/// the model's own come before mutations and edges. Each question has one
/// choice, the winner's answer, with the passing programs that give it.
pub fn confirmations(
    runs: &[Vec<Outcome>],
    verdict: &Verdict,
    gate: &[(usize, Expect)],
) -> Vec<Question> {
    if !verdict.disputed.is_empty() || verdict.agreement() >= UNPUBLISHABLE_BELOW {
        return Vec::new();
    }
    let winner = &runs[verdict.winner];
    let mut seen: Vec<&Value> = gate
        .iter()
        .filter_map(|(_, e)| match e {
            Expect::Value(v) => Some(v),
            Expect::Raises => None,
        })
        .collect();
    let mut out = Vec::new();
    for (i, outcome) in winner.iter().enumerate() {
        let Outcome::Value(v) = outcome else { continue };
        if gate.iter().any(|(g, _)| *g == i) || seen.contains(&v) {
            continue;
        }
        seen.push(v);
        let programs = verdict
            .passing
            .iter()
            .filter(|&&c| runs[c][i] == *outcome)
            .count();
        out.push(Question {
            input: i,
            choices: vec![Choice {
                outcome: outcome.clone(),
                programs,
            }],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use serde_json::json;

    use super::*;
    use crate::learn::agree::{decide, examples_gate};

    fn v(x: i64) -> Outcome {
        Outcome::Value(json!(x))
    }

    #[test]
    fn agreeing_programs_too_few_to_publish_are_questioned_on_new_answers() {
        // Two of eight attempts pass the example (input 0 expects 1) and
        // agree everywhere; input 2 repeats input 1's answer, input 3 the
        // example's, input 4 raises.
        let same = vec![
            v(1),
            v(7),
            v(7),
            v(1),
            Outcome::Error("ValueError".into()),
            v(9),
        ];
        let runs = vec![same.clone(), same];
        let gate = examples_gate(&[json!(1)]);
        let verdict = decide(&runs, &gate, 1, 8, &[]).unwrap();
        assert!(verdict.agreement() < UNPUBLISHABLE_BELOW);
        let qs = confirmations(&runs, &verdict, &gate);
        assert_eq!(qs.iter().map(|q| q.input).collect::<Vec<_>>(), vec![1, 5]);
        assert_eq!(
            qs[0].choices,
            vec![Choice {
                outcome: v(7),
                programs: 2
            }]
        );
        // An answer already given is no new question.
        let mut answered = gate.clone();
        answered.push((1, Expect::Value(json!(7))));
        let qs = confirmations(&runs, &verdict, &answered);
        assert_eq!(qs.iter().map(|q| q.input).collect::<Vec<_>>(), vec![5]);
    }

    #[test]
    fn strong_agreement_or_a_dispute_asks_no_confirmation() {
        let same = vec![v(1), v(7), v(9)];
        let gate = examples_gate(&[json!(1)]);
        // Eight agreeing programs of eight attempts: the evidence decides.
        let runs = vec![same.clone(); 8];
        let strong = decide(&runs, &gate, 1, 8, &[]).unwrap();
        assert!(strong.agreement() >= UNPUBLISHABLE_BELOW);
        assert!(confirmations(&runs, &strong, &gate).is_empty());
        // A dispute is asked about instead (agree::questions).
        let runs = vec![same, vec![v(1), v(8), v(9)]];
        let disputed = decide(&runs, &gate, 1, 8, &[]).unwrap();
        assert!(confirmations(&runs, &disputed, &gate).is_empty());
    }
}
