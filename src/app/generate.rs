//! Skills from plain English: run the generation pipeline, verify the
//! winner with the same gate as every skill, score it, and publish it or
//! keep it as a draft, saying why.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::json;

use super::decision::{self, Decision, Findings};
use super::{AddError, App};
use crate::fault::Internal;
use crate::learn::generate::{
    Asked, EdgeCase, GenerateError, GenerateOptions, GenerateRequest, Progress, Question, Settled,
    generate,
};
use crate::llm::{LlmError, Usage};
use crate::sandbox::ResourceLimits;
use crate::skills::{DEFAULT_FUEL_BUDGET, Provenance, Skill, Status};

/// What generation ended with.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateOutcome {
    /// Whether the skill is published (a tool now).
    pub published: bool,
    /// A draft that its trust would publish, held until the person answers
    /// `questions` on which passing programs return different values.
    pub awaiting_answers: bool,
    /// The skill as stored (published or draft), if it was stored.
    pub skill: Option<serde_json::Value>,
    /// Its trust, 0 to 100.
    pub trust: Option<f64>,
    /// Candidates sampled, repairs included.
    pub candidates: usize,
    /// Inputs where passing candidates disagreed.
    pub edge_cases: Vec<EdgeCase>,
    /// Questions put to the person, with their answers.
    pub asked: Vec<Asked>,
    /// Disputed inputs a person could settle, the most informative first:
    /// answer them as examples and generate again.
    pub questions: Vec<Question>,
    /// Why it is not published, and what would raise its trust.
    pub reasons: Vec<String>,
    /// Model calls made.
    pub llm_calls: u32,
    /// Tokens used.
    pub usage: Usage,
}

/// Generation could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateSkillError {
    /// No model, or the model failed.
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// The request is unusable.
    #[error("{0}")]
    Invalid(String),
    /// Storing or the tenant's share failed.
    #[error(transparent)]
    Add(#[from] AddError),
    /// The tenant used its `generations_per_day`.
    #[error(transparent)]
    Quota(#[from] crate::quota::QuotaExceeded),
    /// No draft with open questions has this id (never, settled already,
    /// or forgotten: the server restarted or kept newer ones).
    #[error(
        "no draft with open questions has the id {0}: it was settled, or the server no longer holds its candidates; call generate_skill again with the request, adding your answers to the examples"
    )]
    UnknownDraft(crate::skills::SkillId),
}

impl crate::fault::Classify for GenerateSkillError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Llm(e) => e.kind(),
            Self::Invalid(_) => "bad_request",
            Self::UnknownDraft(_) => "not_found",
            Self::Add(e) => e.kind(),
            Self::Quota(e) => e.kind(),
        }
    }
    fn fault(&self) -> crate::fault::Fault {
        match self {
            Self::Llm(e) => e.fault(),
            Self::Add(e) => e.fault(),
            _ => crate::fault::Fault::Caller,
        }
    }
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Llm(e) => e.retry_after(),
            Self::Add(e) => e.retry_after(),
            Self::Quota(e) => e.retry_after(),
            Self::Invalid(_) | Self::UnknownDraft(_) => None,
        }
    }
    fn detail(&self) -> serde_json::Map<String, serde_json::Value> {
        match self {
            Self::Add(e) => e.detail(),
            Self::Quota(e) => e.detail(),
            _ => serde_json::Map::new(),
        }
    }
}

impl App {
    /// One `candidate` learning per candidate: its code and how it did on
    /// the examples.
    async fn learn_candidates(&self, tenant: &str, subject: &str, steps: &[Progress]) {
        for step in steps {
            let Progress::Candidate { index, round, code } = step else {
                continue;
            };
            let tested = steps.iter().find_map(|s| match s {
                Progress::Tested {
                    index: i,
                    passed,
                    examples,
                } if i == index => Some(json!({"passed": passed, "of": examples})),
                _ => None,
            });
            self.learn(
                tenant,
                "candidate",
                subject,
                json!({"index": index, "round": round, "code": crate::text::truncate(code, 8 * 1024), "examples": tested}),
            )
            .await;
        }
    }

    /// One `question` learning per question the person answered.
    async fn learn_answers(&self, tenant: &str, subject: &str, asked: &[Asked]) {
        for a in asked {
            self.learn(
                tenant,
                "question",
                subject,
                json!({"call": a.question.call, "choices": a.question.choices, "answer": a.answer}),
            )
            .await;
        }
    }

    /// Generate a skill for `req` with the configured model; publish it
    /// when its trust reaches [`PUBLISH_TRUST`], else keep it as a draft
    /// (unless that would hide a published skill of the same name).
    pub async fn generate_skill(
        &self,
        tenant: &str,
        req: GenerateRequest,
        opts: GenerateOptions,
    ) -> Result<GenerateOutcome, GenerateSkillError> {
        self.generate_skill_with(self.llm.clone(), tenant, req, opts)
            .await
    }

    /// [`App::generate_skill`] with a given model (an MCP client's, say).
    pub async fn generate_skill_with(
        &self,
        llm: crate::llm::Llm,
        tenant: &str,
        req: GenerateRequest,
        opts: GenerateOptions,
    ) -> Result<GenerateOutcome, GenerateSkillError> {
        let llm = self.metered(llm, tenant);
        let answers_later = opts.answers_later;
        let limits = self.limits(tenant).await;
        if req.request.trim().is_empty() || req.request.len() > limits.skill.description_bytes {
            return Err(GenerateSkillError::Invalid(format!(
                "the request must be 1 to {} bytes",
                limits.skill.description_bytes
            )));
        }
        if req.examples.len() + req.answers.len() > limits.skill.examples {
            return Err(GenerateSkillError::Invalid(format!(
                "{} examples and answers, over the limit of {}",
                req.examples.len() + req.answers.len(),
                limits.skill.examples
            )));
        }
        // Counted once the request is known to be usable.
        self.begin_generation(tenant).await?;
        // Every candidate goes into the learnings log, with how it did.
        let steps: Arc<Mutex<Vec<Progress>>> = Arc::default();
        let (outer, sink) = (opts.observer.clone(), steps.clone());
        let opts = GenerateOptions {
            observer: Some(Arc::new(move |p: Progress| {
                if let Some(o) = &outer {
                    o(p.clone());
                }
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(p);
            })),
            ..opts
        };
        let call = ResourceLimits::default();
        let admission = self
            .admit(tenant, &limits, call.deadline)
            .await
            .map_err(AddError::Busy)?;
        let (llm, sandbox, job, run_limits) =
            (llm, self.sandbox.clone(), req.clone(), call.clone());
        let generated = self
            .offload
            .run(async move { generate(llm, &sandbox, &job, opts, &run_limits).await })
            .await
            .map_err(|e| AddError::Internal(Internal::of("the generation worker", e)))?;
        drop(admission);
        let subject = req
            .name
            .clone()
            .unwrap_or_else(|| crate::text::truncate(&req.request, 80));
        self.learn(
            tenant,
            "attempt",
            &subject,
            json!({"source": "generate", "request": crate::text::truncate(&req.request, 1024), "examples": req.examples.len()}),
        )
        .await;
        let steps = std::mem::take(&mut *steps.lock().unwrap_or_else(|e| e.into_inner()));
        self.learn_candidates(tenant, &subject, &steps).await;
        let mut g = match generated {
            Ok(g) => g,
            Err(GenerateError::Llm(e)) => {
                self.learn(tenant, "failure", &subject, json!({"llm": e.to_string()}))
                    .await;
                return Err(e.into());
            }
            Err(GenerateError::NoCandidate {
                candidates,
                mut reasons,
                llm_calls,
                usage,
                asked,
            }) => {
                let shown: Vec<String> = reasons
                    .iter()
                    .take(8)
                    .map(|r| crate::text::truncate(r, 512))
                    .collect();
                self.learn(
                    tenant,
                    "failure",
                    &subject,
                    json!({"candidates": candidates, "reasons": shown, "llm_calls": llm_calls, "usage": usage}),
                )
                .await;
                self.learn_answers(tenant, &subject, &asked).await;
                if !asked.is_empty() {
                    reasons.insert(
                        0,
                        format!(
                            "you answered {} question(s); no candidate, repairs included, agrees with your examples and answers",
                            asked.len()
                        ),
                    );
                }
                return Ok(GenerateOutcome {
                    published: false,
                    awaiting_answers: false,
                    skill: None,
                    trust: None,
                    candidates,
                    edge_cases: Vec::new(),
                    asked,
                    questions: Vec::new(),
                    reasons,
                    llm_calls,
                    usage,
                });
            }
        };
        g.manifest.examples.truncate(limits.skill.examples);
        g.manifest.validate(&limits.skill).map_err(|e| {
            GenerateSkillError::Invalid(format!("the generated skill is invalid: {e}"))
        })?;

        let verification = self.verify_in_share(tenant, &g.manifest).await?;
        let mut kpis = verification.kpis.clone();
        kpis.agreement = Some(g.agreement);
        let trust = kpis.trust(DEFAULT_FUEL_BUDGET);
        let decision = decision::decide(
            verification.passed(),
            trust,
            answers_later,
            &g.open_questions,
        );
        let publish = decision == Decision::Publish;
        let held = matches!(decision, Decision::Hold { .. });
        let findings = Findings {
            kpis: &kpis,
            trust,
            ruled_out: g.ruled_out,
            edge_cases: g.edge_cases.len(),
        };
        let mut reasons = decision::reasons(decision, &findings, &verification.problems);
        let name = g.manifest.name.clone();
        self.learn(
            tenant,
            "candidates",
            &name,
            json!({"sampled": g.candidates, "agreement": g.agreement, "llm_calls": g.llm_calls, "usage": g.usage}),
        )
        .await;
        if g.repair_rounds > 0 {
            self.learn(tenant, "repair", &name, json!({"rounds": g.repair_rounds}))
                .await;
        }
        self.learn_answers(tenant, &name, &g.asked).await;
        for e in g.edge_cases.iter().take(8) {
            self.learn(
                tenant,
                "edge_case",
                &name,
                json!({"input": e.input, "agreed": e.agreed, "outcomes": e.outcomes}),
            )
            .await;
        }
        self.learn(
            tenant,
            "decision",
            &name,
            json!({"source": "generate", "published": publish, "held_for_answers": held, "trust": trust, "reasons": reasons}),
        )
        .await;
        let status = if publish {
            Status::Published
        } else {
            Status::Draft
        };
        let stored = self
            .store_verified(tenant, &g.manifest, Provenance::Generated, status, &kpis)
            .await?;
        if stored.is_none() {
            reasons.push(format!(
                "not stored: a published skill named {:?} exists and a draft must not replace it",
                g.manifest.name
            ));
        }
        let stored = stored.map(|i| i.skill().clone());
        if let Some(draft) = stored.as_ref().filter(|s| s.status == Status::Draft)
            && !g.open_questions.is_empty()
        {
            let mut request = req;
            request.answers.extend(g.asked.iter().filter_map(|a| {
                a.answer.clone().map(|answer| Settled {
                    input: a.question.input.clone(),
                    answer,
                })
            }));
            request.prior = Vec::new();
            self.keep_pending(tenant, draft.id.clone(), request, g.programs);
            reasons.push(format!(
                "to settle the questions, call generate_skill with draft {:?} and your answers: no new model call is needed when a candidate already agrees with them",
                draft.id.as_str()
            ));
        }
        Ok(GenerateOutcome {
            published: publish,
            awaiting_answers: held && stored.is_some(),
            skill: stored.as_ref().map(Skill::summary),
            trust: Some(trust),
            candidates: g.candidates,
            edge_cases: g.edge_cases,
            asked: g.asked,
            questions: g.open_questions,
            reasons,
            llm_calls: g.llm_calls,
            usage: g.usage,
        })
    }
}
