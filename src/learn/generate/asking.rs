//! Questions as a person reads them, and what their answers require of a
//! program.

use serde_json::Value;

use super::candidates::call;
use super::{Answer, Question};
use crate::learn::agree::{self, Expect};

/// A disputed input as a person reads it.
pub(super) fn phrased(entry: &str, inputs: &[Value], q: agree::Question) -> Question {
    Question {
        call: call(entry, &inputs[q.input]),
        input: inputs[q.input].clone(),
        choices: q.choices,
    }
}

/// What a person's answer requires of a program.
pub(super) fn expect_of(answer: &Answer) -> Expect {
    match answer {
        Answer::Value(v) => Expect::Value(v.clone()),
        Answer::Invalid => Expect::Raises,
    }
}
