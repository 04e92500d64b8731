//! `autolearn skill ...`: add, run, list, show, generate, crystallize and
//! review skills.

use serde_json::{Value, json};

use super::{Failure, LlmArgs, ReviewVerdict, SkillCommand, open, open_store, parse_json};
use crate::app::{Crystallize, Crystallized, Review};
use crate::config::Paths;
use crate::learn::generate::GenerateRequest;
use crate::sandbox::Determinism;
use crate::skills::{
    DEFAULT_TENANT, Example, Provenance, SkillId, SkillManifest, infer_input_schema,
};
use crate::store::Inserted;
use crate::trace::{TraceId, TraceRef};

/// Run one `skill` subcommand.
pub(super) async fn run(paths: &Paths, llm: &LlmArgs, cmd: SkillCommand) -> Result<(), Failure> {
    match cmd {
        SkillCommand::Add {
            file,
            name,
            entry,
            description,
            input_schema,
            examples,
            memoize,
            runtime,
        } => {
            let source = std::fs::read_to_string(&file).map_err(|e| {
                Failure::usage("usage", format!("cannot read {}: {e}", file.display()))
            })?;
            let examples = parse_examples(examples.as_deref())?;
            let input_schema = match input_schema {
                Some(text) => parse_json("--input-schema", &text)?,
                None => infer_input_schema(examples.iter().map(|e| &e.input)),
            };
            let manifest = SkillManifest {
                runtime,
                memoize,
                requires: Vec::new(),
                name,
                description,
                input_schema,
                output_schema: None,
                source,
                entry,
                examples,
            };
            let app = open(paths).await?;
            match app
                .skills()
                .add(DEFAULT_TENANT, manifest, Provenance::Authored)
                .await
            {
                Ok((inserted, _)) => {
                    if let Inserted::Existing(s) = &inserted {
                        eprintln!(
                            "autolearn: skill {} v{} already has this content",
                            s.manifest.name, s.version
                        );
                    }
                    println!("{}", inserted.skill().id);
                    Ok(())
                }
                Err(e) => Err(e.into()),
            }
        }
        SkillCommand::Run {
            name,
            input,
            limits,
        } => {
            let input = parse_json("--input", &input)?;
            let app = open(paths).await?;
            let determinism = limits.seed.map_or(Determinism::Live, Determinism::Seeded);
            match app
                .calls()
                .run(DEFAULT_TENANT, &name, &input, limits.limits(), determinism)
                .await
            {
                Ok(r) => {
                    if !r.output.stdout.is_empty() {
                        eprint!("{}", r.output.stdout);
                    }
                    println!("{}", r.output.json);
                    Ok(())
                }
                Err(e) => Err(e.into()),
            }
        }
        SkillCommand::List { json } => {
            let store = open_store(paths).await?;
            let skills = store.list(DEFAULT_TENANT).await?;
            if json {
                let rows: Vec<Value> = skills.iter().map(crate::skills::Skill::summary).collect();
                println!("{}", Value::Array(rows));
            } else if skills.is_empty() {
                println!(
                    "no skills yet: add one with `autolearn skill add FILE --name NAME --entry FUNC`"
                );
            } else {
                println!(
                    "{:<24} {:>3}  {:<10} {:<12}  DESCRIPTION",
                    "NAME", "VER", "STATUS", "ID"
                );
                for s in &skills {
                    println!(
                        "{:<24} {:>3}  {:<10} {:<12}  {}",
                        s.manifest.name,
                        s.version,
                        s.status,
                        s.id.short(),
                        s.manifest.description.lines().next().unwrap_or("")
                    );
                }
            }
            Ok(())
        }
        SkillCommand::Generate {
            request,
            examples,
            name,
            candidates,
            json,
            no_ask,
            runtime,
        } => {
            let req = GenerateRequest {
                request,
                examples: parse_examples(examples.as_deref())?,
                name,
                runtime,
                ..Default::default()
            };
            super::generate::run(paths, llm, req, candidates, json, !no_ask).await
        }
        SkillCommand::Crystallize {
            trace,
            request,
            name,
            tenant,
        } => {
            let id: TraceId = trace
                .parse()
                .map_err(|e: String| Failure::usage("usage", e))?;
            let app = open(paths).await?;
            let from = Crystallize::Trace(TraceRef::Id(id));
            match app
                .traces()
                .crystallize(&tenant, &request, from, None, name.as_deref())
                .await
            {
                Ok(Crystallized::Published(s)) => {
                    println!("{}", json!({"published": true, "skill": s.summary()}));
                    Ok(())
                }
                Ok(Crystallized::Existing(s)) => {
                    println!(
                        "{}",
                        json!({"published": false, "existing": true, "skill": s.summary()})
                    );
                    Ok(())
                }
                Err(e) => Err(e.into()),
            }
        }
        SkillCommand::Review {
            name,
            verdict,
            id,
            note,
            tenant,
        } => {
            let seen: Option<SkillId> = id
                .map(|i| i.parse())
                .transpose()
                .map_err(|e: crate::skills::SkillIdError| Failure::usage("usage", e.to_string()))?;
            let review = match verdict {
                ReviewVerdict::Correct => Review::Correct,
                ReviewVerdict::Wrong => Review::Wrong,
            };
            let app = open(paths).await?;
            let now = app
                .skills()
                .review(&tenant, &name, seen.as_ref(), review, note.as_deref())
                .await?;
            println!("{}", now.summary());
            Ok(())
        }
        SkillCommand::Show { name } => {
            let store = open_store(paths).await?;
            match store.latest(DEFAULT_TENANT, &name).await {
                Ok(s) => {
                    let text = serde_json::to_string_pretty(&s.detail()).unwrap_or_default();
                    println!("{text}");
                    Ok(())
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// `--examples`: a JSON array of `{"input": {...}, "output": ...}`.
fn parse_examples(text: Option<&str>) -> Result<Vec<Example>, Failure> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    serde_json::from_value(parse_json("--examples", text)?).map_err(|e| {
        Failure::usage(
            "usage",
            format!("--examples must be [{{\"input\": {{..}}, \"output\": ..}}]: {e}"),
        )
    })
}
