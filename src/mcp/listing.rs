//! How the catalog reads as MCP lists: a skill as a tool (its output
//! schema made an object, as MCP requires), pages of a tenant's catalog
//! with opaque cursors, and the instructions the server gives an agent.

use std::sync::Arc;

use rmcp::ErrorData as McpError;
use rmcp::model::{JsonObject, PaginatedRequestParams, Tool, ToolAnnotations};
use serde_json::{Value, json};

use crate::skills::Skill;

/// A tool's output schema describes its `structuredContent`, which MCP
/// requires to be an object: a skill whose result is not an object is
/// answered as `{"result": value}`, and its schema says so.
fn structured_schema(out: &Value) -> JsonObject {
    if out.get("type").and_then(Value::as_str) == Some("object") {
        return out.as_object().cloned().unwrap_or_default();
    }
    json!({"type": "object", "properties": {"result": out}, "required": ["result"]})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// What the server tells an agent about itself, the model included.
pub(super) fn instructions(llm: &crate::llm::BackendInfo) -> String {
    let model = match (&llm.backend[..], &llm.reasoning_model) {
        ("none", _) => "No language model is configured, so generate_skill is unavailable; everything else works.".to_owned(),
        (backend, Some(m)) => format!("generate_skill writes new skills with the {backend} model {m}."),
        (backend, None) => format!("generate_skill writes new skills with the {backend} backend."),
    };
    format!(
        "AutoLearn learns skills. Before solving a task step by step, look for a skill with search_skills and \
         run it with call_skill. Otherwise work it out with run_python (pass data through `inputs`), then call \
         crystallize: the steps become a verified tool you can call directly next time, in milliseconds. {model}"
    )
}

/// Where a page starts: the request's cursor (an offset we gave out, at
/// most `total`), or 0.
pub(super) fn offset(
    request: Option<PaginatedRequestParams>,
    total: usize,
) -> Result<usize, McpError> {
    match request.and_then(|r| r.cursor) {
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= total)
            .ok_or_else(|| McpError::invalid_params(format!("invalid cursor {c:?}"), None)),
        None => Ok(0),
    }
}

/// One page of a list made of `fixed`, then the items of each published
/// skill in name order (`per_skill` gives a skill's items, always as many,
/// from the skill and its Agent Skills name).
/// A cursor is an offset into the whole list; only the page's skills are
/// turned into items, so a page costs the same at 10 or 10,000 skills.
pub(super) fn page<T, I>(
    mut fixed: Vec<T>,
    catalog: &crate::app::Catalog,
    size: usize,
    request: Option<PaginatedRequestParams>,
    per_skill: impl Fn(&Skill, &str) -> I,
) -> Result<(Vec<T>, Option<String>), McpError>
where
    I: IntoIterator<Item = T>,
{
    let each = catalog
        .published_agent_skills()
        .next()
        .map_or(1, |(s, n)| per_skill(s, n).into_iter().count().max(1));
    let total = fixed.len() + each * catalog.published_len();
    let start = offset(request, total)?;
    let end = (start + size).min(total);
    let next = (end < total).then(|| end.to_string());
    let first = start.saturating_sub(fixed.len());
    let last = end.saturating_sub(fixed.len());
    let mut page: Vec<T> = fixed
        .drain(start.min(fixed.len())..end.min(fixed.len()))
        .collect();
    page.extend(
        catalog
            .published_agent_skills()
            .skip(first / each)
            .take((last - first).div_ceil(each) + 1)
            .flat_map(|(s, n)| per_skill(s, n))
            .skip(first % each)
            .take(last - first),
    );
    Ok((page, next))
}

pub(super) fn skill_tool(s: &Skill) -> Tool {
    let schema = s
        .manifest
        .input_schema
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut tool = Tool::new(
        s.manifest.name.clone(),
        s.manifest.description.clone(),
        Arc::new(schema),
    )
    // Skills run sandboxed with no I/O: reading and re-running is safe.
    .annotate(
        ToolAnnotations::new()
            .read_only(true)
            .destructive(false)
            .idempotent(true)
            .open_world(false),
    );
    if let Some(out) = &s.manifest.output_schema {
        tool = tool.with_raw_output_schema(Arc::new(structured_schema(out)));
    }
    // What verification measured, for clients that show or rank tools.
    let mut meta = JsonObject::new();
    meta.insert(
        "autolearn/skill".into(),
        json!({
            "id": s.id, "version": s.version, "provenance": s.provenance,
            "trust": s.trust(), "kpis": s.kpis,
        }),
    );
    tool.meta = Some(rmcp::model::MetaObject(meta));
    tool
}
