//! A language model whose tokens are counted for a tenant
//! (`autolearn_llm_tokens_total` in `/metrics`): every path that spends
//! tokens on a tenant's behalf (generation, practice, refining a
//! crystallized skill, the web chat) asks for its model through
//! [`App::llm_for`].

use std::sync::Arc;

use super::App;
use crate::llm::{BackendInfo, ChatFuture, ChatManyFuture, ChatModel, ChatRequest, Llm};
use crate::metrics::Metrics;

struct Metered {
    inner: Llm,
    metrics: Arc<Metrics>,
    tenant: String,
}

impl ChatModel for Metered {
    fn info(&self) -> BackendInfo {
        self.inner.info()
    }

    fn chat(&self, request: ChatRequest) -> ChatFuture<'_> {
        Box::pin(async move {
            let r = self.inner.chat(request).await;
            if let Ok(r) = &r {
                self.count(r);
            }
            r
        })
    }

    fn chat_many(&self, request: ChatRequest, temperatures: Vec<f32>) -> ChatManyFuture<'_> {
        Box::pin(async move {
            let answers = self.inner.chat_many(request, temperatures).await;
            for r in answers.iter().flatten() {
                self.count(r);
            }
            answers
        })
    }
}

impl Metered {
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
        self.metered(self.llm.clone(), tenant)
    }

    /// `llm` (the configured one, or an MCP client's), its tokens counted
    /// for `tenant`.
    pub(crate) fn metered(&self, llm: Llm, tenant: &str) -> Llm {
        Arc::new(Metered {
            inner: llm,
            metrics: self.metrics.clone(),
            tenant: tenant.to_owned(),
        })
    }
}
