//! The tools that make and settle drafts: `generate_skill` (a new skill
//! from plain English, or a follow-up that settles a draft's questions)
//! and `review_skill` (a person's word on a draft).

use rmcp::ErrorData as McpError;
use rmcp::model::{CallToolResult, JsonObject};
use serde_json::{Value, json};

use super::McpServer;
use super::tools::{failure, str_arg, structured_result};
use crate::app::Review;
use crate::learn::generate::{GenerateOptions, GenerateRequest, Settled};
use crate::skills::{Example, SkillId};

/// `answers` as the pipeline takes them.
fn answers(args: &JsonObject) -> Result<Vec<Settled>, McpError> {
    serde_json::from_value(args.get("answers").cloned().unwrap_or(json!([]))).map_err(|e| {
        McpError::invalid_params(
            format!("`answers` must be [{{input, output}}] or [{{input, invalid: true}}]: {e}"),
            None,
        )
    })
}

impl McpServer {
    pub(super) async fn generate_skill(
        &self,
        tenant: &str,
        args: &JsonObject,
        peer: &rmcp::service::Peer<rmcp::RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let answers = answers(args)?;
        // Without a model of our own, borrow the client's where it offers
        // sampling.
        let llm: Option<crate::llm::Llm> = if self.app.model().has_own() {
            None
        } else {
            super::sampling::Sampling::of(peer).map(|s| std::sync::Arc::new(s) as crate::llm::Llm)
        };
        let outcome = match args.get("draft") {
            Some(Value::String(id)) => {
                let id: SkillId = id
                    .parse()
                    .map_err(|e| McpError::invalid_params(format!("`draft`: {e}"), None))?;
                if answers.is_empty() {
                    return Err(McpError::invalid_params(
                        "a follow-up with `draft` needs `answers`",
                        None,
                    ));
                }
                self.app
                    .settle_draft(llm, tenant, &id, answers, GenerateOptions::default())
                    .await
            }
            Some(Value::Null) | None => {
                let request = str_arg(args, "request")?.to_owned();
                let examples: Vec<Example> =
                    serde_json::from_value(args.get("examples").cloned().unwrap_or(json!([])))
                        .map_err(|e| {
                            McpError::invalid_params(
                                format!("`examples` must be [{{input, output}}]: {e}"),
                                None,
                            )
                        })?;
                let name = args.get("name").and_then(Value::as_str).map(str::to_owned);
                let req = GenerateRequest {
                    request,
                    examples,
                    name,
                    answers,
                    ..Default::default()
                };
                match llm {
                    Some(llm) => {
                        self.app
                            .generate_skill_with(llm, tenant, req, GenerateOptions::default())
                            .await
                    }
                    None => {
                        self.app
                            .generate_skill(tenant, req, GenerateOptions::default())
                            .await
                    }
                }
            }
            Some(_) => {
                return Err(McpError::invalid_params(
                    "`draft` must be a draft's id",
                    None,
                ));
            }
        };
        match outcome {
            Ok(out) => {
                let value = serde_json::to_value(&out).unwrap_or_default();
                Ok(structured_result(
                    value,
                    !out.published && out.skill.is_none(),
                ))
            }
            Err(e) => failure(&e),
        }
    }

    pub(super) async fn review_skill(
        &self,
        tenant: &str,
        args: &JsonObject,
    ) -> Result<CallToolResult, McpError> {
        let name = str_arg(args, "name")?;
        let verdict: Review =
            serde_json::from_value(args.get("verdict").cloned().unwrap_or_default()).map_err(
                |_| McpError::invalid_params("`verdict` must be \"correct\" or \"wrong\"", None),
            )?;
        let seen: Option<SkillId> = match args.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(
                id.parse()
                    .map_err(|e| McpError::invalid_params(format!("`id`: {e}"), None))?,
            ),
            Some(_) => return Err(McpError::invalid_params("`id` must be a string", None)),
        };
        let note = match args.get("note") {
            None | Some(Value::Null) => None,
            Some(Value::String(n)) => Some(n.as_str()),
            Some(_) => return Err(McpError::invalid_params("`note` must be a string", None)),
        };
        match self
            .app
            .skills()
            .review(tenant, name, seen.as_ref(), verdict, note)
            .await
        {
            Ok(s) => Ok(structured_result(
                json!({"verdict": verdict, "skill": s.summary()}),
                false,
            )),
            Err(e) => failure(&e),
        }
    }
}
