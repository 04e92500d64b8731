//! Asking the person during a plain `generate_skill` call (not a task),
//! in whichever way the client can answer:
//!
//! - **2026-07-28 with elicitation** (input-required results, SEP-2322):
//!   a generation that ends as a draft with open questions answers
//!   `input_required` with one `elicitation/create` per question and a
//!   sealed `requestState`; the client's retry with `inputResponses`
//!   settles the draft. The state is sealed with a key every replica
//!   shares (from the store) and names the tenant, so a changed state, or
//!   another tenant's, is refused with `-32602`; so is an answer that breaks
//!   its question's schema, or a retry that answers nothing.
//! - **2025-11-25 sessions with elicitation**: the pipeline asks as it
//!   goes, by a server-initiated `elicitation/create`.
//! - **Neither**: the result lists the `questions` and says how to answer
//!   them in a follow-up call (`draft` and `answers`).

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use rmcp::model::{
    ElicitRequestParams, InputRequests, InputRequiredResult, InputResponses, ProtocolVersion,
    RequestStateCodec,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::elicit;
use super::tools::internal;
use crate::app::App;
use crate::learn::agree::{Choice, Outcome};
use crate::learn::generate::{Asker, Question, Settled};
use crate::skills::SkillId;

/// The shared secret that seals input-required states.
const STATE_SECRET: &str = "request-state";
/// How long a server-initiated question waits for the person.
const ELICIT_WAIT: Duration = Duration::from_secs(600);

/// What a sealed state carries: whose draft, and the questions asked
/// (each input, and the candidates' answers: `None` is "invalid").
#[derive(Serialize, Deserialize)]
struct Sealed {
    tenant: String,
    draft: String,
    asked: Vec<(Value, Vec<Option<Value>>)>,
}

fn key(i: usize) -> String {
    format!("question-{}", i + 1)
}

async fn codec(app: &App) -> Result<RequestStateCodec, McpError> {
    let secret = app.shared_secret(STATE_SECRET).await.map_err(internal)?;
    let bytes = hex::decode(secret).map_err(internal)?;
    RequestStateCodec::try_new(bytes).map_err(internal)
}

/// Whether this request speaks 2026-07-28 and can answer elicitations.
pub fn can_answer_inline(context: &RequestContext<RoleServer>) -> bool {
    is_2026(context)
        && context
            .client_capabilities()
            .is_some_and(|c| c.elicitation.is_some())
}

fn is_2026(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str())
}

/// The outcome's open questions as an input-required result, when there
/// are any and the client can answer them.
pub async fn input_required(
    app: &App,
    tenant: &str,
    outcome: &Value,
) -> Result<Option<InputRequiredResult>, McpError> {
    let questions: Vec<Question> = match outcome.get("questions").and_then(Value::as_array) {
        Some(q) if !q.is_empty() => q.iter().filter_map(question_of).collect(),
        _ => return Ok(None),
    };
    let Some(draft) = outcome.pointer("/skill/id").and_then(Value::as_str) else {
        return Ok(None);
    };
    if questions.is_empty() {
        return Ok(None);
    }
    let mut requests = serde_json::Map::new();
    for (i, q) in questions.iter().enumerate() {
        requests.insert(key(i), elicit::question_request(q));
    }
    let requests: InputRequests =
        serde_json::from_value(Value::Object(requests)).map_err(internal)?;
    let sealed = Sealed {
        tenant: tenant.to_owned(),
        draft: draft.to_owned(),
        asked: questions
            .iter()
            .map(|q| {
                let choices = q
                    .choices
                    .iter()
                    .map(|c| match &c.outcome {
                        Outcome::Value(v) => Some(v.clone()),
                        Outcome::Error(_) => None,
                    })
                    .collect();
                (q.input.clone(), choices)
            })
            .collect(),
    };
    let state = codec(app).await?.seal_json(&sealed).map_err(internal)?;
    Ok(Some(InputRequiredResult::new(Some(requests), Some(state))))
}

/// A question as the outcome serialized it.
fn question_of(v: &Value) -> Option<Question> {
    let choices = v["choices"]
        .as_array()?
        .iter()
        .map(|c| {
            let outcome = match (c["outcome"].get("value"), c["outcome"].get("error")) {
                (Some(value), _) => Outcome::Value(value.clone()),
                (None, Some(e)) => Outcome::Error(e.as_str().unwrap_or("error").to_owned()),
                _ => Outcome::Value(c["outcome"].clone()),
            };
            Choice {
                outcome,
                programs: c["programs"].as_u64().unwrap_or(0) as usize,
            }
        })
        .collect();
    Some(Question {
        call: v["call"].as_str()?.to_owned(),
        input: v["input"].clone(),
        choices,
    })
}

/// A retry's answers: the draft they settle and the settled inputs. A
/// changed or foreign state, an answer that breaks its schema, or a retry
/// that answers no question is refused.
pub async fn answers(
    app: &App,
    tenant: &str,
    state: &str,
    responses: Option<&InputResponses>,
) -> Result<(SkillId, Vec<Settled>), McpError> {
    let bad = |why: &str| McpError::invalid_params(why.to_owned(), None);
    let sealed: Sealed = codec(app)
        .await?
        .open_json(state)
        .map_err(|e| bad(&format!("requestState failed its integrity check: {e}")))?;
    if sealed.tenant != tenant {
        return Err(bad("requestState belongs to another tenant"));
    }
    let draft: SkillId = sealed
        .draft
        .parse()
        .map_err(|_| bad("requestState names no draft"))?;
    let responses =
        responses.ok_or_else(|| bad("a retry with requestState needs inputResponses"))?;
    let mut settled = Vec::new();
    for (i, (input, choices)) in sealed.asked.into_iter().enumerate() {
        let Some(response) = responses.get(&key(i)) else {
            continue;
        };
        let question = Question {
            call: String::new(),
            input: input.clone(),
            choices: choices
                .into_iter()
                .map(|c| Choice {
                    outcome: c.map_or_else(|| Outcome::Error("invalid".into()), Outcome::Value),
                    programs: 0,
                })
                .collect(),
        };
        let request = elicit::question_request(&question);
        elicit::check(&request["params"], response)?;
        if let Some(answer) = elicit::answer_of(&question, response) {
            settled.push(Settled { input, answer });
        }
    }
    if settled.is_empty() {
        return Err(bad(
            "inputResponses answer none of the questions (accept one with a choice or another result)",
        ));
    }
    Ok((draft, settled))
}

/// For a 2025-11-25 session that declared elicitation: ask as the
/// pipeline goes, by a server-initiated request.
pub fn live_asker(context: &RequestContext<RoleServer>) -> Option<Asker> {
    if is_2026(context)
        || context
            .client_capabilities()
            .is_none_or(|c| c.elicitation.is_none())
    {
        return None;
    }
    let peer = context.peer.clone();
    Some(Arc::new(move |question: Question| {
        let peer = peer.clone();
        async move {
            let request = elicit::question_request(&question);
            let params: ElicitRequestParams =
                serde_json::from_value(request["params"].clone()).ok()?;
            let result = peer
                .create_elicitation_with_timeout(params, Some(ELICIT_WAIT))
                .await
                .ok()?;
            let response = serde_json::to_value(result).ok()?;
            elicit::check(&request["params"], &response).ok()?;
            elicit::answer_of(&question, &response)
        }
        .boxed()
    }))
}

/// How a client that can answer no question settles them: a note for the
/// result, when there are open questions.
pub fn how_to_answer(outcome: &Value) -> Option<Value> {
    let draft = outcome.pointer("/skill/id")?.as_str()?;
    let open = outcome.get("questions")?.as_array()?;
    if open.is_empty() {
        return None;
    }
    // A question with one choice asks to confirm it (the candidates agree
    // but are too few to trust).
    let confirm = open
        .iter()
        .filter(|q| q["choices"].as_array().is_some_and(|c| c.len() == 1))
        .count();
    let what = match (open.len() - confirm, confirm) {
        (n, 0) => format!(
            "The candidates disagree on {n} input(s) listed in `questions`. Ask the person which answer is right"
        ),
        (0, n) => format!(
            "The candidates agree but are too few to trust: `questions` lists {n} of their answers. Ask the person whether each is right, and the right result where it is not"
        ),
        (n, m) => format!(
            "The candidates disagree on {n} input(s) listed in `questions`, and {m} more list the one answer they agree on. Ask the person which answer is right"
        ),
    };
    // Held: its trust would publish it, the disputed values are all that
    // waits.
    let held = if outcome["awaiting_answers"] == json!(true) {
        " Its trust is high enough: it can be published once the answers settle which value is right."
    } else {
        ""
    };
    Some(json!(format!(
        "{what}, then call generate_skill again with draft: \"{draft}\" and answers: [{{input, output}}] \
         (or {{input, invalid: true}} when the skill should refuse that input).{held}"
    )))
}
