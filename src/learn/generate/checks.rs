//! A candidate without the checks a model likes to append to its function:
//! `assert f(...) == ...`, `print(f(...))`, a `check()` it defined and
//! calls, a loop over its own test cases, an `if __name__ == "__main__":`
//! block. They run at import, before every call; the model's own expected
//! values are often wrong, and then a check breaks a function that is
//! right (in the learnings logs of four `bench learn` runs of 2026-12-07,
//! 31 of 786 candidates ran a check of their own at import; 9 of them
//! failed the user's examples only because of it, 2 of those were right).
//!
//! Reading is line-based with just enough of Python's lexer to find where
//! a top-level statement starts: brackets and strings (triple-quoted ones
//! span lines) are followed, so a continuation line or a docstring's text
//! at column 0 is not mistaken for a statement. One pass, linear in the
//! code's length.

/// `code` without its top-level checks; definitions, imports, constants
/// and comments stay.
pub(super) fn without_checks(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut lexer = Lexer::default();
    let mut dropping = false;
    for line in code.lines() {
        let starts_statement = lexer.at_statement_start()
            && !line.starts_with([' ', '\t'])
            && !line.trim().is_empty()
            && !line.starts_with('#');
        if starts_statement {
            dropping = is_check(line);
        }
        lexer.feed(line);
        let comment = line.trim_start().starts_with('#') && lexer.at_statement_start();
        if !dropping || comment {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.trim_end().to_owned() + "\n"
}

/// Whether a top-level statement starting with `line` is a check: an
/// assert, a bare call (`print(...)`, `check()`, `unittest.main()`), a
/// loop, or the `__main__` guard. An assignment, a definition, an import
/// or a decorator is none.
fn is_check(line: &str) -> bool {
    let first_word: String = line
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    match first_word.as_str() {
        "assert" | "for" | "while" => return true,
        "if" => return line.contains("__name__"),
        _ => {}
    }
    // A call statement: a dotted name, then `(` (an assignment has `=`
    // or `:` before any bracket).
    let rest = line.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_' || c == '.');
    !first_word.is_empty() && rest.trim_start().starts_with('(')
}

/// Where a line-by-line reading stands: inside brackets or a
/// triple-quoted string, a new line continues the statement before it.
#[derive(Default)]
struct Lexer {
    depth: usize,
    /// The quote character of an open triple-quoted string.
    triple: Option<char>,
}

impl Lexer {
    fn at_statement_start(&self) -> bool {
        self.depth == 0 && self.triple.is_none()
    }

    fn feed(&mut self, line: &str) {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if let Some(q) = self.triple {
                if c == '\\' {
                    i += 2;
                    continue;
                }
                if c == q && chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q) {
                    self.triple = None;
                    i += 3;
                } else {
                    i += 1;
                }
                continue;
            }
            match c {
                '#' => return,
                '"' | '\'' => {
                    if chars.get(i + 1) == Some(&c) && chars.get(i + 2) == Some(&c) {
                        self.triple = Some(c);
                        i += 3;
                        continue;
                    }
                    // A one-line string: to its closing quote or the line's end.
                    i += 1;
                    while i < chars.len() && chars[i] != c {
                        i += if chars[i] == '\\' { 2 } else { 1 };
                    }
                }
                '(' | '[' | '{' => self.depth += 1,
                ')' | ']' | '}' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_checks_are_dropped_and_the_function_kept() {
        let code = "import re\n\ndef f(x):\n    assert x >= 0\n    print(x)\n    return x\n\n# Tests\nassert f(1) == 2\nprint(f(3))\nif __name__ == \"__main__\":\n    f(2)\n";
        assert_eq!(
            without_checks(code),
            "import re\n\ndef f(x):\n    assert x >= 0\n    print(x)\n    return x\n\n# Tests\n"
        );
    }

    #[test]
    fn a_check_the_model_defined_and_calls_does_not_run() {
        let code = "def f(x):\n    return x + 1\n\ndef check():\n    assert f(1) == 3\n\ncheck()\nunittest.main(\n    argv=[''],\n)\nfor case in [1, 2]:\n    assert f(case)\n";
        let kept = without_checks(code);
        // The check's definition stays (harmless); its call, the
        // multi-line call and the loop go.
        assert_eq!(
            kept,
            "def f(x):\n    return x + 1\n\ndef check():\n    assert f(1) == 3\n"
        );
    }

    #[test]
    fn constants_decorators_and_strings_at_column_0_stay() {
        let code = "import functools\nRATES = {\n'a': 1,\n}\nNAMES = (\nprint)\n@functools.lru_cache(maxsize=None)\ndef f(x):\n    \"\"\"Doc.\nfor x in y: this is text\nprint(x)\n\"\"\"\n    return RATES.get(x, x)\n";
        assert_eq!(without_checks(code), code);
    }

    #[test]
    fn brackets_and_quotes_in_strings_and_comments_do_not_count() {
        let code = "S = \"(\" + '[' # (\ndef f(x):\n    return S\nf(1)\n";
        assert_eq!(
            without_checks(code),
            "S = \"(\" + '[' # (\ndef f(x):\n    return S\n"
        );
    }

    #[test]
    fn hostile_code_is_read_in_linear_time() {
        let code = "(".repeat(200_000) + "\n" + &"\"\"\"x\n".repeat(50_000) + "f()\n";
        let started = std::time::Instant::now();
        let _ = without_checks(&code);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
