//! Reading what a model wrote: JSON that may come wrapped in prose or a
//! code fence, and Python code in a fence. Tolerant of the wrapping, strict
//! about the content: what comes back still gets validated by its caller.

use serde_json::Value;

/// The first JSON object (or array) in `text`: the whole text if it parses,
/// else the contents of a ```json fence, else the first balanced `{...}`.
pub fn extract(text: &str) -> Option<Value> {
    let trimmed = text.trim();
    if let Ok(v) = serde_json::from_str(trimmed) {
        return Some(v);
    }
    if let Some(fenced) = fenced(trimmed, &["json", ""])
        && let Ok(v) = serde_json::from_str(fenced.trim())
    {
        return Some(v);
    }
    let start = trimmed.find(['{', '['])?;
    balanced(&trimmed[start..]).and_then(|s| serde_json::from_str(s).ok())
}

/// The code of the first ```python (or bare ```) fence; the whole text
/// when there is no fence but it looks like code.
pub fn python_code(text: &str) -> Option<String> {
    if let Some(code) = fenced(text, &["python", "py", ""]) {
        return Some(code.trim_matches('\n').to_owned() + "\n");
    }
    let t = text.trim();
    (t.starts_with("def ") || t.starts_with("import ") || t.starts_with("from "))
        .then(|| t.to_owned() + "\n")
}

/// The body of the first fence whose language is one of `langs` ("" is
/// a fence with no language). An unclosed fence runs to the end.
fn fenced<'a>(text: &'a str, langs: &[&str]) -> Option<&'a str> {
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let line_end = after.find('\n').unwrap_or(after.len());
        let lang = after[..line_end].trim().to_ascii_lowercase();
        let body = after.get(line_end + 1..).unwrap_or("");
        let end = body.find("```").unwrap_or(body.len());
        if langs.contains(&lang.as_str()) {
            return Some(&body[..end]);
        }
        rest = body.get(end + 3..).unwrap_or("");
    }
    None
}

/// The prefix of `s` (which starts with `{` or `[`) up to its matching
/// close, skipping brackets inside strings.
fn balanced(s: &str) -> Option<&str> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(&s[..=i]);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use serde_json::json;

    #[test]
    fn json_in_prose_or_fences_is_found() {
        assert_eq!(extract(r#"{"a": 1}"#), Some(json!({"a": 1})));
        assert_eq!(
            extract("Sure!\n```json\n{\"a\": [1, 2]}\n```\nDone."),
            Some(json!({"a": [1, 2]}))
        );
        assert_eq!(
            extract("Here: {\"s\": \"a } b\", \"n\": {\"m\": 2}} trailing"),
            Some(json!({"s": "a } b", "n": {"m": 2}}))
        );
        assert_eq!(extract("no json here"), None);
        assert_eq!(extract("{\"unclosed\": "), None);
    }

    #[test]
    fn python_comes_out_of_its_fence() {
        let text = "Here you go:\n```python\ndef f(x):\n    return x\n```\nExplanation.";
        assert_eq!(python_code(text).unwrap(), "def f(x):\n    return x\n");
        assert_eq!(
            python_code("def g():\n    return 1").unwrap(),
            "def g():\n    return 1\n"
        );
        assert_eq!(python_code("I cannot do that."), None);
        // A fence the model never closed still yields its code.
        assert_eq!(
            python_code("```python\ndef h():\n    return 2\n").unwrap(),
            "def h():\n    return 2\n"
        );
    }
}
