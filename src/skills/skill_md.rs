//! The body of a skill's `SKILL.md` (after the front matter): when to use
//! it, how to call it, its parameters, examples, trust and integrity.
//! Every shown value is cut to a bound, so the file stays small whatever
//! the skill holds (its manifest has everything in full).

use serde_json::Value;

use super::Skill;

/// Examples shown in `SKILL.md` (all of them are in the manifest).
const SHOWN_EXAMPLES: usize = 8;
/// A value shown in `SKILL.md` longer than this is cut, with a mark.
const SHOWN_VALUE: usize = 400;

/// `s` with every run of whitespace as one space.
pub(super) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `s` cut to at most `max` bytes on a character boundary, marked when cut.
pub(super) fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// The Markdown after the front matter; `script` is the source's path.
pub(super) fn body(skill: &Skill, script: &str) -> String {
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
