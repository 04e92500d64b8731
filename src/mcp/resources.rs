//! The tenant's learnings log, `learnings://recent` (JSON), and the URIs a
//! skill had before the Skills extension served it as an Agent Skill
//! (`agent_skills.rs`): `skill://NAME/source` (Python) and
//! `skill://NAME/doc` (Markdown). They are no longer listed, but still
//! read, so links clients kept go on working.

use rmcp::model::{Resource, ResourceContents, ResourceTemplate};
use serde_json::Value;

use crate::skills::Skill;

/// The learnings log resource.
pub const LEARNINGS: &str = "learnings://recent";

/// The learnings log, as listed.
pub fn learnings() -> Resource {
    Resource::new(LEARNINGS, "learnings")
        .with_description("What AutoLearn learned for you, newest last: attempts, candidates, edge cases, repairs, decisions (hash-chained)")
        .with_mime_type("application/json")
}

/// URI templates for skill resources.
pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new("skill://{name}/SKILL.md", "Agent Skill")
            .with_mime_type("text/markdown"),
        ResourceTemplate::new("skill://{name}/source", "Skill source")
            .with_mime_type("text/x-python"),
        ResourceTemplate::new("skill://{name}/doc", "Skill documentation")
            .with_mime_type("text/markdown"),
    ]
}

/// What a skill URI names.
pub enum Part {
    /// The Python source.
    Source,
    /// The Markdown documentation.
    Doc,
}

/// `skill://NAME/source` → (`NAME`, Source).
pub fn parse(uri: &str) -> Option<(&str, Part)> {
    let rest = uri.strip_prefix("skill://")?;
    let (name, part) = rest.rsplit_once('/')?;
    let part = match part {
        "source" => Part::Source,
        "doc" => Part::Doc,
        _ => return None,
    };
    (!name.is_empty()).then_some((name, part))
}

/// The URIs of a skill, for update notifications: its Agent Skill files
/// (under the name it has when no other skill's name maps to the same)
/// and the legacy pair.
pub fn uris(name: &str) -> [String; 5] {
    use crate::skills::package::{agent_name, script_path};
    let agent = agent_name(name);
    [
        format!("skill://{agent}/SKILL.md"),
        format!("skill://{agent}/{}", script_path(name)),
        format!("skill://{agent}/references/manifest.json"),
        format!("skill://{name}/source"),
        format!("skill://{name}/doc"),
    ]
}

/// Read a part of a skill.
pub fn read(uri: &str, skill: &Skill, part: &Part) -> ResourceContents {
    let (mime, text) = match part {
        Part::Source => ("text/x-python", skill.manifest.source.clone()),
        Part::Doc => ("text/markdown", doc(skill)),
    };
    ResourceContents::TextResourceContents {
        uri: uri.into(),
        mime_type: Some(mime.into()),
        text,
        meta: None,
    }
}

fn doc(s: &Skill) -> String {
    let m = &s.manifest;
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let mut out = format!(
        "# {}\n\n{}\n\n- version {} ({}), id `{}`\n- status: {}\n- entry: `{}`\n\n## Input schema\n\n```json\n{}\n```\n",
        m.name,
        m.description,
        s.version,
        s.provenance,
        s.id,
        s.status,
        m.entry,
        pretty(&m.input_schema)
    );
    if !m.examples.is_empty() {
        out.push_str("\n## Examples\n\n");
        for e in &m.examples {
            out.push_str(&format!("- `{}` → `{}`\n", e.input, e.output));
        }
    }
    let k = &s.kpis;
    out.push_str(&format!(
        "\n## KPIs\n\n- tests passed: {}/{}\n- line coverage: {:.1} %\n- static findings: {} errors, {} warnings\n- fuel per call: {}\n- documented: {}\n",
        k.tests_passed, k.tests_total, k.coverage_percent, k.findings_errors, k.findings_warnings, k.fuel_per_call, k.documented
    ));
    out
}
