//! `autolearn trace ...`: what agents did, as the store keeps it.

use serde_json::json;

use super::{Failure, TraceCommand, open_store};
use crate::config::Paths;
use crate::trace::TraceId;

/// Run one `trace` subcommand.
pub(super) async fn run(paths: &Paths, cmd: TraceCommand) -> Result<(), Failure> {
    let store = open_store(paths).await?;
    let failed = |e: crate::store::StoreError| Failure::from(e);
    match cmd {
        TraceCommand::List {
            tenant,
            limit,
            json,
        } => {
            let traces = store.list_traces(&tenant, limit).await.map_err(failed)?;
            if json {
                println!("{}", serde_json::to_string(&traces).unwrap_or_default());
            } else if traces.is_empty() {
                println!("no traces yet: run_python steps are recorded as agents work");
            } else {
                println!(
                    "{:<28} {:<9} {:>5}  {:<7} SKILL",
                    "ID", "KIND", "STEPS", "STATE"
                );
                for t in &traces {
                    let state = if t.closed { "closed" } else { "open" };
                    println!(
                        "{:<28} {:<9} {:>5}  {:<7} {}",
                        t.id,
                        t.kind,
                        t.steps,
                        state,
                        t.skill.as_deref().unwrap_or("-")
                    );
                }
            }
            Ok(())
        }
        TraceCommand::Show { id, tenant } => {
            let id: TraceId = id.parse().map_err(|e: String| Failure::usage("usage", e))?;
            let Some(summary) = store.trace_summary(&tenant, &id).await.map_err(failed)? else {
                return Err(Failure::usage("not_found", format!("no trace {id:?}")));
            };
            let steps = store.trace_steps(&tenant, &id).await.map_err(failed)?;
            let text = serde_json::to_string_pretty(&json!({"trace": summary, "steps": steps}))
                .unwrap_or_default();
            println!("{text}");
            Ok(())
        }
    }
}
