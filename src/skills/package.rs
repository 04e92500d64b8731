//! A skill as an Agent Skill: the directory of files a skills-aware client
//! loads by itself (the Agent Skills format, served over MCP by the Skills
//! extension, SEP-2640).
//!
//! Three files, all derived from the stored skill version and nothing else,
//! so every reader computes the same bytes and digests:
//! - `SKILL.md`: YAML front matter (`name`, `description`, `metadata`),
//!   then when and how to call the skill, its parameters, examples, trust
//!   and what it was checked against;
//! - `scripts/<name>.py`: the Python source;
//! - `references/manifest.json`: the canonical manifest AutoLearn hashes,
//!   byte for byte, so the skill's id can be checked from what was served:
//!   `sha256("autolearn-skill-v1\n" + manifest.json) == id`.
//!
//! Agent Skills names are `[a-z0-9-]`, without leading, trailing or double
//! hyphens; AutoLearn's are `[A-Za-z][A-Za-z0-9_-]*`. [`agent_names`] maps
//! one to the other and keeps the result unique within a catalog.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::{Skill, SkillId};

/// The longest Agent Skills name.
const MAX_NAME: usize = 64;
/// The longest front-matter description Agent Skills allows.
const MAX_DESCRIPTION: usize = 1024;
/// Examples shown in `SKILL.md` (all of them are in the manifest).
const SHOWN_EXAMPLES: usize = 8;
/// A value shown in `SKILL.md` longer than this is cut, with a mark.
const SHOWN_VALUE: usize = 400;

/// One file of a package.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageFile {
    /// Path inside the skill's directory (`SKILL.md`, `scripts/x.py`).
    pub path: String,
    /// Its media type.
    pub mime_type: &'static str,
    /// Its content (UTF-8).
    pub text: String,
}

/// A skill's Agent Skill directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    /// The Agent Skills name (the directory's name).
    pub name: String,
    /// The front matter of `SKILL.md`, as the file states it.
    pub frontmatter: serde_json::Map<String, Value>,
    /// `SKILL.md` first, then the script, then the references.
    pub files: Vec<PackageFile>,
}

impl Package {
    /// The file at `path`, if the package has one.
    pub fn file(&self, path: &str) -> Option<&PackageFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The subdirectories (`scripts`, `references`), in file order.
    pub fn directories(&self) -> Vec<&str> {
        let mut dirs: Vec<&str> = Vec::new();
        for f in &self.files {
            if let Some((dir, _)) = f.path.rsplit_once('/')
                && !dirs.contains(&dir)
            {
                dirs.push(dir);
            }
        }
        dirs
    }
}

/// The Agent Skills form of one AutoLearn name: lower case, `_` as `-`,
/// runs of `-` as one, no `-` at the end.
pub fn agent_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = match c {
            '_' | '-' => '-',
            c => c.to_ascii_lowercase(),
        };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out.truncate(MAX_NAME);
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// The Agent Skills name of each skill of a catalog, in the order given:
/// [`agent_name`], except where two skills would share one (`word_stats`
/// and `Word-Stats`); then every skill of that name is told apart by the
/// start of its id (`word-stats-1a2b3c4d5e6f`).
pub fn agent_names<'a>(
    skills: impl Iterator<Item = (&'a str, &'a SkillId)> + Clone,
) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (name, _) in skills.clone() {
        *seen.entry(agent_name(name)).or_default() += 1;
    }
    skills
        .map(|(name, id)| {
            let base = agent_name(name);
            if seen.get(&base).copied().unwrap_or(0) < 2 {
                return base;
            }
            let suffix = id.short();
            let mut stem = base;
            stem.truncate(MAX_NAME - suffix.len() - 1);
            format!("{}-{suffix}", stem.trim_end_matches('-'))
        })
        .collect()
}

/// Where a skill's source is in its package: `scripts/`, under a name
/// Python can import.
pub fn script_path(name: &str) -> String {
    format!("scripts/{}.py", name.replace('-', "_"))
}

/// The package of `skill`, named `name` (from [`agent_names`]).
pub fn package(skill: &Skill, name: &str) -> Package {
    let m = &skill.manifest;
    let mut metadata = BTreeMap::new();
    metadata.insert("autolearn-name", m.name.clone());
    metadata.insert("autolearn-id", skill.id.as_str().to_owned());
    metadata.insert("autolearn-version", skill.version.to_string());
    metadata.insert("autolearn-trust", format!("{:.1}", skill.trust()));
    let description = cut(&one_line(&m.description), MAX_DESCRIPTION);
    let mut frontmatter = serde_json::Map::new();
    frontmatter.insert("name".into(), name.into());
    frontmatter.insert("description".into(), description.clone().into());
    frontmatter.insert(
        "metadata".into(),
        serde_json::to_value(&metadata).unwrap_or_default(),
    );
    let script = script_path(&m.name);
    let mut md = String::from("---\n");
    md.push_str(&format!("name: {name}\n"));
    md.push_str(&format!("description: {}\n", quoted(&description)));
    md.push_str("metadata:\n");
    for (k, v) in &metadata {
        md.push_str(&format!("  {k}: {}\n", quoted(v)));
    }
    md.push_str("---\n\n");
    md.push_str(&body(skill, &script));
    Package {
        name: name.to_owned(),
        frontmatter,
        files: vec![
            PackageFile {
                path: "SKILL.md".into(),
                mime_type: "text/markdown",
                text: md,
            },
            PackageFile {
                path: script,
                mime_type: "text/x-python",
                text: m.source.clone(),
            },
            PackageFile {
                path: "references/manifest.json".into(),
                mime_type: "application/json",
                text: m.canonical_json(),
            },
        ],
    }
}

/// A YAML double-quoted scalar. JSON's string syntax is YAML's, so a JSON
/// string parses back to the same text whatever it holds.
fn quoted(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `s` cut to at most `max` bytes on a character boundary, marked when cut.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

fn body(skill: &Skill, script: &str) -> String {
    let m = &skill.manifest;
    let k = &skill.kpis;
    let input = example_input(skill);
    let mut out = format!(
        "# {name}\n\n{description}\n\n\
         ## When to use it\n\n\
         When a task matches the description above. It is a verified, deterministic Python function: \
         one call gives the answer in milliseconds, instead of writing and checking the code again.\n\n\
         ## How to call it\n\n\
         - As a tool of the MCP server that serves this skill: `{name}` with the parameters below.\n\
         - Through the server's stable built-in, for clients that do not refresh their tool list: \
         `call_skill` with `{{\"name\": \"{name}\", \"input\": {input}}}`.\n\
         - As Python: `{script}` defines `{entry}(**input)`; on the server it runs in a sandbox \
         (CPython on WebAssembly: no network, no files, bounded time and memory).\n",
        name = m.name,
        description = m.description,
        entry = m.entry,
    );
    if !m.requires.is_empty() {
        let pins: Vec<String> = m
            .requires
            .iter()
            .map(|r| format!("`{}` ({})", r.name, r.id.short()))
            .collect();
        out.push_str(&format!(
            "- It imports other skills of the same server, pinned to the versions it was verified with: {}.\n",
            pins.join(", ")
        ));
    }
    out.push_str("\n## Parameters\n\n");
    out.push_str(&parameters(&m.input_schema));
    if let Some(ty) = m
        .output_schema
        .as_ref()
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
    {
        out.push_str(&format!("\nIt returns a value of type `{ty}`.\n"));
    }
    if !m.examples.is_empty() {
        out.push_str("\n## Examples\n\n");
        for e in m.examples.iter().take(SHOWN_EXAMPLES) {
            out.push_str(&format!(
                "- `{}` → `{}`\n",
                cut(&e.input.to_string(), SHOWN_VALUE),
                cut(&e.output.to_string(), SHOWN_VALUE)
            ));
        }
        if m.examples.len() > SHOWN_EXAMPLES {
            out.push_str(&format!(
                "- and {} more, in `references/manifest.json`\n",
                m.examples.len() - SHOWN_EXAMPLES
            ));
        }
    }
    out.push_str(&format!(
        "\n## Trust\n\n\
         Trust {trust:.1} of 100: version {version}, {provenance}, {status}.\n\n\
         What it was checked against, in the sandbox:\n\n\
         - tests: {passed} of {total} passed ({tests})\n",
        tests = if k.agreement.is_some() {
            "the worked examples, and the edge cases found by running independently written \
             candidates, kept where they agreed"
        } else {
            "its worked examples"
        },
        trust = skill.trust(),
        version = skill.version,
        provenance = skill.provenance,
        status = skill.status,
        passed = k.tests_passed,
        total = k.tests_total,
    ));
    if let Some(a) = k.agreement {
        out.push_str(&format!(
            "- agreement of independently written candidates on those inputs: {:.0} %\n",
            a * 100.0 + 0.0
        ));
    }
    out.push_str(&format!(
        "- line coverage: {:.1} %\n- static findings: {} errors, {} warnings\n\
         - fuel per call: {}\n- deterministic: {}\n",
        k.coverage_percent,
        k.findings_errors,
        k.findings_warnings,
        k.fuel_per_call,
        if k.deterministic { "yes" } else { "no" },
    ));
    out.push_str(&format!(
        "\n## Integrity\n\n\
         `references/manifest.json` is the canonical manifest (name, description, schemas, source, \
         entry, examples) that AutoLearn hashes. The skill's id is \
         `sha256(\"autolearn-skill-v1\\n\" + manifest.json)` = `{id}`.\n",
        id = skill.id
    ));
    out
}

/// An input to show in the call line: the first example's, else `{}`.
fn example_input(skill: &Skill) -> String {
    skill
        .manifest
        .examples
        .first()
        .map(|e| cut(&e.input.to_string(), SHOWN_VALUE))
        .unwrap_or_else(|| "{}".into())
}

/// The input schema's properties as a table.
fn parameters(schema: &Value) -> String {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return "None.\n".into();
    };
    if props.is_empty() {
        return "None.\n".into();
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let cell = |s: &str| one_line(s).replace('|', "\\|");
    let mut out = String::from("| name | type | required | description |\n|---|---|---|---|\n");
    for (name, p) in props {
        let ty = match p.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" or "),
            _ => "any".into(),
        };
        let description = p.get("description").and_then(Value::as_str).unwrap_or("");
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            cell(name),
            cell(&ty),
            if required.contains(&name.as_str()) {
                "yes"
            } else {
                "no"
            },
            cell(&cut(description, SHOWN_VALUE)),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::skills::{Example, Kpis, Provenance, SkillManifest, Status};
    use serde_json::json;

    fn skill(name: &str, description: &str) -> Skill {
        let manifest = SkillManifest {
            memoize: false,
            requires: Vec::new(),
            name: name.into(),
            description: description.into(),
            input_schema: json!({"type": "object", "properties": {"text": {"type": "string", "description": "the | text"}}, "required": ["text"]}),
            output_schema: Some(json!({"type": "object"})),
            source: "def word_stats(text):\n    return {'words': len(text.split())}\n".into(),
            entry: "word_stats".into(),
            examples: vec![Example {
                input: json!({"text": "a b"}),
                output: json!({"words": 2}),
            }],
        };
        Skill {
            id: manifest.id(),
            tenant: "t".into(),
            version: 2,
            parent: None,
            manifest,
            provenance: Provenance::Generated,
            status: Status::Published,
            kpis: Kpis {
                tests_passed: 1,
                tests_total: 1,
                ..Kpis::default()
            },
            created_at: "2026-12-07T00:00:00Z".into(),
        }
    }

    #[test]
    fn names_follow_the_agent_skills_rules() {
        let rule = |n: &str| {
            !n.is_empty()
                && n.len() <= 64
                && !n.contains("--")
                && !n.starts_with('-')
                && !n.ends_with('-')
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        for (name, want) in [
            ("word_stats", "word-stats"),
            ("Word__Stats_", "word-stats"),
            ("a-_b", "a-b"),
            ("x9", "x9"),
        ] {
            assert_eq!(agent_name(name), want);
            assert!(rule(&agent_name(name)), "{name}");
        }
        let long = format!("a{}", "_b".repeat(40));
        assert!(rule(&agent_name(&long)), "{}", agent_name(&long));
    }

    #[test]
    fn names_that_would_collide_are_told_apart_by_id() {
        let a = skill("word_stats", "one");
        let b = skill("Word-Stats", "two");
        let c = skill("other", "three");
        let all = [&a, &b, &c];
        let names = agent_names(all.iter().map(|s| (s.manifest.name.as_str(), &s.id)));
        assert_eq!(names[0], format!("word-stats-{}", a.id.short()));
        assert_eq!(names[1], format!("word-stats-{}", b.id.short()));
        assert_eq!(names[2], "other");
        let long = skill(&format!("a{}", "_b".repeat(40)), "x");
        let twin = skill(&format!("A{}", "-b".repeat(40)), "y");
        let both = [&long, &twin];
        for n in agent_names(both.iter().map(|s| (s.manifest.name.as_str(), &s.id))) {
            assert!(n.len() <= 64 && !n.contains("--"), "{n}");
        }
    }

    /// The front matter as written in SKILL.md parses (as YAML, whose
    /// double-quoted strings are JSON's) to the front matter the listing
    /// states, even when the description holds quotes, colons and
    /// newlines.
    #[test]
    fn front_matter_in_the_file_is_the_listed_one() {
        let s = skill(
            "word_stats",
            "Count words: \"all\" of them.\nAlso # and 'quotes'.",
        );
        let p = package(&s, "word-stats");
        let md = &p.file("SKILL.md").unwrap().text;
        let block = md
            .strip_prefix("---\n")
            .and_then(|r| r.split_once("\n---\n"))
            .unwrap()
            .0;
        let mut parsed = serde_json::Map::new();
        let mut metadata = serde_json::Map::new();
        for line in block.lines() {
            let (key, value) = line.trim_start().split_once(": ").unwrap_or((line, ""));
            let key = key.trim_end_matches(':');
            let value: Value = if value.starts_with('"') {
                serde_json::from_str(value).unwrap()
            } else {
                Value::String(value.into())
            };
            if line.starts_with("  ") {
                metadata.insert(key.into(), value);
            } else if key == "metadata" {
                continue;
            } else {
                parsed.insert(key.into(), value);
            }
        }
        parsed.insert("metadata".into(), metadata.into());
        assert_eq!(parsed, p.frontmatter);
        assert_eq!(
            p.frontmatter["description"],
            "Count words: \"all\" of them. Also # and 'quotes'."
        );
    }

    #[test]
    fn the_manifest_file_hashes_to_the_skill_id() {
        let s = skill("word_stats", "Count words.");
        let p = package(&s, "word-stats");
        let manifest = &p.file("references/manifest.json").unwrap().text;
        assert_eq!(SkillId::of_canonical(manifest), s.id);
        assert_eq!(
            p.file("scripts/word_stats.py").unwrap().text,
            s.manifest.source
        );
        assert_eq!(p.directories(), ["scripts", "references"]);
    }

    #[test]
    fn skill_md_says_how_to_call_it_and_what_it_passed() {
        let s = skill("word_stats", "Count words.");
        let md = package(&s, "word-stats").files[0].text.clone();
        for want in [
            "`call_skill` with `{\"name\": \"word_stats\", \"input\": {\"text\":\"a b\"}}`",
            "| `text` | string | yes | the \\| text |",
            "- `{\"text\":\"a b\"}` → `{\"words\":2}`",
            "tests: 1 of 1 passed (its worked examples)",
            s.id.as_str(),
        ] {
            assert!(md.contains(want), "missing {want:?} in\n{md}");
        }
    }

    #[test]
    fn a_long_description_is_cut_for_the_front_matter_only() {
        let long = "word ".repeat(400);
        let s = skill("word_stats", &long);
        let p = package(&s, "word-stats");
        let d = p.frontmatter["description"].as_str().unwrap();
        assert!(
            d.len() <= MAX_DESCRIPTION && d.ends_with("..."),
            "{}",
            d.len()
        );
        assert!(p.files[0].text.contains(long.trim_end()));
    }
}
