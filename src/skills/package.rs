//! A skill as an Agent Skill: the directory of files a skills-aware client
//! loads by itself (the Agent Skills format, served over MCP by the Skills
//! extension, SEP-2640).
//!
//! Three files, all derived from the stored skill version and nothing else,
//! so every reader computes the same bytes and digests:
//! - `SKILL.md`: YAML front matter (`name`, `description`, `metadata`),
//!   then (`skill_md.rs`) when and how to call the skill, its parameters, examples, trust
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

use super::skill_md::{body, cut, one_line};
use super::{Skill, SkillId};

/// The longest Agent Skills name.
const MAX_NAME: usize = 64;
/// The longest front-matter description Agent Skills allows.
const MAX_DESCRIPTION: usize = 1024;

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::skills::{Example, Kpis, Provenance, SkillManifest, Status};
    use serde_json::json;

    fn skill(name: &str, description: &str) -> Skill {
        let manifest = SkillManifest {
            runtime: Default::default(),
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
