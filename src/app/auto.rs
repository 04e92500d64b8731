//! Automatic crystallization: AutoLearn decides what to keep.
//!
//! A trace that went quiet (no step for a while) or whose session ended is
//! judged once: worth a skill when it ends in a successful, non-trivial
//! computation on inputs, or a small one that several traces repeat
//! ([`crate::learn::auto`]), reproduces
//! deterministically and is not a skill already (crystallization checks
//! those). In `suggest` mode the skill is stored as a draft, offered by
//! `search_skills`; in `publish` mode it becomes a tool when the agent
//! reported one of its results back as its answer (`run_python` with
//! `answer: true`), reproducing that result, and a draft otherwise. Every
//! verdict, with its reason, goes into the learnings log.

use std::time::Duration;

use serde_json::json;

use super::{App, Crystallize, CrystallizeError, Crystallized};
use crate::learn::auto::{PATTERN_TRACES, worth_keeping};
use crate::skills::Status;
use crate::trace::TraceRef;

/// What to do with traces nobody crystallized (`--auto-crystallize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AutoMode {
    /// Leave them.
    Off,
    /// Keep the worthwhile ones as drafts.
    Suggest,
    /// Publish the worthwhile ones.
    Publish,
}

impl App {
    async fn judge(
        &self,
        tenant: &str,
        id: &crate::trace::TraceId,
        mode: AutoMode,
    ) -> serde_json::Value {
        let steps = match self.store.trace_steps(tenant, id).await {
            Ok(s) => s,
            Err(e) => return json!({"kept": false, "reason": format!("unreadable: {e}")}),
        };
        let mut why = "a successful computation on inputs".to_owned();
        if let Err(no) = worth_keeping(&steps) {
            let Some(pattern) = no.pattern else {
                return json!({"kept": false, "reason": no.reason});
            };
            let seen = match self.store.see_pattern(tenant, &pattern).await {
                Ok(n) => n,
                Err(e) => {
                    return json!({"kept": false, "reason": format!("{}; counting its pattern failed: {e}", no.reason)});
                }
            };
            if seen < PATTERN_TRACES {
                return json!({"kept": false, "reason": format!("{} (its pattern is in {seen} of the {PATTERN_TRACES} traces that would make it one)", no.reason), "pattern": pattern});
            }
            why = format!("a pattern seen in {seen} traces");
        }
        // Publish only what the agent reported back as its answer, and
        // reproduce exactly that: a trace whose result nobody confirmed
        // may be a wrong answer, and stays a suggestion.
        let answered = steps.iter().rev().find(|s| s.answer && s.value.is_some());
        let status = match (mode, answered) {
            (AutoMode::Publish, Some(_)) => Status::Published,
            (AutoMode::Publish, None) => {
                why.push_str("; a draft, since the agent reported no result as its answer");
                Status::Draft
            }
            _ => Status::Draft,
        };
        let final_result = answered.and_then(|s| s.value.clone());
        let suffix = &id.as_str()[id.as_str().len().saturating_sub(6)..];
        let request = format!("Learned from what an agent did (trace {id})");
        let name = format!("learned_{}", suffix.to_ascii_lowercase().replace('-', "_"));
        match self
            .traces()
            .crystallize_as(
                tenant,
                &request,
                Crystallize::Trace(TraceRef::Id(id.clone())),
                final_result.as_ref(),
                Some(&name),
                status,
            )
            .await
        {
            Ok(Crystallized::Published(s)) => {
                json!({"kept": true, "reason": why, "skill": s.manifest.name, "status": s.status})
            }
            Ok(Crystallized::Existing(s)) => {
                json!({"kept": false, "reason": format!("already a skill: {}", s.manifest.name)})
            }
            Err(CrystallizeError::Refused(r)) => json!({"kept": false, "reason": r.to_string()}),
            Err(e) => json!({"kept": false, "reason": e.to_string()}),
        }
    }
}

impl super::Traces<'_> {
    /// Judge every trace quiet for `quiet` (or whose session ended), at
    /// most `batch` at a time; returns how many were judged.
    pub async fn judge_quiet(&self, mode: AutoMode, quiet: Duration, batch: usize) -> usize {
        if mode == AutoMode::Off {
            return 0;
        }
        let cutoff = crate::store::now_ms()
            .saturating_sub(i64::try_from(quiet.as_millis()).unwrap_or(i64::MAX));
        let quiet_traces = match self.app.store.quiet_traces(cutoff, batch).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!("finding quiet traces: {e}");
                return 0;
            }
        };
        let judged = quiet_traces.len();
        for (tenant, id) in quiet_traces {
            let verdict = self.app.judge(&tenant, &id, mode).await;
            self.app
                .learn(&tenant, "auto_crystallize", id.as_str(), verdict)
                .await;
            if let Err(e) = self.app.store.mark_judged(&tenant, &id).await {
                tracing::warn!("marking trace {id} judged: {e}");
            }
        }
        judged
    }
}
