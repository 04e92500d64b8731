//! A language model whose tokens are counted for a tenant
//! (`autolearn_llm_tokens_total` in `/metrics`): every path that spends
//! tokens on a tenant's behalf (generation, practice, refining a
//! crystallized skill, the web chat) asks for its model through
//! [`App::llm_for`].

use std::sync::Arc;

use super::App;
use super::turns::ModelTurns;
use crate::llm::{BackendInfo, ChatFuture, ChatManyFuture, ChatModel, ChatRequest, Llm};
use crate::metrics::Metrics;

struct Metered {
    inner: Llm,
    metrics: Arc<Metrics>,
    tenant: String,
    /// Fair turns at the configured model (none for a client's own model,
    /// reached through sampling).
    turns: Option<Arc<ModelTurns>>,
}

impl ChatModel for Metered {
    fn info(&self) -> BackendInfo {
        self.inner.info()
    }

    fn chat(&self, request: ChatRequest) -> ChatFuture<'_> {
        Box::pin(async move {
            let _turn = self.turn().await;
            let r = self.inner.chat(request).await;
            if let Ok(r) = &r {
                self.count(r);
            }
            r
        })
    }

    fn chat_many(&self, request: ChatRequest, temperatures: Vec<f32>) -> ChatManyFuture<'_> {
        Box::pin(async move {
            let _turn = self.turn().await;
            let answers = self.inner.chat_many(request, temperatures).await;
            for r in answers.iter().flatten() {
                self.count(r);
            }
            answers
        })
    }
}

impl Metered {
    async fn turn(&self) -> Option<super::turns::Turn> {
        match &self.turns {
            Some(turns) => turns.turn(&self.tenant).await,
            None => None,
        }
    }

    fn count(&self, r: &crate::llm::ChatResponse) {
        self.metrics.llm_tokens(
            &self.tenant,
            r.usage.prompt_tokens,
            r.usage.completion_tokens,
        );
    }
}

impl App {
    /// The configured model, its tokens counted for `tenant`.
    pub fn llm_for(&self, tenant: &str) -> Llm {
        Arc::new(Metered {
            inner: self.llm.clone(),
            metrics: self.metrics.clone(),
            tenant: tenant.to_owned(),
            turns: Some(self.turns.clone()),
        })
    }

    /// `llm` (the configured one, or an MCP client's), its tokens counted
    /// for `tenant`.
    pub(crate) fn metered(&self, llm: Llm, tenant: &str) -> Llm {
        Arc::new(Metered {
            inner: llm,
            metrics: self.metrics.clone(),
            tenant: tenant.to_owned(),
            turns: None,
        })
    }
}

/// Fair turns for `llm`: the embedded model decodes one request at a time;
/// a remote endpoint is asked at most 16 at once by this process, 4 of them
/// one tenant's.
pub(super) fn turns_for(llm: &Llm) -> ModelTurns {
    match llm.info().backend.as_str() {
        "local" => ModelTurns::new(1, 1),
        _ => ModelTurns::new(16, 4),
    }
}
