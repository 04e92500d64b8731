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
pub fn rank(skills: &[Skill], query: &str, limit: usize) -> Vec<Hit> {
    let mut wanted = terms(query);
    wanted.truncate(MAX_QUERY_TERMS);
    wanted.sort();
    wanted.dedup();
    let exact = query.trim().to_lowercase();
    let n = skills.len() as f64;
    let mut scores = vec![0.0; skills.len()];
    for (field, weight) in FIELDS {
        let docs: Vec<Vec<String>> = skills
            .iter()
            .map(|s| terms(&field_text(s, field)))
            .collect();
        let avg_len = docs.iter().map(Vec::len).sum::<usize>() as f64 / n.max(1.0);
        for term in &wanted {
            let df = docs.iter().filter(|d| d.contains(term)).count() as f64;
            if df == 0.0 {
                continue;
            }
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for (i, doc) in docs.iter().enumerate() {
                let tf = doc.iter().filter(|t| *t == term).count() as f64;
                if tf > 0.0 {
                    let norm = 1.0 - B + B * doc.len() as f64 / avg_len.max(1.0);
                    scores[i] += weight * idf * tf * (K1 + 1.0) / (tf + K1 * norm);
                }
            }
        }
    }
    let mut hits: Vec<Hit> = scores
        .into_iter()
        .enumerate()
        .filter(|(_, s)| *s > 0.0)
        .map(|(index, score)| Hit { index, score })
        .collect();
    for hit in &mut hits {
        if skills[hit.index].manifest.name.to_lowercase() == exact {
            hit.score += 1_000.0;
        }
    }
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
    hits.truncate(limit);
    hits
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
