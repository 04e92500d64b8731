//! The steps of a plan, each a real piece of the pipeline (see
//! [`super::plan`]). A step returns its status and what it measured; the
//! caller records both, so a restart loses at most the step in flight.

use serde_json::{Value, json};

use super::curriculum::Goal;
use super::state::ProjectState;
use crate::app::App;
use crate::learn::edges::{edge_inputs, mutations};
use crate::learn::generate::{BuildingBlock, GenerateOptions, GenerateRequest};
use crate::sandbox::{CallError, Determinism, ErrorKind, ResourceLimits, SkillCode};
use crate::skills::{Requirement, Skill, Status};

/// A step's outcome: `done`, `failed` (may be retried) and its result.
pub struct Outcome {
    /// `done` or `failed`.
    pub status: &'static str,
    /// What the step measured.
    pub result: Value,
}

fn done(result: Value) -> Outcome {
    Outcome {
        status: "done",
        result,
    }
}

fn failed(result: Value) -> Outcome {
    Outcome {
        status: "failed",
        result,
    }
}

/// The goal's published skill, if it has one.
pub async fn published(app: &App, tenant: &str, goal: &str) -> Option<Skill> {
    app.skills()
        .get(tenant, goal)
        .await
        .ok()
        .filter(|s| s.status == Status::Published)
}

/// Phase 1: what is already known that bears on the goal: related
/// published skills, the edge cases recorded about them and about the
/// goal's prerequisites, and the signature its examples imply.
pub async fn research(app: &App, tenant: &str, goal: &Goal) -> Outcome {
    let mut context = Vec::new();
    let mut related = Vec::new();
    if let Ok(hits) = app.skills().search(tenant, &goal.request, 4).await {
        for (skill, _) in hits {
            let m = &skill.manifest;
            if m.name == goal.id || skill.status != Status::Published {
                continue;
            }
            context.push(format!(
                "a related skill exists: {} ({})",
                m.name,
                crate::text::truncate(&m.description, 160)
            ));
            related.push(m.name.clone());
        }
    }
    let mut edge_cases = 0;
    for name in goal.requires.iter().chain(&related) {
        let Ok(seen) = app.skills().notes(tenant, name, 50).await else {
            continue;
        };
        for l in seen.iter().filter(|l| l.kind == "edge_case").take(3) {
            edge_cases += 1;
            context.push(format!(
                "{name} met an edge case: input {} {}",
                crate::text::quote(&l.detail["input"]),
                match l.detail.get("error") {
                    Some(e) => format!("raised {}", e.as_str().unwrap_or("an error")),
                    None => format!("gives {}", crate::text::quote(&l.detail["agreed"])),
                }
            ));
        }
    }
    let parameters: Vec<&String> = goal
        .examples
        .first()
        .and_then(|e| e.input.as_object())
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    let result = json!({"related": related, "edge_cases": edge_cases, "context": context, "parameters": parameters});
    app.learn(tenant, "research", &goal.id, result.clone())
        .await;
    done(result)
}

/// Phases 2 and 3: generate, verify and (at trust ≥ 70) publish the goal's
/// skill, with its trusted prerequisites importable, pinned by hash, and
/// what research found given as context.
pub async fn implement(
    app: &App,
    tenant: &str,
    state: &ProjectState<'_>,
    goal: &Goal,
    opts: GenerateOptions,
    previous: Option<&Value>,
) -> Outcome {
    let mut blocks = Vec::new();
    for r in &goal.requires {
        let Some(skill) = published(app, tenant, r).await else {
            return failed(json!({"error": format!("prerequisite {r} has no published skill")}));
        };
        let params: Vec<String> = skill.manifest.input_schema["properties"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        blocks.push(BuildingBlock {
            requirement: Requirement {
                name: r.clone(),
                id: skill.id.clone(),
            },
            signature: format!("{}({})", r, params.join(", ")),
            description: skill.manifest.description.clone(),
        });
    }
    let requires: Vec<Requirement> = blocks.iter().map(|b| b.requirement.clone()).collect();
    let deps = match app.skills().closure(tenant, &goal.id, &requires).await {
        Ok(d) => d,
        Err(e) => return failed(json!({"error": e.to_string()})),
    };
    let context = state
        .result(super::plan::Phase::ResearchDesign, &goal.id)
        .and_then(|r| r["context"].as_array())
        .map(|c| {
            c.iter()
                .filter_map(|l| l.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let req = GenerateRequest {
        request: goal.request.clone(),
        examples: goal.examples.clone(),
        name: Some(goal.id.clone()),
        runtime: Some(goal.runtime),
        building_blocks: blocks,
        deps,
        context,
        ..Default::default()
    };
    let before = |field: &str| previous.and_then(|p| p[field].as_u64()).unwrap_or(0);
    match app.generate_skill(tenant, req, opts).await {
        Ok(out) => {
            let result = json!({
                "published": out.published,
                "trust": out.trust,
                "skill_id": out.skill.as_ref().map(|s| s["id"].clone()),
                "candidates": out.candidates,
                "candidates_total": before("candidates_total") + out.candidates as u64,
                "edge_cases": out.edge_cases.len(),
                "edge_cases_total": before("edge_cases_total") + out.edge_cases.len() as u64,
                "llm_calls": out.llm_calls,
                "tokens": out.usage.prompt_tokens + out.usage.completion_tokens,
                "reasons": out.reasons.iter().take(3).collect::<Vec<_>>(),
            });
            if out.published {
                done(result)
            } else {
                failed(result)
            }
        }
        Err(e) => failed(json!({
            "error": crate::text::truncate(&e.to_string(), 400),
            "candidates_total": before("candidates_total"),
            "edge_cases_total": before("edge_cases_total"),
        })),
    }
}

/// Inputs phase 4 probes a skill with, beyond its examples.
const PROBES: usize = 24;

/// A failure that says the skill broke, rather than refused: a deliberate
/// `ValueError`/`TypeError`, or an input the signature rejects, is not one.
fn broke(e: &CallError) -> Option<String> {
    match e {
        CallError::Guest(f)
            if f.kind == ErrorKind::Exception
                && matches!(f.error_type.as_str(), "ValueError" | "TypeError") =>
        {
            None
        }
        CallError::BadInput(_) => None,
        CallError::Guest(f) if f.kind == ErrorKind::BadInput => None,
        CallError::Guest(f) => Some(f.error_type.clone()),
        other => Some(other.kind().as_str().to_owned()),
    }
}

/// Phase 4: probe the published skill with edge inputs from its schema and
/// mutations of its examples (a crash is an edge case found and recorded);
/// then run the held-back tests, once, to measure: they are never shown to
/// the generator.
pub async fn test(app: &App, tenant: &str, goal: &Goal) -> Outcome {
    let Some(skill) = published(app, tenant, &goal.id).await else {
        return failed(json!({"error": "no published skill"}));
    };
    let deps = match app.skills().dependencies(tenant, &skill.manifest).await {
        Ok(d) => d,
        Err(e) => return failed(json!({"error": e.to_string()})),
    };
    let m = &skill.manifest;
    let code = SkillCode {
        name: &m.name,
        source: &m.source,
        entry: &m.entry,
        deps: &deps,
        runtime: m.runtime,
    };
    let base = m
        .examples
        .first()
        .and_then(|e| e.input.as_object())
        .cloned()
        .unwrap_or_default();
    let known: Vec<&Value> = m.examples.iter().map(|e| &e.input).collect();
    let mut probes: Vec<Value> = Vec::new();
    for input in m
        .examples
        .iter()
        .take(4)
        .flat_map(|e| mutations(&e.input))
        .chain(edge_inputs(&m.input_schema, &base))
    {
        if probes.len() >= PROBES {
            break;
        }
        if !known.contains(&&input) && !probes.contains(&input) {
            probes.push(input);
        }
    }
    let limits = ResourceLimits::default();
    let mut found = 0u64;
    for input in &probes {
        let run = app
            .calls()
            .try_code(tenant, code, input, &limits, Determinism::Seeded(0))
            .await;
        if let Err(e) = run
            && let Some(error) = broke(&e)
        {
            found += 1;
            if found <= 8 {
                app.learn(
                    tenant,
                    "edge_case",
                    &goal.id,
                    json!({"input": input, "error": error, "message": crate::text::truncate(&e.to_string(), 300), "phase": 4}),
                )
                .await;
            }
        }
    }
    let held_back = app.calls().grade(code, &goal.tests).await;
    app.learn(
        tenant,
        "held_back",
        &goal.id,
        json!({"skill_id": skill.id, "passed": held_back.passed, "total": held_back.total}),
    )
    .await;
    done(json!({
        "skill_id": skill.id,
        "edge_inputs": probes.len(),
        "edge_cases_found": found,
        "held_back_passed": held_back.passed,
        "held_back_total": held_back.total,
    }))
}

/// Phase 5, per goal: the skill's documentation, listing the edge cases it
/// was hardened against (inputs where candidates disagreed, settled by
/// agreement and kept as regression examples) and those it still fails.
pub async fn document(app: &App, tenant: &str, goal: &Goal) -> Outcome {
    let Some(skill) = published(app, tenant, &goal.id).await else {
        return failed(json!({"error": "no published skill"}));
    };
    let m = &skill.manifest;
    let seen = app
        .skills()
        .notes(tenant, &goal.id, 200)
        .await
        .unwrap_or_default();
    let edge: Vec<&Value> = seen
        .iter()
        .filter(|l| l.kind == "edge_case")
        .map(|l| &l.detail)
        .collect();
    let hardened: Vec<String> = edge
        .iter()
        .filter(|d| d.get("agreed").is_some())
        .take(12)
        .map(|d| {
            format!(
                "- `{}` → {}",
                crate::text::truncate(&d["input"].to_string(), 200),
                crate::text::truncate(&d["agreed"].to_string(), 200)
            )
        })
        .collect();
    let failing: Vec<String> = edge
        .iter()
        .filter(|d| d.get("error").is_some())
        .take(12)
        .map(|d| {
            format!(
                "- `{}` raises {}",
                crate::text::truncate(&d["input"].to_string(), 200),
                d["error"].as_str().unwrap_or("an error")
            )
        })
        .collect();
    let params: Vec<String> = m.input_schema["properties"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    format!(
                        "- `{k}` ({}): {}",
                        v["type"].as_str().unwrap_or("any"),
                        v["description"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut doc = format!(
        "# {}\n\n{}\n\nRequest: {}\n\n## Parameters\n{}\n",
        m.name,
        m.description,
        goal.request,
        params.join("\n")
    );
    if !m.requires.is_empty() {
        doc.push_str("\n## Builds on\n");
        for r in &m.requires {
            doc.push_str(&format!("- `{}` at version `{}`\n", r.name, r.id.short()));
        }
    }
    doc.push_str("\n## Examples\n");
    for e in m.examples.iter().take(8) {
        doc.push_str(&format!(
            "- `{}` → `{}`\n",
            crate::text::truncate(&e.input.to_string(), 200),
            crate::text::truncate(&e.output.to_string(), 200)
        ));
    }
    doc.push_str("\n## Edge cases it was hardened against\n");
    doc.push_str(&if hardened.is_empty() {
        "None found: every passing candidate agreed on every input.\n".to_owned()
    } else {
        hardened.join("\n") + "\n"
    });
    if !failing.is_empty() {
        doc.push_str("\n## Inputs it still fails on\n");
        doc.push_str(&(failing.join("\n") + "\n"));
    }
    if let Err(e) = app.skills().put_doc(tenant, &skill.id, &doc).await {
        return failed(json!({"error": e.to_string()}));
    }
    done(
        json!({"skill_id": skill.id, "hardened": hardened.len(), "known_failures": failing.len(), "doc_bytes": doc.len()}),
    )
}
