//! The programs a generation weighs: each new one announced, repeats
//! counted (a repeat of a passing program is no independent evidence).

use super::candidates::{normalized, sample};
use super::{Progress, Session};

/// Sample one candidate per prompt and announce each new program; a
/// sample that repeats one already held is dropped (it is no independent
/// evidence, and agreement counts programs, not samples).
pub(super) async fn add_candidates(
    s: &mut Session,
    codes: &mut Vec<String>,
    copies: &mut Vec<usize>,
    prompts: Vec<String>,
    round: usize,
) {
    for code in sample(s, prompts, round).await {
        add_program(s, codes, copies, code, round);
    }
}

/// Keep `code` and announce it, unless it repeats a program already held
/// (then count the repeat).
pub(super) fn add_program(
    s: &Session,
    codes: &mut Vec<String>,
    copies: &mut Vec<usize>,
    code: String,
    round: usize,
) {
    let program = normalized(&code);
    if let Some(i) = codes.iter().position(|c| normalized(c) == program) {
        copies[i] += 1;
        return;
    }
    s.tell(Progress::Candidate {
        index: codes.len(),
        round,
        code: code.clone(),
    });
    codes.push(code);
    copies.push(1);
}
