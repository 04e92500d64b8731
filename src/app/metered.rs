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

/// The language model, as the app uses it; borrowed from the app
/// ([`App::model`]).
#[derive(Clone, Copy)]
pub struct Model<'a> {
    pub(super) app: &'a App,
}

impl App {
    /// The configured language model.
    pub fn model(&self) -> Model<'_> {
        Model { app: self }
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

impl Model<'_> {
    /// The configured model, its tokens counted for `tenant`.
    pub fn for_tenant(&self, tenant: &str) -> Llm {
        Arc::new(Metered {
            inner: self.app.llm.clone(),
            metrics: self.app.metrics.clone(),
            tenant: tenant.to_owned(),
            turns: Some(self.app.turns.clone()),
        })
    }

    /// The language model (the web UI's chat runs the agent with it).
    pub fn llm(&self) -> crate::llm::Llm {
        self.app.llm.clone()
    }

    /// What the language model is.
    pub fn info(&self) -> crate::llm::BackendInfo {
        self.app.llm.info()
    }

    /// Whether a model of our own is configured (else MCP calls may borrow
    /// the client's, through sampling).
    pub fn has_own(&self) -> bool {
        !matches!(self.app.llm.info().backend.as_str(), "none" | "sampling")
    }
}
