//! Mechanical clean-ups of a step's code before it runs.
//!
//! Small models write a step the way their training data writes a script:
//! the data pasted in again as an example (`data = """..."""`), which
//! overwrites the bound variable with a few made-up lines; the answer
//! printed rather than left as the last expression; a function defined and
//! never called; `datetime.strptime` without an import. Each is fixed the same way every time, so the agent fixes
//! it instead of spending a model call on telling the model. Nothing here
//! changes what the code computes from the data it is given.

/// What a step may read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'a> {
    /// Every name bound for the step.
    pub bound: &'a [String],
    /// The task's data, for a function of one parameter the model forgot
    /// to call.
    pub main: Option<&'a str>,
    /// The text attachments, by name: a string literal that repeats one is
    /// the model pasting the data instead of reading it.
    pub texts: &'a [(String, String)],
}

/// `code` with the data read instead of pasted (a literal that repeats a
/// text attachment becomes its name), pasted-over variables dropped, a
/// last `finish(x)` or trailing prints turned into the step's value, a
/// last function that takes only bound names called on them (or, taking
/// one parameter of its own naming, on `main`), and forgotten imports
/// added.
pub fn cleaned(code: &str, scope: Scope<'_>) -> String {
    let (bound, main) = (scope.bound, scope.main);
    let code = &unpasted(code, scope.texts);
    let mut statements: Vec<String> = top_level(code)
        .into_iter()
        .filter(|s| !pastes_over(s, bound))
        .collect();
    while statements.last().is_some_and(|s| writes_a_call(s)) {
        statements.pop();
    }
    if let Some(value) = statements.last().and_then(|s| called(s, "finish")) {
        // The model's way of saying "this is the answer".
        statements.pop();
        statements.push(value);
    }
    let prints: Vec<String> = statements
        .iter()
        .rev()
        .map_while(|s| called(s, "print"))
        .collect();
    if !prints.is_empty() {
        statements.truncate(statements.len() - prints.len());
        let value = match prints.as_slice() {
            [one] => one.clone(),
            many => format!(
                "[{}]",
                many.iter().rev().cloned().collect::<Vec<_>>().join(", ")
            ),
        };
        statements.push(value);
    } else if let Some(call) = statements.last().and_then(|s| uncalled(s, bound, main)) {
        statements.push(call);
    } else if let Some(name) = statements.last().and_then(|s| assigned(s)) {
        statements.push(name);
    }
    let mut out = statements.join("\n");
    out.push('\n');
    crate::python_imports::with_imports(&crate::python_methods::with_python_methods(&out))
}

/// The top-level statements of `code`, each with its indented body and
/// continuation lines. A rough reading (brackets, strings and comments),
/// not a parser: code it misreads runs as it was, just uncleaned.
fn top_level(code: &str) -> Vec<String> {
    let mut statements: Vec<String> = Vec::new();
    let mut depth = 0i32;
    let mut in_triple: Option<&str> = None;
    for line in code.lines() {
        let continues = depth > 0 || in_triple.is_some();
        let starts = !continues
            && !line.trim().is_empty()
            && !line.starts_with([' ', '\t', ')', ']', '}', '#'])
            && !["else", "elif", "except", "finally"]
                .iter()
                .any(|k| line.starts_with(k));
        match statements.last_mut() {
            Some(last) if !starts => {
                last.push('\n');
                last.push_str(line);
            }
            _ => statements.push(line.to_owned()),
        }
        scan(line, &mut depth, &mut in_triple);
    }
    statements
        .into_iter()
        .map(|s| s.trim_end().to_owned())
        .filter(|s| !s.trim().is_empty())
        .collect()
}

/// Follow brackets and triple-quoted strings across `line`. It works on
/// bytes: every byte it looks for is ASCII, and a byte of a multi-byte
/// character never equals one, so no index lands inside a character.
fn scan(line: &str, depth: &mut i32, in_triple: &mut Option<&str>) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if let Some(quote) = *in_triple {
            if rest.starts_with(quote.as_bytes()) {
                *in_triple = None;
                i += 3;
            } else {
                i += 1;
            }
            continue;
        }
        match bytes[i] {
            b'#' => return,
            b'(' | b'[' | b'{' => *depth += 1,
            b')' | b']' | b'}' => *depth -= 1,
            _ if rest.starts_with(b"\"\"\"") => {
                *in_triple = Some("\"\"\"");
                i += 3;
                continue;
            }
            _ if rest.starts_with(b"'''") => {
                *in_triple = Some("'''");
                i += 3;
                continue;
            }
            q @ (b'"' | b'\'') => {
                // A one-line string: skip to its closing quote.
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// `NAME = <something that reads no bound name>`, NAME bound: example data
/// pasted over the real input.
fn pastes_over(statement: &str, bound: &[String]) -> bool {
    let Some((target, value)) = statement.split_once('=') else {
        return false;
    };
    let target = target.trim();
    !value.starts_with('=')
        && bound.iter().any(|b| b == target)
        && !bound
            .iter()
            .any(|b| super::prompt::mentions(value, b.as_str()))
}

/// A tool call written as a dict literal (`{"arguments": {}, "tool":
/// "finish"}`): the model meant to end, not to compute it.
fn writes_a_call(statement: &str) -> bool {
    let s = statement.trim();
    s.starts_with('{')
        && s.ends_with('}')
        && (s.contains("\"arguments\"") || s.contains("'arguments'"))
        && ["tool", "name", "finish"].iter().any(|k| s.contains(k))
}

/// The name a last `NAME = ...` assigns: the value the step computed.
fn assigned(statement: &str) -> Option<String> {
    let (target, value) = statement.split_once('=')?;
    let target = target.trim();
    (!value.starts_with('=')
        && !target.is_empty()
        && !target.starts_with(|c: char| c.is_ascii_digit())
        && target.chars().all(|c| c.is_alphanumeric() || c == '_'))
    .then(|| target.to_owned())
}

/// The text attachments' literals in `code` replaced by their names.
fn unpasted(code: &str, texts: &[(String, String)]) -> String {
    let mut out = code.to_owned();
    for (name, text) in texts {
        let text = text.trim();
        // Short texts are too likely to be a coincidence.
        if text.len() < 8 {
            continue;
        }
        for quote in ["\"\"\"", "'''", "\"", "'"] {
            out = out.replace(&format!("{quote}{text}{quote}"), name);
        }
    }
    out
}

/// `F(X)`, one argument: X.
fn called(statement: &str, function: &str) -> Option<String> {
    let inner = statement
        .trim()
        .strip_prefix(function)?
        .strip_prefix('(')?
        .strip_suffix(')')?
        .trim();
    let mut depth = 0i32;
    let mut in_string: Option<char> = None;
    for c in inner.chars() {
        match (in_string, c) {
            (Some(q), c) if c == q => in_string = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => in_string = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            // Two arguments, or an unbalanced reading: leave it alone.
            (None, ',') if depth == 0 => return None,
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    (!inner.is_empty() && depth == 0 && !inner.contains("end=")).then(|| inner.to_owned())
}

/// A call of the function `statement` defines, when every parameter it
/// needs is a bound name, or it needs one, which `main` then fills.
fn uncalled(statement: &str, bound: &[String], main: Option<&str>) -> Option<String> {
    let header = statement.strip_prefix("def ")?;
    let (name, rest) = header.split_once('(')?;
    let params = rest.split_once(')')?.0;
    let needed: Vec<&str> = params
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.contains('=') && !p.starts_with('*'))
        .map(|p| p.split(':').next().unwrap_or(p).trim())
        .collect();
    let args = if needed.iter().all(|p| bound.iter().any(|b| b == p)) {
        needed.join(", ")
    } else if let ([_], Some(main)) = (needed.as_slice(), main) {
        main.to_owned()
    } else {
        return None;
    };
    Some(format!("{}({args})", name.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound() -> Vec<String> {
        vec!["data".into(), "rows".into()]
    }

    fn clean(code: &str, main: Option<&str>) -> String {
        let bound = bound();
        cleaned(
            code,
            Scope {
                bound: &bound,
                main,
                texts: &[],
            },
        )
    }

    #[test]
    fn the_data_pasted_as_a_literal_is_read_instead_and_finish_gives_the_value() {
        let bound = bound();
        let texts = [("data".to_owned(), "the cat and the hat\n".to_owned())];
        let scope = Scope {
            bound: &bound,
            main: None,
            texts: &texts,
        };
        let code =
            "def count(t):\n    return len(t.split())\nfinish(count(\"the cat and the hat\"))";
        assert_eq!(
            cleaned(code, scope),
            "def count(t):\n    return len(t.split())\ncount(data)\n"
        );
    }

    #[test]
    fn pasted_example_data_is_dropped_and_the_print_becomes_the_value() {
        let code = "def report(data):\n    return len(data)\n\n# Example usage\ndata = \"\"\"\ndate,region\n2026-01-05,EU\n\"\"\"\nprint(report(data))\n";
        assert_eq!(
            clean(code, None),
            "def report(data):\n    return len(data)\n\n# Example usage\nreport(data)\n"
        );
    }

    /// Found by the demo bench: a docstring with `°C` panicked the agent
    /// (a byte index inside a multi-byte character), which in the web
    /// chat ended its task without an answer.
    #[test]
    fn code_with_characters_of_several_bytes_is_cleaned_up() {
        let code = "def streaks(rows):\n    \"\"\"\n    For each city, the longest run above 30 °C.\n    \"\"\"\n    return {'°': 'é', \"ü\": 1}\nprint(streaks(rows))\n";
        assert_eq!(
            clean(code, None),
            code.replace("print(streaks(rows))", "streaks(rows)")
        );
        // Every byte offset into a line of mixed characters.
        let line = "x = '°C' # ü \"é\" '''°''' (ß) \"\"\"¿\"\"\" [€]";
        for cut in line.char_indices().map(|(i, _)| i) {
            let _ = clean(&line[cut..], None);
        }
    }

    #[test]
    fn an_assignment_that_reads_the_data_stays() {
        let code = "rows = [r for r in rows if r['units'] > 0]\nlen(rows)";
        assert_eq!(clean(code, None), format!("{code}\n"));
    }

    #[test]
    fn several_trailing_prints_become_a_list() {
        let code = "a = 1\nprint(a)\nprint({'b': (2, 3)})";
        assert_eq!(clean(code, None), "a = 1\n[a, {'b': (2, 3)}]\n");
    }

    #[test]
    fn a_print_with_two_arguments_or_options_is_left_alone() {
        for code in ["print('total:', 3)", "print(3, end='')"] {
            assert_eq!(clean(code, None), format!("{code}\n"));
        }
    }

    #[test]
    fn a_function_on_bound_names_that_is_never_called_is_called() {
        let code = "def total(rows, scale=1):\n    return sum(r['x'] for r in rows) * scale";
        assert_eq!(clean(code, None), format!("{code}\ntotal(rows)\n"));
        let other = "def total(items):\n    return len(items)";
        assert_eq!(clean(other, None), format!("{other}\n"));
        assert_eq!(
            clean(other, Some("rows")),
            format!("{other}\ntotal(rows)\n")
        );
        let two = "def total(items, more):\n    return len(items)";
        assert_eq!(clean(two, Some("rows")), format!("{two}\n"));
    }

    #[test]
    fn a_call_written_as_data_is_dropped_and_the_last_assignment_is_the_value() {
        let code = "counts = {}\nfor r in rows:\n    counts[r[0]] = 1\ntop = sorted(counts)\n{\"arguments\": {}, \"tool\": \"finish\"}";
        assert_eq!(
            clean(code, None),
            "counts = {}\nfor r in rows:\n    counts[r[0]] = 1\ntop = sorted(counts)\ntop\n"
        );
        assert_eq!(clean("{'a': 1}", None), "{'a': 1}\n");
    }

    #[test]
    fn compound_statements_and_strings_hold_together() {
        let code = "if rows:\n    x = 1\nelse:\n    x = 2\ns = 'a = (b'\nprint(x)";
        assert_eq!(
            clean(code, None),
            "if rows:\n    x = 1\nelse:\n    x = 2\ns = 'a = (b'\nx\n"
        );
    }

    #[test]
    fn hostile_code_as_large_as_a_chat_prompt_is_cleaned_in_one_pass() {
        let started = std::time::Instant::now();
        // Many statements that each look like a paste over a bound name.
        let pastes = "rows = [1]\nprint(rows)\n".repeat(10_000);
        let out = clean(&pastes, Some("rows"));
        assert!(!out.contains("rows = [1]"));
        // Brackets and a triple quote that never close.
        let open = format!("x = \"\"\"{}", "(((\n".repeat(60_000));
        assert!(clean(&open, None).starts_with("x = \"\"\""));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
