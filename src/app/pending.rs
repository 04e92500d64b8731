//! What a follow-up needs to settle a draft's questions without another
//! model call: the request as the person gave it and every program the
//! pipeline weighed, kept per draft (by its content hash). Bounded per
//! tenant and in all ([`BOUNDS`]); an entry lost to eviction or a restart
//! is rebuilt from the stored draft (its request and the person's own
//! examples), and then the model samples again.

use std::sync::Arc;

use super::{GenerateOutcome, GenerateSkillError};
use crate::learn::generate::{GenerateOptions, GenerateRequest, Settled};
use crate::lru::{Bounds, PartitionedLru};
use crate::skills::SkillId;

/// Drafts kept: 1,024 and 64 MiB in all; 128 and 16 MiB per tenant.
const BOUNDS: Bounds = Bounds {
    entries: 1_024,
    bytes: 64 << 20,
    partition_entries: 128,
    partition_bytes: 16 << 20,
    entry_bytes: 2 << 20,
};

/// A draft's open questions, ready to be settled.
pub(super) struct Pending {
    /// The request, the person's examples and answers so far (building
    /// blocks and context as they were).
    pub request: GenerateRequest,
    /// The programs weighed.
    pub programs: Vec<String>,
}

impl Pending {
    fn bytes(&self) -> usize {
        let r = &self.request;
        r.request.len()
            + serde_json::to_string(&r.examples).map_or(0, |t| t.len())
            + serde_json::to_string(&r.answers).map_or(0, |t| t.len())
            + r.context.iter().map(String::len).sum::<usize>()
            + self.programs.iter().map(String::len).sum::<usize>()
    }
}

/// Every tenant's drafts with open questions.
pub(super) struct PendingDrafts(PartitionedLru<SkillId, Arc<Pending>>);

impl Default for PendingDrafts {
    fn default() -> Self {
        Self(PartitionedLru::new(BOUNDS))
    }
}

impl PendingDrafts {
    pub fn put(&self, tenant: &str, draft: SkillId, pending: Pending) {
        let bytes = pending.bytes();
        self.0.put(tenant, draft, Arc::new(pending), bytes);
    }

    pub fn get(&self, tenant: &str, draft: &SkillId) -> Option<Arc<Pending>> {
        self.0.get(tenant, draft)
    }

    pub fn forget(&self, tenant: &str, draft: &SkillId) {
        self.0.remove(tenant, draft);
    }

    pub fn forget_tenant(&self, tenant: &str) {
        self.0.remove_partition(tenant);
    }
}

impl super::App {
    /// Settle a draft's open questions with the person's `answers` and
    /// decide again: the programs weighed before run first, so when one of
    /// them passes with the answers no model call is made; otherwise the
    /// pipeline samples and repairs as usual. The draft is the one
    /// [`super::App::generate_skill`] kept, named by its id.
    pub async fn settle_draft(
        &self,
        llm: Option<crate::llm::Llm>,
        tenant: &str,
        draft: &SkillId,
        answers: Vec<Settled>,
        opts: GenerateOptions,
    ) -> Result<GenerateOutcome, GenerateSkillError> {
        let Some(pending) = self.pending.get(tenant, draft) else {
            return Err(GenerateSkillError::UnknownDraft(draft.clone()));
        };
        let mut req = pending.request.clone();
        // The person's answers are learnings, as answers given in the loop
        // are (`question`).
        let subject = req
            .name
            .clone()
            .unwrap_or_else(|| crate::text::truncate(&req.request, 80));
        for a in &answers {
            self.learn(
                tenant,
                "question",
                &subject,
                serde_json::json!({"input": a.input, "answer": a.answer, "draft": draft.as_str()}),
            )
            .await;
        }
        // A later answer about the same input replaces an earlier one.
        req.answers
            .retain(|a| !answers.iter().any(|b| b.input == a.input));
        req.answers.extend(answers);
        req.prior = pending.programs.clone();
        let llm = llm.unwrap_or_else(|| self.llm.clone());
        let outcome = self.generate_skill_with(llm, tenant, req, opts).await;
        // Settled: what is still open is kept under the new draft's id
        // (the same id when nothing changed, which stays).
        if let Ok(out) = &outcome
            && out.skill.as_ref().and_then(|s| s["id"].as_str()) != Some(draft.as_str())
        {
            self.pending.forget(tenant, draft);
        }
        outcome
    }

    /// Keep what a follow-up needs for a stored draft with open questions.
    pub(super) fn keep_pending(
        &self,
        tenant: &str,
        draft: SkillId,
        request: GenerateRequest,
        programs: Vec<String>,
    ) {
        self.pending
            .put(tenant, draft, Pending { request, programs });
    }
}
