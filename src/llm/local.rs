//! The embedded local model: llama.cpp in-process (through `llama-cpp-2`),
//! no cloud and no server to install.
//!
//! The model is loaded once; each request gets its own context, with the
//! model's own chat template, on all cores, one request at a time (two
//! cores do not run two decodes faster than one). A small model needs its
//! output constrained: JSON answers are sampled under a grammar made from
//! the requested schema, and code answers under a grammar that forces one
//! fenced Python function (asking a small model for code inside a JSON
//! string makes it write worse code and close the string early).

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;

use super::{BackendInfo, ChatFuture, ChatModel, ChatRequest, ChatResponse, LlmError, Usage};

/// Largest context a request gets.
const MAX_CTX: u32 = 8192;
/// One fenced Python function, nothing else.
const CODE_GRAMMAR: &str = "root ::= \"```python\\n\" \"def \" [^`]* \"```\"";

struct Loaded {
    backend: LlamaBackend,
    model: LlamaModel,
}

/// A GGUF model run in-process.
pub struct Local {
    loaded: Arc<Loaded>,
    path: PathBuf,
    threads: i32,
    /// One decode at a time.
    busy: Arc<Mutex<()>>,
}

impl Local {
    /// Load `path` (seconds; memory-mapped).
    pub fn load(path: &Path) -> Result<Self, LlmError> {
        if !path.exists() {
            return Err(LlmError::Transport(format!(
                "no local model at {}: run `autolearn model fetch` (or pass --model-path FILE.gguf)",
                path.display()
            )));
        }
        let mut backend =
            LlamaBackend::init().map_err(|e| LlmError::Transport(format!("llama.cpp: {e}")))?;
        backend.void_logs();
        let model = LlamaModel::load_from_file(&backend, path, &LlamaModelParams::default())
            .map_err(|e| LlmError::Transport(format!("loading {}: {e}", path.display())))?;
        let threads =
            std::thread::available_parallelism().map_or(2, |n| i32::try_from(n.get()).unwrap_or(2));
        Ok(Self {
            loaded: Arc::new(Loaded { backend, model }),
            path: path.to_owned(),
            threads,
            busy: Arc::default(),
        })
    }
}

fn complete(l: &Loaded, r: &ChatRequest, threads: i32) -> Result<ChatResponse, LlmError> {
    let fail = |what: &str, e: &dyn std::fmt::Display| LlmError::Transport(format!("{what}: {e}"));
    let model = &l.model;
    let template = match model.chat_template(None) {
        Ok(t) => t,
        Err(_) => LlamaChatTemplate::new("chatml").map_err(|e| fail("chat template", &e))?,
    };
    let chat = r
        .messages
        .iter()
        .map(|m| LlamaChatMessage::new(m.role.clone(), m.content.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail("chat message", &e))?;
    let prompt = model
        .apply_chat_template(&template, &chat, true)
        .map_err(|e| fail("chat template", &e))?;
    let vocab = model.vocab();
    let tokens = vocab.tokenize(prompt.as_bytes(), true, true);
    let n_prompt = u32::try_from(tokens.len()).map_err(|e| fail("prompt", &e))?;
    let cap = MAX_CTX.min(model.n_ctx_train());
    if tokens.is_empty() || n_prompt >= cap {
        return Err(LlmError::Malformed(format!(
            "the prompt is {n_prompt} tokens; the context holds {cap}"
        )));
    }
    let max_new = r.max_tokens.min(cap - n_prompt).max(1);
    let n_ctx = n_prompt + max_new;
    // n_batch must hold the whole prompt, or llama.cpp aborts the process.
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_batch(n_ctx)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let mut ctx = model
        .new_context(&l.backend, params)
        .map_err(|e| fail("context", &e))?;

    let grammar = match (&r.json_schema, r.expect_code) {
        (Some(schema), _) => Some(
            llama_cpp_2::json_schema_to_grammar(&schema.to_string())
                .map_err(|e| fail("schema grammar", &e))?,
        ),
        (None, true) => Some(CODE_GRAMMAR.to_owned()),
        (None, false) => None,
    };
    let mut stages = Vec::with_capacity(4);
    if let Some(g) = &grammar {
        stages.push(LlamaSampler::grammar(model, g, "root").map_err(|e| fail("grammar", &e))?);
    }
    if r.temperature > 0.0 {
        stages.push(LlamaSampler::min_p(0.05, 1));
        stages.push(LlamaSampler::temp(r.temperature));
        stages.push(LlamaSampler::dist(rand::random()));
    } else {
        stages.push(LlamaSampler::greedy());
    }
    let mut sampler = LlamaSampler::chain_simple(stages);

    let mut batch = LlamaBatch::new(tokens.len(), 1);
    batch
        .add_sequence(&tokens, 0, false)
        .map_err(|e| fail("batch", &e))?;
    ctx.decode(&mut batch).map_err(|e| fail("decode", &e))?;
    let mut bytes = Vec::new();
    let mut generated = 0u32;
    let mut pos = i32::try_from(n_prompt).map_err(|e| fail("prompt", &e))?;
    loop {
        // `sample` also accepts the token (into the grammar state).
        let token = sampler.sample(&ctx, batch.n_tokens() - 1);
        generated += 1;
        if vocab.is_eog(token) {
            break;
        }
        vocab.token_to_piece_into(token, &mut bytes, false, None);
        if generated >= max_new {
            break;
        }
        batch.clear();
        batch
            .add(token, pos, &[0], true)
            .map_err(|e| fail("batch", &e))?;
        pos += 1;
        ctx.decode(&mut batch).map_err(|e| fail("decode", &e))?;
    }
    Ok(ChatResponse {
        text: String::from_utf8_lossy(&bytes).into_owned(),
        usage: Usage {
            prompt_tokens: u64::from(n_prompt),
            completion_tokens: u64::from(generated),
        },
    })
}

impl ChatModel for Local {
    fn info(&self) -> BackendInfo {
        BackendInfo {
            backend: "local".into(),
            reasoning_model: self
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned()),
            fast_model: None,
            base_url: None,
        }
    }

    fn chat(&self, request: ChatRequest) -> ChatFuture<'_> {
        let (loaded, busy, threads) = (self.loaded.clone(), self.busy.clone(), self.threads);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let _one_at_a_time = busy.lock().unwrap_or_else(|p| p.into_inner());
                complete(&loaded, &request, threads)
            })
            .await
            .map_err(|e| LlmError::Transport(format!("local model worker: {e}")))?
        })
    }
}
