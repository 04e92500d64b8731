//! Ranking skills for a query: BM25 over a skill's fields, weighted.
//!
//! An agent that ignores `tools/list_changed` finds a new skill through
//! `search_skills`, so the ranking must surface it from any word the agent
//! is likely to use: its name, its description, its parameter names, the
//! values in its examples. Each field is scored with BM25 (k1 = 1.2,
//! b = 0.75) against that field's own statistics, and the field scores are
//! summed with weights (name 3, parameters 2, description 1, examples 0.5).
//! A query equal to a skill's name ranks that skill first.
//!
//! Pure and bounded: the caller caps the query and the fields (see
//! [`crate::limits`]); the work is linear in the text searched, and runs
//! off the async runtime.

use std::borrow::Borrow;
use std::collections::HashMap;

use crate::skills::Skill;

/// Query terms considered; the rest are ignored.
pub const MAX_QUERY_TERMS: usize = 32;
/// Example text indexed per skill, in bytes.
const EXAMPLE_TEXT_BYTES: usize = 2048;

const K1: f64 = 1.2;
const B: f64 = 0.75;
const FIELDS: [(Field, f64); 4] = [
    (Field::Name, 3.0),
    (Field::Params, 2.0),
    (Field::Description, 1.0),
    (Field::Examples, 0.5),
];

#[derive(Clone, Copy)]
enum Field {
    Name,
    Params,
    Description,
    Examples,
}

/// One ranked skill.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Index into the skills given to [`rank`].
    pub index: usize,
    /// Its score; higher is better.
    pub score: f64,
}

/// Lowercase words of letters and digits; `snake_case` and `kebab-case`
/// split into words; a plural `s` dropped, so "orders" finds "order".
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_lowercase();
            match w.strip_suffix('s') {
                Some(stem) if stem.len() >= 2 && !stem.ends_with('s') => stem.to_owned(),
                _ => w,
            }
        })
        .collect()
}

fn field_text(skill: &Skill, field: Field) -> String {
    let m = &skill.manifest;
    match field {
        Field::Name => m.name.clone(),
        Field::Description => m.description.clone(),
        Field::Params => m
            .input_schema
            .get("properties")
            .and_then(|p| p.as_object())
            .map(|p| p.keys().cloned().collect::<Vec<_>>().join(" "))
            .unwrap_or_default(),
        Field::Examples => {
            let mut text = String::new();
            for e in &m.examples {
                text.push_str(&e.input.to_string());
                text.push(' ');
                text.push_str(&e.output.to_string());
                text.push(' ');
                if text.len() > EXAMPLE_TEXT_BYTES {
                    break;
                }
            }
            crate::text::truncate(&text, EXAMPLE_TEXT_BYTES)
        }
    }
}

/// Skills matching `query`, best first, at most `limit`.
pub fn rank<S: Borrow<Skill>>(skills: &[S], query: &str, limit: usize) -> Vec<Hit> {
    Index::build(skills).rank(query, limit)
}

/// The skills' fields, tokenized once: a catalog of 10,000 skills is
/// searched by looking its query terms up, not by reading every skill.
pub struct Index {
    fields: Vec<(FieldIndex, f64)>,
    names: Vec<String>,
}

struct FieldIndex {
    /// term → (skill, occurrences)
    postings: HashMap<String, Vec<(u32, u32)>>,
    lens: Vec<u32>,
    avg_len: f64,
}

impl Index {
    /// Index `skills`; a hit's `index` points into this slice.
    pub fn build<S: Borrow<Skill>>(skills: &[S]) -> Self {
        let fields = FIELDS
            .iter()
            .map(|&(field, weight)| {
                let mut postings: HashMap<String, Vec<(u32, u32)>> = HashMap::new();
                let mut lens = Vec::with_capacity(skills.len());
                for (i, skill) in skills.iter().enumerate() {
                    let words = terms(&field_text(skill.borrow(), field));
                    lens.push(u32::try_from(words.len()).unwrap_or(u32::MAX));
                    let mut counts: HashMap<String, u32> = HashMap::new();
                    for w in words {
                        *counts.entry(w).or_default() += 1;
                    }
                    let doc = u32::try_from(i).unwrap_or(u32::MAX);
                    for (term, tf) in counts {
                        postings.entry(term).or_default().push((doc, tf));
                    }
                }
                let total: u64 = lens.iter().map(|&l| u64::from(l)).sum();
                let avg_len = total as f64 / (skills.len() as f64).max(1.0);
                (
                    FieldIndex {
                        postings,
                        lens,
                        avg_len,
                    },
                    weight,
                )
            })
            .collect();
        let names = skills
            .iter()
            .map(|s| s.borrow().manifest.name.to_lowercase())
            .collect();
        Self { fields, names }
    }

    /// Skills indexed.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Skills matching `query`, best first, at most `limit`.
    pub fn rank(&self, query: &str, limit: usize) -> Vec<Hit> {
        let mut wanted = terms(query);
        wanted.truncate(MAX_QUERY_TERMS);
        wanted.sort();
        wanted.dedup();
        let exact = query.trim().to_lowercase();
        let n = self.names.len() as f64;
        let mut scores: HashMap<u32, f64> = HashMap::new();
        for (field, weight) in &self.fields {
            for term in &wanted {
                let Some(docs) = field.postings.get(term) else {
                    continue;
                };
                let df = docs.len() as f64;
                let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                for &(doc, tf) in docs {
                    let tf = f64::from(tf);
                    let len = f64::from(field.lens[doc as usize]);
                    let norm = 1.0 - B + B * len / field.avg_len.max(1.0);
                    *scores.entry(doc).or_default() +=
                        weight * idf * tf * (K1 + 1.0) / (tf + K1 * norm);
                }
            }
        }
        let mut hits: Vec<Hit> = scores
            .into_iter()
            .filter(|(_, s)| *s > 0.0)
            .map(|(doc, mut score)| {
                let index = doc as usize;
                if self.names[index] == exact {
                    score += 1_000.0;
                }
                Hit { index, score }
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
        hits.truncate(limit);
        hits
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::skills::{Example, Kpis, Provenance, SkillManifest, Status};
    use serde_json::json;

    fn skill(name: &str, description: &str, params: &[&str]) -> Skill {
        let props: serde_json::Map<String, serde_json::Value> = params
            .iter()
            .map(|p| ((*p).to_owned(), json!({"type": "string"})))
            .collect();
        let manifest = SkillManifest {
            runtime: Default::default(),
            memoize: false,
            requires: Vec::new(),
            name: name.into(),
            description: description.into(),
            input_schema: json!({"type": "object", "properties": props}),
            output_schema: None,
            source: "def f():\n    return 1\n".into(),
            entry: "f".into(),
            examples: vec![Example {
                input: json!({}),
                output: json!("invoice"),
            }],
        };
        Skill {
            id: manifest.id(),
            tenant: "t".into(),
            version: 1,
            parent: None,
            manifest,
            provenance: Provenance::Authored,
            status: Status::Published,
            kpis: Kpis::default(),
            created_at: String::new(),
        }
    }

    fn corpus() -> Vec<Skill> {
        vec![
            skill("word_stats", "Count the words in a text.", &["text"]),
            skill(
                "cidr_split",
                "Split a network into subnets.",
                &["cidr", "prefix_length"],
            ),
            skill(
                "lead_score",
                "Score sales leads by their activity.",
                &["lead"],
            ),
            skill("stats", "Mean and median of numbers.", &["values"]),
        ]
    }

    #[test]
    fn finds_words_only_in_the_description_or_a_parameter() {
        let skills = corpus();
        assert_eq!(rank(&skills, "subnets", 5)[0].index, 1);
        assert_eq!(rank(&skills, "prefix length", 5)[0].index, 1);
        assert_eq!(rank(&skills, "activity", 5)[0].index, 2);
        assert!(rank(&skills, "kubernetes", 5).is_empty());
    }

    #[test]
    fn an_exact_name_ranks_first() {
        let skills = corpus();
        // "stats" is also a word of word_stats' name.
        let hits = rank(&skills, "stats", 5);
        assert_eq!(hits[0].index, 3);
        assert!(hits.iter().any(|h| h.index == 0));
    }

    #[test]
    fn terms_split_identifiers_and_drop_plurals() {
        assert_eq!(
            terms("Orders by_Customer-ids"),
            vec!["order", "by", "customer", "id"]
        );
        assert_eq!(terms("class"), vec!["class"]);
    }
}
