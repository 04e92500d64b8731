//! What the user asked, split into the task and its attached data.
//!
//! Data comes in fenced blocks (```csv ... ```). It is never pasted into
//! the model's context or into code: each block is bound as a variable
//! (`data`, `data2`, ...) of the `run_python` cells that use it. That keeps
//! prompts short, lets the trace crystallize into a skill whose parameter is
//! the data, and lets the next run with new data call that skill with the
//! new block, the model only choosing the skill.

use serde_json::Value;

/// Most attachments one prompt may carry.
pub const MAX_ATTACHMENTS: usize = 8;
/// Lines of a text attachment the model sees (its format, not its data).
const PREVIEW_LINES: usize = 3;

/// A prompt, taken apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// The request without its data blocks (a block inside a line leaves
    /// its variable's name).
    pub task: String,
    /// The data blocks, by variable name, in order.
    pub attachments: Vec<(String, Value)>,
}

impl Prompt {
    /// Take `text` apart. A ```json block that parses is bound as JSON;
    /// any other block as its text.
    pub fn parse(text: &str) -> Self {
        let mut task = String::new();
        let mut attachments = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("```") {
            let after = &rest[open + 3..];
            let Some(line_end) = after.find('\n') else {
                break;
            };
            let lang = after[..line_end].trim().to_ascii_lowercase();
            let body_and_more = &after[line_end + 1..];
            let (body, next) = match body_and_more.find("```") {
                Some(close) => (&body_and_more[..close], &body_and_more[close + 3..]),
                None => (body_and_more, ""),
            };
            if attachments.len() == MAX_ATTACHMENTS {
                break;
            }
            let name = match attachments.len() {
                0 => "data".to_owned(),
                n => format!("data{}", n + 1),
            };
            let value = match lang.as_str() {
                "json" => serde_json::from_str(body).unwrap_or_else(|_| body.into()),
                _ => Value::String(body.to_owned()),
            };
            task.push_str(&rest[..open]);
            task.push_str(&format!("`{name}`"));
            attachments.push((name, value));
            rest = next;
        }
        task.push_str(rest);
        // A block on lines of its own leaves only its name behind: the model
        // learns of it from the attachment list, and a skill's description
        // reads better without it.
        let names: Vec<String> = attachments.iter().map(|(n, _)| format!("`{n}`")).collect();
        let task: String = task
            .lines()
            .filter(|l| !names.iter().any(|n| l.trim() == n))
            .collect::<Vec<_>>()
            .join("\n");
        Self {
            task: collapse_blank_lines(task.trim()),
            attachments,
        }
    }

    /// The attachment named `name`.
    pub fn attachment(&self, name: &str) -> Option<&Value> {
        self.attachments
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// One entry per attachment, telling the model what each variable holds
    /// (its kind, size and first lines, to show the format), never all of it.
    pub fn describe(&self) -> Vec<String> {
        self.attachments
            .iter()
            .map(|(name, value)| match value {
                Value::String(s) => format!(
                    "- `{name}`: a str of {} lines, starting:\n{}",
                    s.lines().count(),
                    s.lines()
                        .take(PREVIEW_LINES)
                        .map(|l| format!("    {}", crate::text::truncate(l, 200)))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
                Value::Array(items) => format!(
                    "- `{name}`: a list of {} items; the first: {}",
                    items.len(),
                    crate::text::truncate(
                        &items.first().map(Value::to_string).unwrap_or_default(),
                        200
                    )
                ),
                Value::Object(map) => format!(
                    "- `{name}`: a dict with keys {}",
                    crate::text::truncate(
                        &map.keys()
                            .map(String::as_str)
                            .collect::<Vec<_>>()
                            .join(", "),
                        200
                    )
                ),
                other => format!(
                    "- `{name}`: {}: {}",
                    kind(other),
                    crate::text::truncate(&other.to_string(), 200)
                ),
            })
            .collect()
    }

    /// [`Prompt::describe`] as one text.
    pub fn describe_attachments(&self) -> String {
        self.describe().join("\n")
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "a list",
        Value::Object(_) => "a dict",
        Value::String(_) => "a str",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a bool",
        Value::Null => "None",
    }
}

fn collapse_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.trim_end().to_owned()
}

/// Whether `code` mentions the variable `name` (as a whole word).
pub fn mentions(code: &str, name: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(name).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + name.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use serde_json::json;

    #[test]
    fn data_blocks_become_variables_and_leave_the_task() {
        let p = Prompt::parse(
            "Total the sales by region.\n\n```csv\nregion,amount\neu,3\n```\nand these:\n```json\n[1, 2]\n```\n",
        );
        assert_eq!(p.task, "Total the sales by region.\n\nand these:");
        let inline = Prompt::parse("Sum ```\n1 2\n``` please");
        assert_eq!(inline.task, "Sum `data` please");
        assert_eq!(p.attachment("data"), Some(&json!("region,amount\neu,3\n")));
        assert_eq!(p.attachment("data2"), Some(&json!([1, 2])));
        assert!(
            p.describe_attachments()
                .contains("a str of 2 lines, starting:\n    region,amount\n    eu,3")
        );
    }

    #[test]
    fn a_prompt_without_blocks_is_all_task() {
        let p = Prompt::parse("  What is 2 + 2?  ");
        assert_eq!(p.task, "What is 2 + 2?");
        assert!(p.attachments.is_empty());
    }

    #[test]
    fn an_unclosed_block_runs_to_the_end() {
        let p = Prompt::parse("Count:\n```\na\nb");
        assert_eq!(p.attachment("data"), Some(&json!("a\nb")));
    }

    #[test]
    fn mentions_whole_words_only() {
        assert!(mentions("rows = data.split()", "data"));
        assert!(!mentions("rows = data2.split()", "data"));
        assert!(!mentions("metadata = 1", "data"));
        assert!(mentions("x = step1 + 1", "step1"));
    }
}
