//! The embedded local model: llama.cpp in-process (through `llama-cpp-2`),
//! no cloud and no server to install. Over 400 lines because loading,
//! templating, grammars and batched decoding share one llama.cpp context's
//! lifetime, which reads best in one file.
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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;

use super::{
    BackendInfo, ChatFuture, ChatManyFuture, ChatModel, ChatRequest, ChatResponse, LlmError, Usage,
};

/// Largest context a request gets.
const MAX_CTX: u32 = 8192;
/// One fenced Python function, nothing else.
const CODE_GRAMMAR: &str = "root ::= \"```python\\n\" \"def \" [^`]* \"```\"";

/// A JSON grammar (its rule `root` renamed) or one fenced Python block.
fn either_grammar(json: &str) -> String {
    let renamed: String = json
        .lines()
        .map(|l| match l.strip_prefix("root ::=") {
            Some(rest) => format!("json-answer ::={rest}\n"),
            None => format!("{l}\n"),
        })
        .collect();
    format!(
        "root ::= json-answer | code-answer\ncode-answer ::= \"```python\\n\" [^`]+ \"```\"\n{renamed}"
    )
}

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

/// One answer per temperature to the same request, decoded together: the
/// prompt is read once into a cache all sequences share, then each step
/// decodes one token of every unfinished sequence in one batch. On a CPU a
/// step of four tokens costs little more than a step of one (the weights
/// are read once), so k candidates cost far less than k calls.
///
/// Usage is reported so that sums stay true: the first answer carries the
/// prompt's tokens and time and the whole batch's decode time; the others
/// carry only their own generated tokens.
fn complete(
    l: &Loaded,
    r: &ChatRequest,
    temperatures: &[f32],
    threads: i32,
    gone: &AtomicBool,
) -> Result<Vec<ChatResponse>, LlmError> {
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
    let n = temperatures.len().clamp(1, MAX_SEQUENCES);
    let n_seq = u32::try_from(n).map_err(|e| fail("sequences", &e))?;
    let cap = MAX_CTX.min(model.n_ctx_train());
    if tokens.is_empty() || n_prompt >= cap {
        return Err(LlmError::Malformed(format!(
            "the prompt is {n_prompt} tokens; the context holds {cap}"
        )));
    }
    // Every sequence's positions run from the prompt's end to at most the
    // model's context; the cache holds the prompt once and each answer.
    let max_new = r.max_tokens.min(cap - n_prompt).max(1);
    let n_ctx = n_prompt + n_seq * max_new;
    // n_batch must hold the whole prompt, or llama.cpp aborts the process.
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_batch(n_prompt.max(n_seq))
        .with_n_seq_max(n_seq)
        .with_kv_unified(true)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let mut ctx = model
        .new_context(&l.backend, params)
        .map_err(|e| fail("context", &e))?;

    let grammar = match (&r.json_schema, r.expect_code) {
        (Some(schema), false) => Some(
            llama_cpp_2::json_schema_to_grammar(&schema.to_string())
                .map_err(|e| fail("schema grammar", &e))?,
        ),
        // A JSON answer or a fenced block of code (a tool call).
        (Some(schema), true) => Some(either_grammar(
            &llama_cpp_2::json_schema_to_grammar(&schema.to_string())
                .map_err(|e| fail("schema grammar", &e))?,
        )),
        (None, true) => Some(CODE_GRAMMAR.to_owned()),
        (None, false) => None,
    };
    let mut seqs = temperatures[..n]
        .iter()
        .map(|&t| {
            Ok(Sequence {
                sampler: Sampling {
                    grammar: grammar
                        .as_deref()
                        .map(|g| LlamaSampler::grammar(model, g, "root"))
                        .transpose()
                        .map_err(|e| fail("grammar", &e))?,
                    chain: if t > 0.0 {
                        LlamaSampler::chain_simple([
                            LlamaSampler::min_p(0.05, 1),
                            LlamaSampler::temp(t),
                            LlamaSampler::dist(rand::random()),
                        ])
                    } else {
                        LlamaSampler::greedy()
                    },
                    eos: vocab.eos(),
                },
                bytes: Vec::new(),
                generated: 0,
                done: false,
                logits_at: i32::try_from(n_prompt).unwrap_or(i32::MAX) - 1,
            })
        })
        .collect::<Result<Vec<_>, LlmError>>()?;

    // The prompt, once, in every sequence.
    let all: Vec<i32> = (0..i32::try_from(n).unwrap_or(1)).collect();
    let mut batch = LlamaBatch::new(tokens.len().max(n), i32::try_from(n).unwrap_or(1));
    for (i, &token) in tokens.iter().enumerate() {
        batch
            .add(
                token,
                i32::try_from(i).unwrap_or(i32::MAX),
                &all,
                i + 1 == tokens.len(),
            )
            .map_err(|e| fail("batch", &e))?;
    }
    let started = std::time::Instant::now();
    ctx.decode(&mut batch).map_err(|e| fail("decode", &e))?;
    let prompt_ms = started.elapsed().as_millis();
    let mut pos = i32::try_from(n_prompt).map_err(|e| fail("prompt", &e))?;
    loop {
        if gone.load(Ordering::Relaxed) {
            return Err(abandoned());
        }
        let mut next = Vec::with_capacity(n);
        for (id, seq) in seqs.iter_mut().enumerate().filter(|(_, s)| !s.done) {
            let token = seq.sampler.next(&ctx, seq.logits_at);
            seq.generated += 1;
            if vocab.is_eog(token) {
                seq.done = true;
                continue;
            }
            vocab.token_to_piece_into(token, &mut seq.bytes, false, None);
            if seq.generated >= max_new || stuck(&seq.bytes) {
                seq.done = true;
                continue;
            }
            next.push((id, token));
        }
        if next.is_empty() {
            break;
        }
        batch.clear();
        for (slot, &(id, token)) in next.iter().enumerate() {
            let seq_id = i32::try_from(id).unwrap_or(0);
            batch
                .add(token, pos, &[seq_id], true)
                .map_err(|e| fail("batch", &e))?;
            seqs[id].logits_at = i32::try_from(slot).unwrap_or(0);
        }
        pos += 1;
        ctx.decode(&mut batch).map_err(|e| fail("decode", &e))?;
    }
    let decode_ms = started.elapsed().as_millis() - prompt_ms;
    let ms = |v: u128| u64::try_from(v).unwrap_or(u64::MAX);
    Ok(seqs
        .into_iter()
        .enumerate()
        .map(|(i, seq)| ChatResponse {
            text: String::from_utf8_lossy(&seq.bytes).into_owned(),
            usage: Usage {
                prompt_tokens: if i == 0 { u64::from(n_prompt) } else { 0 },
                completion_tokens: u64::from(seq.generated),
                prompt_ms: if i == 0 { ms(prompt_ms) } else { 0 },
                decode_ms: if i == 0 { ms(decode_ms) } else { 0 },
            },
            tool_calls: Vec::new(),
        })
        .collect())
}

/// Sequences decoded together at most (more gain little on a CPU).
const MAX_SEQUENCES: usize = 8;

/// One answer being decoded.
struct Sequence {
    sampler: Sampling,
    bytes: Vec<u8>,
    generated: u32,
    done: bool,
    /// Where its next logits are in the last batch's outputs.
    logits_at: i32,
}

/// A small model can fall into a loop, writing the same line until the
/// token limit (a dict of one accented letter, a thousand times), the same
/// few lines (an `elif` branch and its `return`, again and again), or one
/// character in a line that never ends. Stop when the last complete lines
/// are one block of at most [`LOOP_BLOCK_LINES`] non-trivial lines written
/// [`LOOP_REPEATS`] times, or the last [`LOOP_RUN_BYTES`] bytes repeat a
/// unit of at most 4 bytes: the answer is broken either way, and the rest
/// of the limit would cost half a minute (the whole batch waits for its
/// longest answer).
const LOOP_REPEATS: usize = 6;
/// The longest block of lines a loop is recognized in.
const LOOP_BLOCK_LINES: usize = 3;
/// A run of one short unit this long is a loop: real code has none
/// (a comment's ruler of `=` is some 80).
const LOOP_RUN_BYTES: usize = 256;

fn stuck(bytes: &[u8]) -> bool {
    repeated_lines(bytes) || repeated_run(bytes)
}

fn repeated_lines(bytes: &[u8]) -> bool {
    if bytes.last() != Some(&b'\n') {
        return false;
    }
    // The last complete lines, newest first.
    let lines: Vec<&[u8]> = bytes[..bytes.len() - 1]
        .rsplit(|&b| b == b'\n')
        .take(LOOP_REPEATS * LOOP_BLOCK_LINES)
        .collect();
    (1..=LOOP_BLOCK_LINES).any(|block| {
        lines.len() >= block * LOOP_REPEATS
            && lines[..block]
                .iter()
                .map(|l| l.trim_ascii().len())
                .sum::<usize>()
                >= 4
            && (block..block * LOOP_REPEATS).all(|i| lines[i] == lines[i % block])
    })
}

fn repeated_run(bytes: &[u8]) -> bool {
    let Some(tail) = bytes.get(bytes.len().saturating_sub(LOOP_RUN_BYTES)..) else {
        return false;
    };
    tail.len() == LOOP_RUN_BYTES
        && (1..=4).any(|unit| (unit..tail.len()).all(|i| tail[i] == tail[i - unit]))
}

/// The sampler, with its grammar checked lazily, as llama.cpp's own
/// `common_sampler` does: sample freely, and apply the grammar to the whole
/// vocabulary (151k tokens for Qwen) only when the free choice breaks it.
/// Applying it at every step roughly halves decode speed.
struct Sampling {
    grammar: Option<LlamaSampler>,
    chain: LlamaSampler,
    /// End of generation, should the grammar leave nothing.
    eos: LlamaToken,
}

impl Sampling {
    /// The next token at output `idx`, accepted into every state.
    fn next(&mut self, ctx: &LlamaContext<'_>, idx: i32) -> LlamaToken {
        let Some(grammar) = &mut self.grammar else {
            // `sample` also accepts the token.
            return self.chain.sample(ctx, idx);
        };
        let mut all = ctx.token_data_array_ith(idx);
        let mut free = all.clone();
        free.apply_sampler(&mut self.chain);
        let allowed = free.selected_token().filter(|&t| {
            let mut one = LlamaTokenDataArray::new(vec![LlamaTokenData::new(t, 1.0, 0.0)], false);
            one.apply_sampler(grammar);
            one.data.first().is_some_and(|d| d.logit().is_finite())
        });
        let token = match allowed {
            Some(t) => t,
            None => {
                all.apply_sampler(grammar);
                all.apply_sampler(&mut self.chain);
                // The grammar always allows something until it is complete,
                // and then end of generation.
                all.selected_token().unwrap_or(self.eos)
            }
        };
        grammar.accept(token);
        self.chain.accept(token);
        token
    }
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
        if !request.tools.is_empty() {
            // No native tools: the call is constrained JSON (see llm::tools).
            let tools = request.tools.clone();
            let text = self.chat(super::tools::as_text_request(&request));
            return Box::pin(async move { super::tools::read_call(text.await?, &tools) });
        }
        let temperature = request.temperature;
        let many = self.chat_many(request, vec![temperature]);
        Box::pin(async move {
            many.await.into_iter().next().unwrap_or_else(|| {
                Err(LlmError::Transport("the local model gave no answer".into()))
            })
        })
    }

    fn chat_many(&self, request: ChatRequest, temperatures: Vec<f32>) -> ChatManyFuture<'_> {
        if !request.tools.is_empty() {
            let tools = request.tools.clone();
            let text = self.chat_many(super::tools::as_text_request(&request), temperatures);
            return Box::pin(async move {
                text.await
                    .into_iter()
                    .map(|r| r.and_then(|r| super::tools::read_call(r, &tools)))
                    .collect()
            });
        }
        let (loaded, busy, threads) = (self.loaded.clone(), self.busy.clone(), self.threads);
        let n = temperatures.len();
        Box::pin(async move {
            // Dropped with this future: a caller that went away (a closed
            // connection, a server shutting down) stops the decode at its
            // next token, and frees the model for the next in line.
            let gone = Abandoned::default();
            let flag = gone.0.clone();
            let answers = tokio::task::spawn_blocking(move || {
                let _one_at_a_time = busy.lock().unwrap_or_else(|p| p.into_inner());
                // More than a batch holds: the rest in further batches.
                let mut out = Vec::with_capacity(temperatures.len());
                for chunk in temperatures.chunks(MAX_SEQUENCES) {
                    if flag.load(Ordering::Relaxed) {
                        return Err(abandoned());
                    }
                    out.extend(complete(&loaded, &request, chunk, threads, &flag)?);
                }
                Ok(out)
            })
            .await
            .map_err(|e| LlmError::Transport(format!("local model worker: {e}")))
            .and_then(|r| r);
            match answers {
                Ok(all) => all.into_iter().map(Ok).collect(),
                Err(e) => (0..n).map(|_| Err(clone_error(&e))).collect(),
            }
        })
    }
}

/// Set when the future waiting for a decode is dropped.
#[derive(Default)]
struct Abandoned(Arc<AtomicBool>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn abandoned() -> LlmError {
    LlmError::Transport("nobody waits for the answer any more".into())
}

/// The same failure for every answer of a batch.
fn clone_error(e: &LlmError) -> LlmError {
    match e {
        LlmError::Malformed(m) => LlmError::Malformed(m.clone()),
        other => LlmError::Transport(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::stuck;

    #[test]
    fn a_block_of_lines_repeated_six_times_is_a_loop() {
        // de_flatten in the development half: an elif branch and its return,
        // until the token limit.
        let block =
            "    elif isinstance(data, dict):\n        return {k: f(v) for k, v in data.items()}\n";
        let head = "def f(data):\n    if isinstance(data, dict):\n        return data\n";
        assert!(stuck((head.to_owned() + &block.repeat(6)).as_bytes()));
        assert!(!stuck((head.to_owned() + &block.repeat(5)).as_bytes()));
        // Blocks of trivial lines repeat in real code.
        assert!(!stuck(
            ("x = [\n".to_owned() + &"    ],\n[\n".repeat(8)).as_bytes()
        ));
    }

    #[test]
    fn a_line_that_never_ends_repeating_one_character_is_a_loop() {
        // text_slugify: 'éèêêêê…' until the token limit.
        let looping =
            "    title = title.translate(str.maketrans('', '', 'éè".to_owned() + &"ê".repeat(128);
        assert!(stuck(looping.as_bytes()));
        let ruler = "# ".to_owned() + &"=".repeat(80);
        assert!(!stuck(ruler.as_bytes()));
        assert!(!stuck("ab".repeat(100).as_bytes()));
        assert!(stuck("ab".repeat(128).as_bytes()));
    }

    #[test]
    fn a_line_repeated_six_times_is_a_loop() {
        let looping = "d = {\n".to_owned() + &"    'é': 'e',\n".repeat(6);
        assert!(stuck(looping.as_bytes()));
        let five = "d = {\n".to_owned() + &"    'é': 'e',\n".repeat(5);
        assert!(!stuck(five.as_bytes()));
        // Blank or trivial lines repeat in real code.
        assert!(!stuck(
            ("x = 1\n".to_owned() + &"    )\n".repeat(8)).as_bytes()
        ));
        assert!(!stuck(b"a\n\n\n\n\n\n\n\n"));
        // Only complete lines count.
        assert!(!stuck(
            (("    'é': 'e',\n".repeat(6)) + "    'é'").as_bytes()
        ));
    }
}
