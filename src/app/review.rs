//! A person's word on a draft: "correct" publishes it, "wrong" retires it,
//! and the learnings log keeps which and why. A skill crystallized from an
//! answer the person has not confirmed, or generated below the trust
//! threshold, waits here; a wrong answer never becomes a tool.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Event, Skills};
use crate::skills::{Skill, SkillId, Status};
use crate::store::StoreError;

/// What the person said about a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    /// Its answer is right: publish it.
    Correct,
    /// Its answer is wrong: it must never become a tool.
    Wrong,
}

/// A review could not be applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// Reading or writing the skill failed (or it does not exist).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Only a draft is reviewed.
    #[error("{name:?} is {status}, not a draft: only a draft is reviewed")]
    NotDraft {
        /// The skill.
        name: String,
        /// Its current status.
        status: Status,
    },
    /// The draft the person saw is no longer the current version.
    #[error("{name:?} changed: its current version is {current}, not {seen}")]
    Changed {
        /// The skill.
        name: String,
        /// The version reviewed.
        seen: String,
        /// The current version.
        current: String,
    },
    /// The note is too long.
    #[error("the note is {0} bytes, over the limit of {MAX_NOTE} bytes")]
    NoteTooLong(usize),
}

impl crate::fault::Classify for ReviewError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Store(e) => e.kind(),
            Self::NotDraft { .. } | Self::Changed { .. } => "conflict",
            Self::NoteTooLong(_) => "bad_request",
        }
    }
    fn fault(&self) -> crate::fault::Fault {
        match self {
            Self::Store(e) => e.fault(),
            _ => crate::fault::Fault::Caller,
        }
    }
}

/// The longest note a review keeps, in bytes.
pub const MAX_NOTE: usize = 2048;

impl Skills<'_> {
    /// Apply a person's `review` to the draft `name` (the version `seen`,
    /// when given, so a review never lands on a version the person did not
    /// see). Returns the skill as it is now.
    pub async fn review(
        &self,
        tenant: &str,
        name: &str,
        seen: Option<&SkillId>,
        review: Review,
        note: Option<&str>,
    ) -> Result<Skill, ReviewError> {
        if let Some(n) = note.filter(|n| n.len() > MAX_NOTE) {
            return Err(ReviewError::NoteTooLong(n.len()));
        }
        let skill = self.app.store.latest(tenant, name).await?;
        if let Some(seen) = seen.filter(|s| **s != skill.id) {
            return Err(ReviewError::Changed {
                name: name.to_owned(),
                seen: seen.to_string(),
                current: skill.id.to_string(),
            });
        }
        if skill.status != Status::Draft {
            return Err(ReviewError::NotDraft {
                name: name.to_owned(),
                status: skill.status,
            });
        }
        let status = match review {
            Review::Correct => Status::Published,
            Review::Wrong => Status::Retired,
        };
        let now = self
            .app
            .store
            .set_status(tenant, name, &skill.id, status)
            .await?;
        self.app
            .learn(
                tenant,
                "review",
                name,
                json!({"verdict": review, "id": skill.id, "version": skill.version, "provenance": skill.provenance, "note": note}),
            )
            .await;
        match review {
            Review::Correct => {
                self.app.notify(
                    tenant,
                    Event::SkillAdded {
                        name: name.to_owned(),
                        version: now.version,
                        status: now.status.to_string(),
                        trust: now.trust(),
                    },
                );
                self.app.announce(tenant, name);
            }
            Review::Wrong => self.app.notify(
                tenant,
                Event::SkillRetired {
                    name: name.to_owned(),
                },
            ),
        }
        Ok(now)
    }
}
