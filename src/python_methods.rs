//! Methods of other languages that model-written Python calls.
//!
//! Small models trained on much Java and JavaScript write
//! `title.lower().contains('vp')` or `name.toLowerCase()`: no Python value
//! has these methods, so an `AttributeError` throws away a program whose
//! logic may be right (`autolearn bench learn`: 12 of the first 24
//! candidates of the held-out half's CRM requests called `.contains`). The
//! Python that does the same is a rename (`.toLowerCase()` is `.lower()`)
//! or an operator (`x.contains(y)` is `(y in x)`), so the pipeline and the
//! agent rewrite it instead of asking the model again. Dunder calls
//! (`x.__contains__(y)`) would be shorter, but skills may not touch dunder
//! attributes. Only code is rewritten: strings and comments are left as
//! they are, a call whose receiver or argument cannot be read is left as it
//! is, and `Series.str.contains` (pandas) is Python.

/// Foreign method → the Python method that does the same on the values
/// they are called on (`str`, `list`).
const RENAMES: [(&str, &str); 6] = [
    ("startsWith(", "startswith("),
    ("endsWith(", "endswith("),
    ("toLowerCase()", "lower()"),
    ("toUpperCase()", "upper()"),
    ("trim()", "strip()"),
    ("push(", "append("),
];

/// The longest receiver or argument a call is rewritten with: each call's
/// work stays bounded, so the whole rewrite is linear in the code
/// (longer ones stay as they are).
const MAX_OPERAND: usize = 256;

/// Foreign method with one argument → the Python operator, as a template
/// of the receiver `{r}` and the argument `{a}`.
const OPERATORS: [(&str, &str); 2] = [("contains(", "({a} in {r})"), ("equals(", "({r} == {a})")];

/// `code` with the foreign methods of [`RENAMES`] and [`OPERATORS`]
/// rewritten, outside strings and comments.
pub fn with_python_methods(code: &str) -> String {
    let foreign = RENAMES.iter().chain(&OPERATORS);
    if !foreign
        .clone()
        .any(|(from, _)| code.contains(&format!(".{from}")))
    {
        return code.to_owned();
    }
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(c) = rest.chars().next() {
        match c {
            '#' => {
                let end = rest.find('\n').unwrap_or(rest.len());
                out.push_str(&rest[..end]);
                rest = &rest[end..];
            }
            '\'' | '"' => {
                let end = string_end(rest);
                out.push_str(&rest[..end]);
                rest = &rest[end..];
            }
            '.' => {
                let after = &rest[1..];
                if let Some((from, to)) = RENAMES.iter().find(|(from, _)| after.starts_with(from)) {
                    out.push('.');
                    out.push_str(to);
                    rest = &after[from.len()..];
                } else if let Some(left) = (!out.ends_with(".str"))
                    .then(|| OPERATORS.iter().find(|(from, _)| after.starts_with(from)))
                    .flatten()
                    .and_then(|(from, template)| operator(&mut out, &after[from.len()..], template))
                {
                    rest = left;
                } else {
                    out.push('.');
                    rest = after;
                }
            }
            _ => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// Rewrite the call whose receiver ends `out` and whose argument list
/// starts `args` (after its `(`) by `template`; the rest of the code after
/// the call's `)`, or `None` (and `out` unchanged) when either cannot be
/// read.
fn operator<'a>(out: &mut String, args: &'a str, template: &str) -> Option<&'a str> {
    let start = receiver_start(out)?;
    let end = closing_paren(&args[..args.floor_char_boundary(MAX_OPERAND)])?;
    let argument = with_python_methods(args[..end].trim());
    if argument.is_empty() || argument.contains(',') {
        return None;
    }
    let call = template
        .replace("{r}", &out[start..])
        .replace("{a}", &argument);
    out.truncate(start);
    out.push_str(&call);
    Some(&args[end + 1..])
}

/// Where the primary expression that ends `code` starts: names, dots,
/// bracketed groups and string literals (`d['k'].lower()`, `str(x)`).
fn receiver_start(code: &str) -> Option<usize> {
    let b = code.as_bytes();
    let floor = b.len().saturating_sub(MAX_OPERAND);
    let mut i = b.len();
    while i > 0 {
        if i < floor {
            return None;
        }
        match b[i - 1] {
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' => i -= 1,
            close @ (b')' | b']') => {
                let open = if close == b')' { b'(' } else { b'[' };
                let mut depth = 0usize;
                let mut j = i;
                loop {
                    j = j.checked_sub(1).filter(|&j| j >= floor)?;
                    if b[j] == close {
                        depth += 1;
                    } else if b[j] == open {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                }
                i = j;
            }
            quote @ (b'\'' | b'"') => {
                i = b[floor..i - 1].iter().rposition(|&c| c == quote)? + floor;
            }
            _ => break,
        }
    }
    (i < b.len()).then_some(i)
}

/// The index of the `)` that closes an argument list `args` starts
/// (after its `(`), skipping strings.
fn closing_paren(args: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < args.len() {
        let c = args[i..].chars().next()?;
        match c {
            '\'' | '"' => {
                i += string_end(&args[i..]);
                continue;
            }
            '(' | '[' | '{' => depth += 1,
            ')' if depth == 0 => return Some(i),
            ')' | ']' | '}' => depth = depth.checked_sub(1)?,
            '\n' => return None,
            _ => {}
        }
        i += c.len_utf8();
    }
    None
}

/// The length of the string literal `s` starts with (its quotes
/// included; to the end of `s` when it never closes).
fn string_end(s: &str) -> usize {
    let quote = &s[..1];
    let triple = quote.repeat(3);
    let (open, close) = if s.starts_with(&triple) {
        (3, triple.as_str())
    } else {
        (1, quote)
    };
    let mut i = open;
    while i < s.len() {
        if s[i..].starts_with('\\') {
            i += 1 + s[i + 1..].chars().next().map_or(0, char::len_utf8);
        } else if s[i..].starts_with(close) {
            return i + close.len();
        } else if open == 1 && s[i..].starts_with('\n') {
            return i;
        } else {
            i += s[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::with_python_methods;

    #[test]
    fn foreign_methods_are_renamed_in_code() {
        // crm_lead_score in the held-out half.
        let code = "def f(title):\n    if title.lower().contains('director') or title.toLowerCase().startsWith(\"vp\"):\n        return 20\n    return 0\n";
        assert_eq!(
            with_python_methods(code),
            "def f(title):\n    if ('director' in title.lower()) or title.lower().startswith(\"vp\"):\n        return 20\n    return 0\n"
        );
        assert_eq!(
            with_python_methods("xs.push(x.trim())\nok = a.equals(b)\n"),
            "xs.append(x.strip())\nok = (a == b)\n"
        );
        // Receivers with brackets and strings, arguments with calls and a
        // foreign method of their own.
        assert_eq!(
            with_python_methods("if not c['email'].lower().contains(d.get('x').trim()):\n"),
            "if not (d.get('x').strip() in c['email'].lower()):\n"
        );
        assert_eq!(
            with_python_methods("return str(p).contains(\"a)\") and 'x'.contains(y)"),
            "return (\"a)\" in str(p)) and (y in 'x')"
        );
    }

    #[test]
    fn hostile_code_is_rewritten_in_linear_time() {
        // A chain whose receiver grows with every call, and a long line of
        // calls: each call looks at most MAX_OPERAND bytes either way.
        let chain = format!("v = x{}\n", ".contains(y)".repeat(20_000));
        let calls = "a.contains(b) and ".repeat(20_000);
        let started = std::time::Instant::now();
        let rewritten = with_python_methods(&chain);
        // The first calls nest; once the receiver passes MAX_OPERAND the
        // rest stay as they are.
        assert!(
            rewritten.starts_with("v = (y in (y in (y in"),
            "{}",
            &rewritten[..40]
        );
        assert!(rewritten.ends_with(".contains(y)\n"));
        assert!(with_python_methods(&calls).contains("(b in a) and (b in a)"));
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(2), "{took:?}");
    }

    #[test]
    fn strings_comments_and_python_methods_are_left_alone() {
        let code = "# x.contains(y) is Java\ns = 'a.contains(b)' + \"\"\"t.trim()\n.push(\"\"\"\nm = df['a'].str.contains('x')\nq = 'it\\'s.trim()'\nname.strip().lower()\n";
        assert_eq!(with_python_methods(code), code);
        let plain = "def f(x):\n    return x.lower()\n";
        assert_eq!(with_python_methods(plain), plain);
        // Calls that cannot be read stay as they are.
        for odd in [
            "x.contains(a, b)",
            "x.contains()",
            "x.contains(y",
            "(.contains(y)",
            ".contains(y)",
        ] {
            assert_eq!(with_python_methods(odd), odd);
        }
        // A receiver or an argument longer than MAX_OPERAND stays.
        let long = format!("{}.contains(y)", "x".repeat(300));
        assert_eq!(with_python_methods(&long), long);
        // A string that never closes: nothing after it is touched, and
        // nothing panics.
        assert_eq!(with_python_methods("s = 'é.trim()"), "s = 'é.trim()");
        assert_eq!(with_python_methods("x.trim()  # 'é"), "x.strip()  # 'é");
    }
}
