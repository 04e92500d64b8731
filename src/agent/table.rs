//! Tables in text attachments, parsed before the model writes anything.
//!
//! A small model spends its first steps (and often all of them) failing to
//! parse a CSV: it splits on commas without skipping the header, converts
//! the header to `int`, or reads a file named `sales.csv`. Parsing is
//! mechanical, so the agent does it itself, as a `run_python` step of the
//! trace like any other (so it crystallizes into the skill): a text whose
//! lines all split the same way becomes rows, dicts by the header when it
//! has one, numbers as numbers. The model then starts from data whose
//! shape it is shown.

/// Delimiters tried, most specific first.
const DELIMITERS: [char; 4] = ['\t', '|', ';', ','];
/// Longest header field: longer first-line fields are data, not names.
const MAX_HEADER_FIELD: usize = 40;

/// How a text attachment splits into rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The field separator.
    pub delimiter: char,
    /// Whether the first line names the columns.
    pub header: bool,
}

impl Table {
    /// The table in `text`, if every non-blank line (at least two) has the
    /// same number of one delimiter, at least one.
    pub fn detect(text: &str) -> Option<Self> {
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.len() < 2 {
            return None;
        }
        let delimiter = DELIMITERS.into_iter().find(|&d| {
            let first = fields(lines[0], d).len();
            first >= 2 && lines.iter().all(|l| fields(l, d).len() == first)
        })?;
        let names = fields(lines[0], delimiter);
        let header = names.iter().all(|f| is_name(f))
            && names
                .iter()
                .enumerate()
                .all(|(i, f)| !names[..i].contains(f))
            && lines[1..]
                .iter()
                .any(|l| fields(l, delimiter).iter().any(|f| !is_name(f)));
        Some(Self { delimiter, header })
    }

    /// Python that parses the text bound to `var` into this table: its last
    /// expression is the rows.
    pub fn parse_code(&self, var: &str) -> String {
        let delimiter = match self.delimiter {
            '\t' => "\\t".to_owned(),
            d => d.to_string(),
        };
        let rows = if self.header {
            "header = [str(h) for h in table[0]]\n[dict(zip(header, r)) for r in table[1:]]"
        } else {
            "[list(r) for r in table]"
        };
        format!(
            "import csv, io\n\
             def value(text):\n    \
                 text = text.strip()\n    \
                 # Codes with leading zeros and words (\"nan\") stay text.\n    \
                 if (text[:1] == '0' and text[1:2].isdigit()) or not any(c.isdigit() for c in text):\n        \
                     return text\n    \
                 for kind in (int, float):\n        \
                     try:\n            \
                         return kind(text)\n        \
                     except ValueError:\n            \
                         pass\n    \
                 return text\n\
             lines = [l for l in {var}.splitlines() if l.strip()]\n\
             table = [[value(f) for f in r] for r in csv.reader(lines, delimiter='{delimiter}', skipinitialspace=True)]\n\
             {rows}\n"
        )
    }

    /// What the parsed rows are, for the model.
    pub fn describe(&self, var: &str) -> String {
        if self.header {
            format!(
                "`{var}` parsed: a list of dicts, one per line after the header, numbers as numbers"
            )
        } else {
            format!(
                "`{var}` parsed: a list of lists, one per line, fields stripped, numbers as numbers"
            )
        }
    }
}

/// A line's fields (a quoted delimiter is not counted as one: a plain
/// split is enough to tell a table from prose).
fn fields(line: &str, delimiter: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == delimiter && !quoted {
            out.push(line[start..i].trim());
            start = i + c.len_utf8();
        }
    }
    out.push(line[start..].trim());
    out
}

/// A column name: short, starting with a letter, of letters, digits,
/// spaces, `_`, `-` and `.`.
fn is_name(field: &str) -> bool {
    let field = field.trim_matches('"');
    field.len() <= MAX_HEADER_FIELD
        && field.chars().next().is_some_and(char::is_alphabetic)
        && field
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' ' | '.'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn a_csv_with_a_header_is_a_list_of_dicts() {
        let t = Table::detect("date,region,units\n2026-01-05,EU,10\n2026-01-09,US,3\n").unwrap();
        assert_eq!(
            t,
            Table {
                delimiter: ',',
                header: true
            }
        );
        assert!(t.parse_code("data").contains("dict(zip(header, r))"));
    }

    #[test]
    fn lines_split_by_a_bar_without_a_header_are_lists() {
        let text = "Ann@Example.com | The charger arrived broken, I want a refund\n\
                    bob@example.org | Thanks, the new firmware works great\n";
        assert_eq!(
            Table::detect(text),
            Some(Table {
                delimiter: '|',
                header: false
            })
        );
    }

    #[test]
    fn prose_and_single_lines_are_not_tables() {
        assert_eq!(Table::detect("one line, with a comma"), None);
        assert_eq!(
            Table::detect("Dear team,\nthe order, as discussed, is late.\nRegards"),
            None
        );
        assert_eq!(Table::detect("a\nb\nc"), None);
    }

    #[test]
    fn a_quoted_delimiter_is_not_a_column() {
        let t = Table::detect("name,note\nAnn,\"late, again\"\nBob,ok\n").unwrap();
        assert_eq!(t.delimiter, ',');
        assert!(t.header);
    }

    #[test]
    fn an_all_text_table_has_no_header_unless_its_data_differs() {
        // Every line looks like names: no way to tell a header apart.
        assert!(!Table::detect("red,green\nblue,cyan\n").unwrap().header);
        assert!(Table::detect("name,email\nAnn,ann@x.com\n").unwrap().header);
    }

    #[test]
    fn a_hostile_attachment_as_large_as_a_chat_prompt_is_read_in_one_pass() {
        // The web chat runs the agent in the server: its largest prompt
        // (256 KiB) of delimiters and unbalanced quotes, on one line or
        // many, must not cost more than a linear read.
        let started = std::time::Instant::now();
        let line = "a,\"b|;\t\",".repeat(8);
        let many = format!("{line}\n").repeat(256 * 1024 / (line.len() + 1));
        assert!(Table::detect(&many).is_some());
        assert_eq!(Table::detect(&"\",".repeat(128 * 1024)), None);
        let ragged: String = (0..20_000).map(|i| ",".repeat(i % 13) + "\n").collect();
        assert_eq!(Table::detect(&ragged), None);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
