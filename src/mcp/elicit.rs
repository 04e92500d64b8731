//! Asking the person in the loop: a question of the generation pipeline
//! (candidates that pass the examples disagree on an input) as an
//! `elicitation/create` request, the answer back as the pipeline's
//! [`Answer`], and the check every answer passes before it is used.

use rmcp::ErrorData as McpError;
use serde_json::{Value, json};

use crate::learn::agree::Outcome;
use crate::learn::generate::{Answer, Question};
use crate::skills::InputValidator;

/// The longest rendering of one candidate's answer in a question.
const CHOICE_CHARS: usize = 300;

fn label(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Value(v) => crate::text::truncate(&v.to_string(), CHOICE_CHARS),
        Outcome::Error(kind) => format!("it raises an error ({kind}): the input is invalid"),
    }
}

/// `question` as an `elicitation/create` request: pick one of the
/// candidates' answers by number, or give the right result as JSON.
pub fn question_request(question: &Question) -> Value {
    let mut lines = vec![if question.confirms() {
        format!(
            "The candidate programs for this skill agree on `{}`, but they are too few to trust. Is this result right?",
            question.call
        )
    } else {
        format!(
            "The candidate programs for this skill disagree on `{}`. Which result is right?",
            question.call
        )
    }];
    let mut options = Vec::new();
    for (i, choice) in question.choices.iter().enumerate() {
        let text = label(&choice.outcome);
        lines.push(format!(
            "{}. {text} ({} program{})",
            i + 1,
            choice.programs,
            if choice.programs == 1 { "" } else { "s" }
        ));
        options.push(json!({"const": (i + 1).to_string(), "title": text}));
    }
    lines.push("If none is right, write the right result as JSON under `other`.".into());
    json!({
        "method": "elicitation/create",
        "params": {
            "mode": "form",
            "message": lines.join("\n"),
            "requestedSchema": {
                "type": "object",
                "properties": {
                    "choice": {"type": "string", "title": "The right result", "oneOf": options},
                    "other": {"type": "string", "title": "Another result, as JSON", "maxLength": 65536}
                }
            }
        }
    })
}

/// The pipeline's answer in `response` (an `ElicitResult`) to `question`;
/// `None` when the person declined or gave nothing usable.
pub fn answer_of(question: &Question, response: &Value) -> Option<Answer> {
    if response["action"] != "accept" {
        return None;
    }
    let content = &response["content"];
    if let Some(other) = content["other"]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        // JSON when it parses; otherwise the text itself is the value.
        let value = serde_json::from_str(other).unwrap_or_else(|_| Value::String(other.to_owned()));
        return Some(Answer::Value(value));
    }
    let n: usize = content["choice"].as_str()?.parse().ok()?;
    match &question.choices.get(n.checked_sub(1)?)?.outcome {
        Outcome::Value(v) => Some(Answer::Value(v.clone())),
        Outcome::Error(_) => Some(Answer::Invalid),
    }
}

/// Refuse a `response` to the elicitation `params` that is not an
/// `ElicitResult`, or whose accepted content breaks the requested schema.
pub fn check(params: &Value, response: &Value) -> Result<(), McpError> {
    let bad = |why: String| McpError::invalid_params(why, None);
    let action = response
        .get("action")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad("an elicitation answer needs `action`: accept, decline or cancel".into())
        })?;
    match action {
        "decline" | "cancel" => Ok(()),
        "accept" => {
            let content = response
                .get("content")
                .filter(|c| c.is_object())
                .ok_or_else(|| {
                    bad("an accepted elicitation answer needs `content`, an object".into())
                })?;
            let schema = params
                .get("requestedSchema")
                .cloned()
                .unwrap_or(json!({"type": "object"}));
            let validator = InputValidator::new(&schema).map_err(|e| bad(e.to_string()))?;
            validator.validate(content).map_err(|why| {
                bad(format!(
                    "the answer does not match the requested schema: {why}"
                ))
            })
        }
        other => Err(bad(format!(
            "unknown elicitation action {:?}: accept, decline or cancel",
            crate::text::truncate(other, 40)
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::learn::agree::Choice;

    fn question() -> Question {
        Question {
            call: "f(x=0)".into(),
            input: json!({"x": 0}),
            choices: vec![
                Choice {
                    outcome: Outcome::Value(json!(0)),
                    programs: 3,
                },
                Choice {
                    outcome: Outcome::Error("ValueError".into()),
                    programs: 2,
                },
            ],
        }
    }

    #[test]
    fn a_choice_by_number_or_another_value_is_an_answer() {
        let q = question();
        let pick = |c: Value| answer_of(&q, &json!({"action": "accept", "content": c}));
        assert_eq!(pick(json!({"choice": "1"})), Some(Answer::Value(json!(0))));
        assert_eq!(pick(json!({"choice": "2"})), Some(Answer::Invalid));
        assert_eq!(
            pick(json!({"other": "[1, 2]"})),
            Some(Answer::Value(json!([1, 2])))
        );
        assert_eq!(
            pick(json!({"other": "zero"})),
            Some(Answer::Value(json!("zero")))
        );
        assert_eq!(pick(json!({"choice": "3"})), None);
        assert_eq!(pick(json!({"choice": "0"})), None);
        assert_eq!(answer_of(&q, &json!({"action": "decline"})), None);
    }

    #[test]
    fn the_question_is_an_input_request_clients_read() {
        let request = question_request(&question());
        let parsed: rmcp::model::InputRequest = serde_json::from_value(request.clone()).unwrap();
        assert_eq!(serde_json::to_value(parsed).unwrap(), request);
    }

    #[test]
    fn answers_are_checked_against_the_question() {
        let request = question_request(&question());
        let params = &request["params"];
        assert!(
            check(
                params,
                &json!({"action": "accept", "content": {"choice": "2"}})
            )
            .is_ok()
        );
        assert!(check(params, &json!({"action": "decline"})).is_ok());
        for bad in [
            json!({"action": "accept", "content": {"choice": "7"}}),
            json!({"action": "accept", "content": {"choice": 1}}),
            json!({"action": "accept"}),
            json!({"action": "maybe"}),
            json!(12345),
            json!(null),
        ] {
            assert!(check(params, &bad).is_err(), "{bad}");
        }
    }
}
