//! The web UI's "New skill": a generation that runs in the background and
//! streams each step of the pipeline over `/api/events`, asking the person
//! when candidates that pass the examples disagree.
//!
//! - `POST /api/generations {request, examples?, name?, candidates?}`
//!   answers 202 with `{"generation"}` at once;
//! - each step arrives as `generate_step` (`{generation, step}`: spec,
//!   candidate with its code, tested, decided with the clusters, asked,
//!   repair), each question as `generate_question` (`{generation,
//!   question}`), the end as `generate_done` (`{generation, outcome}` or
//!   `{generation, error}`);
//! - `POST /api/generations/{id}/answer {"input", "output"}` (or
//!   `"invalid": true`, or `"skip": true`) answers the open question.
//!
//! An unanswered question is dropped after [`ANSWER_WAIT`]; the pipeline
//! goes on without it, and the outcome lists it among `questions`. The
//! question waits on the replica that runs the generation: behind a load
//! balancer, answers need the same replica (sticky sessions).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::{busy, error, parse};
use crate::app::{App, Event, GenerateOutcome, Notice, TenantId};
use crate::fault::Classify;
use crate::learn::generate::{Answer, Asker, GenerateOptions, GenerateRequest, Progress, Question};
use crate::skills::Example;
use crate::slots::{Slot, TenantSlots};

/// Generations one tenant may run at once.
const TENANT_GENERATIONS: usize = 2;
/// Generations the process runs at once, whoever's.
const TOTAL_GENERATIONS: usize = 16;
/// How long a question waits for the person.
pub(super) const ANSWER_WAIT: Duration = Duration::from_secs(600);

/// Open questions, by tenant and generation: the input asked about and
/// where its answer goes.
type Waiting = HashMap<(String, String), (Value, oneshot::Sender<Option<Answer>>)>;

/// The generations this server runs for pages: places (per tenant and in
/// all) and their open questions, at most one per generation, so bounded
/// by the places.
pub(super) struct Watched {
    running: TenantSlots,
    waiting: Mutex<Waiting>,
}

impl Default for Watched {
    fn default() -> Self {
        Self {
            running: TenantSlots::new(TOTAL_GENERATIONS, TENANT_GENERATIONS),
            waiting: Mutex::default(),
        }
    }
}

impl Watched {
    fn waiting(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a generation tells the tenant's live pages (`type` is
/// `generate_step`, `generate_question` or `generate_done`).
#[derive(Serialize)]
#[serde(tag = "type")]
enum GenerationNotice<'a> {
    #[serde(rename = "generate_step")]
    Step {
        generation: &'a str,
        step: &'a Progress,
    },
    #[serde(rename = "generate_question")]
    Question {
        generation: &'a str,
        question: &'a Question,
    },
    #[serde(rename = "generate_done")]
    Done {
        generation: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        outcome: Option<&'a GenerateOutcome>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<Value>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    request: String,
    #[serde(default)]
    examples: Vec<Example>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    candidates: Option<usize>,
    /// `core` or `data`; chosen from the request when absent.
    #[serde(default)]
    runtime: Option<crate::runtime::Runtime>,
}

/// `POST /api/generations`: start one; 202 with its id.
pub(super) async fn start(
    State(app): State<App>,
    Extension(TenantId(tenant)): Extension<TenantId>,
    Extension(watched): Extension<Arc<Watched>>,
    body: Bytes,
) -> Response {
    let body: StartBody = match parse(&body, "{request, examples?, name?, candidates?}") {
        Ok(b) => b,
        Err(r) => return *r,
    };
    // What generation would refuse, refused now rather than in the
    // background.
    let limits = app.limits(&tenant).await;
    if body.request.trim().is_empty() || body.request.len() > limits.skill.description_bytes {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!(
                "the request must be 1 to {} bytes",
                limits.skill.description_bytes
            ),
        );
    }
    if body.examples.len() > limits.skill.examples {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!(
                "{} examples, over the limit of {}",
                body.examples.len(),
                limits.skill.examples
            ),
        );
    }
    if !app.model().has_own() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_llm",
            "generation needs a model: run `make run` (it fetches the embedded one) or set OPENAI_API_KEY, then restart".into(),
        );
    }
    let slot = match watched.running.take(&tenant) {
        Ok(slot) => slot,
        Err(full) => return busy(full, "generations"),
    };
    let generation = format!("gen-{}", hex::encode(rand::random::<[u8; 6]>()));
    let req = GenerateRequest {
        request: body.request,
        examples: body.examples,
        name: body.name,
        runtime: body.runtime,
        ..Default::default()
    };
    let candidates = body
        .candidates
        .unwrap_or(GenerateOptions::default().candidates)
        .clamp(1, 8);
    tokio::spawn(run(
        app,
        watched,
        tenant,
        generation.clone(),
        req,
        candidates,
        slot,
    ));
    (
        StatusCode::ACCEPTED,
        Json(json!({"generation": generation})),
    )
        .into_response()
}

async fn run(
    app: App,
    watched: Arc<Watched>,
    tenant: String,
    generation: String,
    req: GenerateRequest,
    candidates: usize,
    _slot: Slot,
) {
    let tell = {
        let (app, tenant) = (app.clone(), tenant.clone());
        move |notice: &GenerationNotice| {
            app.notify(&tenant, Event::Generation(Notice::of(notice)));
        }
    };
    let observer = {
        let (tell, generation) = (tell.clone(), generation.clone());
        Arc::new(move |step: Progress| {
            tell(&GenerationNotice::Step {
                generation: &generation,
                step: &step,
            });
        })
    };
    let ask: Asker = {
        let (tell, tenant, generation) = (tell.clone(), tenant.clone(), generation.clone());
        let watched = watched.clone();
        Arc::new(move |question: Question| {
            let (tx, rx) = oneshot::channel();
            watched.waiting().insert(
                (tenant.clone(), generation.clone()),
                (question.input.clone(), tx),
            );
            tell(&GenerationNotice::Question {
                generation: &generation,
                question: &question,
            });
            let key = (tenant.clone(), generation.clone());
            let watched = watched.clone();
            async move {
                let answer = tokio::time::timeout(ANSWER_WAIT, rx).await;
                watched.waiting().remove(&key);
                answer.ok().and_then(Result::ok).flatten()
            }
            .boxed()
        })
    };
    let opts = GenerateOptions {
        candidates,
        observer: Some(observer),
        ask: Some(ask),
        ..GenerateOptions::default()
    };
    let outcome = super::caught(app.generate_skill(&tenant, req, opts)).await;
    watched
        .waiting()
        .remove(&(tenant.clone(), generation.clone()));
    let error = match &outcome {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => {
            let mut v = e.to_object();
            v["message"] =
                crate::text::truncate(&e.to_string(), crate::text::MAX_MESSAGE_BYTES).into();
            Some(v)
        }
        Err(bug) => Some(json!({"kind": "internal", "message": bug})),
    };
    let outcome = outcome.ok().and_then(Result::ok);
    tell(&GenerationNotice::Done {
        generation: &generation,
        outcome: outcome.as_ref(),
        error,
    });
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    input: Value,
    #[serde(default)]
    output: Option<Value>,
    #[serde(default)]
    invalid: bool,
    #[serde(default)]
    skip: bool,
}

/// `POST /api/generations/{id}/answer`: the person's answer to the open
/// question.
pub(super) async fn answer(
    Extension(TenantId(tenant)): Extension<TenantId>,
    Extension(watched): Extension<Arc<Watched>>,
    Path(generation): Path<String>,
    body: Bytes,
) -> Response {
    let shape = r#"{"input", "output"} or {"input", "invalid": true} or {"input", "skip": true}"#;
    let body: AnswerBody = match parse(&body, shape) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let answer = match (body.output, body.invalid, body.skip) {
        (Some(v), false, false) => Some(Answer::Value(v)),
        (None, true, false) => Some(Answer::Invalid),
        (None, false, true) => None,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("the body must be one of {shape}"),
            );
        }
    };
    let key = (tenant, generation.clone());
    let tx = {
        let mut open = watched.waiting();
        match open.get(&key) {
            None => {
                return error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!(
                        "generation {generation:?} has no open question (it ended, the question timed out, or it runs on another replica)"
                    ),
                );
            }
            // An answer to an earlier question must not settle this one.
            Some((input, _)) if *input != body.input => {
                return error(
                    StatusCode::CONFLICT,
                    "conflict",
                    "that question is no longer open: answer the one asked now".into(),
                );
            }
            Some(_) => open.remove(&key).map(|(_, tx)| tx),
        }
    };
    let Some(tx) = tx else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no open question".into(),
        );
    };
    if tx.send(answer).is_err() {
        return error(
            StatusCode::CONFLICT,
            "conflict",
            "the question was withdrawn before the answer arrived".into(),
        );
    }
    Json(json!({"answered": true})).into_response()
}
