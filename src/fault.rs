//! One taxonomy for every error the core returns. Each error says three
//! things, and each front end (MCP, REST, the CLI) turns them into its own
//! shape in one function:
//!
//! - [`Classify::kind`]: the stable snake_case name clients and scripts
//!   see (`not_found`, `quota_exceeded`, `exception`, ...);
//! - [`Classify::fault`]: whose it is. A [`Fault::Caller`] error is the
//!   request's (its input, its skill's code, its share of a limit); the
//!   front end says why. A [`Fault::Host`] error is ours (a database that
//!   is away, a worker that panicked): it is logged, and a remote caller
//!   learns its kind, never its text;
//! - [`Classify::retry_after`]: when waiting helps, how long.
//!
//! [`Classify::detail`] adds what a caller can act on beyond the message
//! (a verification's problems, which quota, a skill's traceback).

use std::time::Duration;

use serde_json::{Map, Value};

use crate::text::MAX_MESSAGE_BYTES;

/// Whose a failure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request's: the caller changes it, or waits.
    Caller,
    /// The host's: nothing the caller sent caused it.
    Host,
}

/// The kind of a host fault that has no kind of its own (a panicked
/// worker, a task that could not be joined).
pub const INTERNAL: &str = "internal";

/// What every error of the core says about itself.
pub trait Classify: std::fmt::Display {
    /// The stable name clients see.
    fn kind(&self) -> &'static str;

    /// Whose it is.
    fn fault(&self) -> Fault {
        Fault::Caller
    }

    /// How long to wait before trying again, when waiting helps.
    fn retry_after(&self) -> Option<Duration> {
        None
    }

    /// Fields beside `kind` and `message` in the error object.
    fn detail(&self) -> Map<String, Value> {
        Map::new()
    }

    /// The error object front ends send: `{"kind", "message", ...detail}`.
    /// A host fault's message is a fixed sentence (its text is logged).
    fn to_object(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("kind".into(), self.kind().into());
        let message = match self.fault() {
            Fault::Caller => crate::text::truncate(&self.to_string(), MAX_MESSAGE_BYTES),
            Fault::Host => HOST_MESSAGE.to_owned(),
        };
        obj.insert("message".into(), message.into());
        if let Some(wait) = self.retry_after() {
            obj.insert("retry_after_seconds".into(), wait.as_secs().max(1).into());
        }
        obj.extend(self.detail());
        Value::Object(obj)
    }
}

/// What a remote caller reads of a host fault.
pub const HOST_MESSAGE: &str =
    "the server failed to do this (not a fault of the request); it is logged, try again later";

/// A host fault with no kind of its own: a worker that panicked or could
/// not be joined. Its text is for the log.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Internal(pub String);

impl Internal {
    /// `what` failed because of `cause` (a join error, a panic).
    pub fn of(what: &str, cause: impl std::fmt::Display) -> Self {
        Self(format!("{what}: {cause}"))
    }
}

impl Classify for Internal {
    fn kind(&self) -> &'static str {
        INTERNAL
    }
    fn fault(&self) -> Fault {
        Fault::Host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("secret path /var/lib/x")]
    struct Down;
    impl Classify for Down {
        fn kind(&self) -> &'static str {
            "store"
        }
        fn fault(&self) -> Fault {
            Fault::Host
        }
        fn retry_after(&self) -> Option<Duration> {
            Some(Duration::from_millis(300))
        }
    }

    #[test]
    fn a_host_fault_shows_its_kind_not_its_text() {
        let obj = Down.to_object();
        assert_eq!(obj["kind"], "store");
        assert_eq!(obj["message"], HOST_MESSAGE);
        assert_eq!(obj["retry_after_seconds"], 1);
        assert!(!obj.to_string().contains("/var/lib"));
    }

    #[test]
    fn internal_is_the_hosts() {
        let e = Internal::of("search worker", "panicked");
        assert_eq!((e.kind(), e.fault()), ("internal", Fault::Host));
        assert_eq!(e.to_string(), "search worker: panicked");
    }
}
