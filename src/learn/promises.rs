//! What a request promises of every result, read from its words, and the
//! programs that break it. Pure.
//!
//! Candidates that pass the user's examples can still all ignore a clause
//! the examples do not exercise, and then they agree with each other and
//! look trustworthy. Some clauses can be checked on any result without
//! knowing the right answer. The one read today is precision: "rounded to
//! 2 decimals" promises that every number the function computes is
//! already rounded to two decimals. `autolearn bench learn` found it broken by every
//! wrong skill it published on the development half that had such a
//! clause, and kept by the right ones.
//!
//! A program that breaks a promise on any input has not done what the
//! request asks: it is no voter (as a program that fails an example), and
//! the repair prompt says where it broke it.
//!
//! Reading is conservative. A promise the user's own examples break is
//! dropped (the words were misread), numbers the result repeats from the
//! input are not checked (an echoed field is not computed), and a clause
//! with "not" or "without" before the rounding is no promise.

use std::collections::HashSet;

use serde_json::Value;

use super::agree::Outcome;
use crate::skills::Example;

/// Numbers a result may hold before the rest go unchecked: a bound on the
/// host's work per result.
const MAX_NUMBERS: usize = 10_000;

/// The promises of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Promises {
    /// Every number the function computes has at most this many decimals.
    decimals: Option<u32>,
}

/// Where and how a program broke a promise.
#[derive(Debug, Clone, PartialEq)]
pub struct Broken {
    /// The input's index.
    pub input: usize,
    /// The number that breaks it.
    pub number: f64,
    /// What the request promised, as the repair prompt says it.
    pub promise: String,
}

impl Promises {
    /// Read the promises in `request`.
    pub fn read(request: &str) -> Self {
        Self {
            decimals: decimals_promised(request),
        }
    }

    /// Whether anything is promised.
    pub fn any(&self) -> bool {
        self.decimals.is_some()
    }

    /// These promises without any the user's own examples break.
    #[must_use]
    pub fn kept_by_examples(self, examples: &[Example]) -> Self {
        let broken = examples
            .iter()
            .any(|e| self.first_break(&e.output, &e.input).is_some());
        if broken { Self::default() } else { self }
    }

    /// The first input on which `run` returns a value that breaks a
    /// promise. `inputs[i]` is input `i`; errors break nothing.
    pub fn broken_by(&self, run: &[Outcome], inputs: &[Value]) -> Option<Broken> {
        if !self.any() {
            return None;
        }
        run.iter()
            .zip(inputs)
            .enumerate()
            .find_map(|(i, (o, input))| {
                let Outcome::Value(v) = o else { return None };
                self.first_break(v, input).map(|number| Broken {
                    input: i,
                    number,
                    promise: self.describe(),
                })
            })
    }

    /// The first number in `result` that is not in `input` and breaks a
    /// promise.
    fn first_break(&self, result: &Value, input: &Value) -> Option<f64> {
        let places = self.decimals?;
        // A set: a result and an input of many numbers each stay linear.
        let echoed: HashSet<u64> = numbers(input).into_iter().map(key).collect();
        numbers(result)
            .into_iter()
            .find(|x| !echoed.contains(&key(*x)) && !has_decimals_at_most(*x, places))
    }

    fn describe(&self) -> String {
        match self.decimals {
            Some(1) => "the request says to round to 1 decimal".into(),
            Some(n) => format!("the request says to round to {n} decimals"),
            None => String::new(),
        }
    }
}

impl Broken {
    /// For the repair prompt: `call` is the call that broke it.
    pub fn explain(&self, call: &str) -> String {
        format!(
            "{call} returned a result holding {}, but {}",
            self.number, self.promise
        )
    }
}

/// `x` as a set key: equal floats, equal keys (`-0.0` is `0.0`).
fn key(x: f64) -> u64 {
    if x == 0.0 { 0 } else { x.to_bits() }
}

/// The floats in `v`, at most [`MAX_NUMBERS`] of them. Integers have no
/// decimals, so they are left out.
fn numbers(v: &Value) -> Vec<f64> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        if out.len() >= MAX_NUMBERS {
            break;
        }
        match v {
            Value::Number(n) if n.is_f64() => out.extend(n.as_f64()),
            Value::Array(xs) => stack.extend(xs.iter().rev()),
            Value::Object(m) => stack.extend(m.values().rev()),
            _ => {}
        }
    }
    out
}

/// Whether `x` is already rounded to `places` decimals, as Python's
/// `round(x, places) == x` says: the held-back tests compare results as
/// Python does, so an unrounded sum (`0.1 + 0.2`, 0.30000000000000004) is
/// not the 0.3 a rounding program returns. Formatting with a precision
/// rounds the exact binary value correctly, as `round` does; ties cannot
/// matter here (a tie has one decimal more, so is never rounded).
fn has_decimals_at_most(x: f64, places: u32) -> bool {
    if !x.is_finite() {
        return true;
    }
    let digits = usize::try_from(places).unwrap_or(usize::MAX);
    format!("{x:.digits$}").parse::<f64>() == Ok(x)
}

/// The decimals a request rounds its results to: in a sentence with a
/// word starting with "round", "to N decimal(s)" or "to N decimal places"
/// after it, N a digit or a small number word. The loosest wins when there
/// are several (every number must meet it).
fn decimals_promised(request: &str) -> Option<u32> {
    let text = request.to_lowercase();
    text.split(['.', ';', '\n'])
        .filter_map(|sentence| {
            let words: Vec<&str> = sentence
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            let round = words.iter().position(|w| w.starts_with("round"))?;
            if words[..round]
                .iter()
                .any(|w| matches!(*w, "not" | "without" | "never" | "don" | "no"))
            {
                return None;
            }
            words[round..].windows(3).find_map(|w| {
                (w[0] == "to" && w[2].starts_with("decimal"))
                    .then(|| number_word(w[1]))
                    .flatten()
            })
        })
        .max()
}

fn number_word(w: &str) -> Option<u32> {
    match w {
        "zero" => Some(0),
        "one" => Some(1),
        "two" => Some(2),
        "three" => Some(3),
        "four" => Some(4),
        _ => w.parse().ok().filter(|n| *n <= 12),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use serde_json::json;

    fn example(input: Value, output: Value) -> Example {
        Example { input, output }
    }

    #[test]
    fn rounding_clauses_are_read_in_their_usual_forms() {
        let d = |s: &str| Promises::read(s).decimals;
        assert_eq!(d("Return the total, rounded to 2 decimals."), Some(2));
        assert_eq!(d("Round the total to 2 decimals."), Some(2));
        assert_eq!(
            d("the percentage, rounded to 1 decimal. Ignore the rest"),
            Some(1)
        );
        assert_eq!(d("Rounding to two decimal places"), Some(2));
        assert_eq!(
            d("amounts rounded to 2 decimals; rates rounded to 4 decimals"),
            Some(4)
        );
        assert_eq!(d("Do not round to 2 decimals."), None);
        assert_eq!(d("Sum the values. Use 2 decimals of context"), None);
        assert_eq!(d("Round up the number of pages."), None);
        assert_eq!(d("Round to 99 decimals."), None);
        assert_eq!(d(""), None);
    }

    #[test]
    fn a_computed_number_with_too_many_decimals_breaks_the_promise() {
        // fin_compound_interest in the development half: the programs that
        // forgot to round agreed with each other and were published.
        let p = Promises::read("Future value of principal ... Round to 2 decimals.");
        let inputs = [json!({"p": 1000}), json!({"p": 1000, "r": 1.5})];
        let run = [
            Outcome::Value(json!(1102.5)),
            Outcome::Value(json!(1_103.812_890_624_999_7)),
        ];
        let b = p.broken_by(&run, &inputs).unwrap();
        assert_eq!(b.input, 1);
        assert_eq!(
            b.explain("f(p=1000, r=1.5)"),
            "f(p=1000, r=1.5) returned a result holding 1103.8128906249997, \
             but the request says to round to 2 decimals"
        );
        let rounded = [
            Outcome::Value(json!(1102.5)),
            Outcome::Value(json!(1103.81)),
        ];
        assert_eq!(p.broken_by(&rounded, &inputs), None);
    }

    #[test]
    fn numbers_deep_in_the_result_count_and_echoes_of_the_input_do_not() {
        let p = Promises::read("Return a dict of totals, rounded to 1 decimal.");
        let input = json!({"rows": [{"x": 0.123_45}]});
        let ok = json!({"a": [1, 2.5, {"b": 0.3}], "echo": 0.123_45});
        let bad = json!({"a": [1, 2.5, {"b": 0.35}]});
        let inputs = [input.clone(), input];
        let run = [Outcome::Value(ok), Outcome::Value(bad)];
        assert_eq!(p.broken_by(&run, &inputs).unwrap().input, 1);
        // Errors break nothing; an unrounded sum does, as in Python
        // (round(0.1 + 0.2, 1) != 0.1 + 0.2).
        let run = [
            Outcome::Error("ValueError: no".into()),
            Outcome::Value(json!(0.3)),
        ];
        assert_eq!(p.broken_by(&run, &inputs), None);
        let noisy = [
            Outcome::Value(json!(0.1 + 0.2)),
            Outcome::Value(json!(1e20)),
        ];
        assert_eq!(p.broken_by(&noisy, &inputs).unwrap().input, 0);
        assert!(has_decimals_at_most(-2.5, 1) && has_decimals_at_most(1102.5, 2));
        assert!(!has_decimals_at_most(0.125, 2) && has_decimals_at_most(0.12, 2));
    }

    #[test]
    fn a_promise_the_examples_break_was_misread_and_is_dropped() {
        let p = Promises::read("Round to 1 decimal.");
        assert!(p.any());
        let kept = p.kept_by_examples(&[example(json!({"x": 1}), json!(2.5))]);
        assert!(kept.any());
        let dropped = p.kept_by_examples(&[example(json!({"x": 1}), json!(2.25))]);
        assert!(!dropped.any());
        let none = Promises::read("Add the numbers.");
        assert_eq!(
            none.broken_by(&[Outcome::Value(json!(0.123))], &[json!({})]),
            None
        );
    }

    #[test]
    fn a_huge_result_is_checked_within_a_bound() {
        let p = Promises::read("Round to 1 decimal.");
        let big = Value::Array((0..50_000).map(|i| json!(f64::from(i) + 0.5)).collect());
        let mut nested = json!(0.25);
        for _ in 0..100 {
            nested = json!([nested]);
        }
        assert_eq!(numbers(&big).len(), MAX_NUMBERS);
        let run = [Outcome::Value(big.clone()), Outcome::Value(nested)];
        let b = p.broken_by(&run, &[json!({}), json!({})]).unwrap();
        assert_eq!(b.input, 1);
        // Every number of the result is echoed from an input as large:
        // checked against a set, not number by number.
        let started = std::time::Instant::now();
        // Twenty inputs of 10,000 numbers: number by number that would be
        // 2e9 comparisons.
        let echoed = Value::Array((0..50_000).map(|i| json!(f64::from(i) + 0.125)).collect());
        let run = vec![Outcome::Value(echoed.clone()); 20];
        assert_eq!(p.broken_by(&run, &vec![echoed; 20]), None);
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    }
}
