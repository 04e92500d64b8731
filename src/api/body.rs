//! Request bodies, read whole under a size cap and a total time limit
//! before anything else looks at them.
//!
//! A per-read timeout does not stop a client that trickles one byte every
//! few seconds; a total one does. The JSON-RPC method is noted on the way:
//! session limits and the shutdown drain need it.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The JSON-RPC method of a request (the first one, for a batch), if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RpcMethod(pub Option<String>);

/// How much, and how long, a body may be.
#[derive(Debug, Clone, Copy)]
pub(super) struct BodyLimits {
    pub bytes: usize,
    pub timeout: Duration,
}

pub(super) async fn buffer(State(limits): State<BodyLimits>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let bytes = match tokio::time::timeout(limits.timeout, axum::body::to_bytes(body, limits.bytes))
        .await
    {
        Err(_) => {
            return (
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body took longer than {} s",
                    limits.timeout.as_secs()
                ),
            )
                .into_response();
        }
        Ok(Err(e)) if is_too_large(&e) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is over {} bytes", limits.bytes),
            )
                .into_response();
        }
        Ok(Err(_)) => {
            return (StatusCode::BAD_REQUEST, "the request body was cut off").into_response();
        }
        Ok(Ok(b)) => b,
    };
    parts.extensions.insert(RpcMethod(method_of(&bytes)));
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn is_too_large(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// The `method` of a JSON-RPC message or of the first in a batch; `None`
/// for anything else (rmcp answers those).
fn method_of(body: &Bytes) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Message {
        method: Option<String>,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Message),
        Many(Vec<Message>),
    }
    match serde_json::from_slice::<OneOrMany>(body).ok()? {
        OneOrMany::One(m) => m.method,
        OneOrMany::Many(v) => v.into_iter().next().and_then(|m| m.method),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_read_from_messages_and_batches() {
        let one =
            Bytes::from_static(br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#);
        assert_eq!(method_of(&one).as_deref(), Some("initialize"));
        let batch = Bytes::from_static(br#"[{"jsonrpc":"2.0","method":"ping"}]"#);
        assert_eq!(method_of(&batch).as_deref(), Some("ping"));
        assert_eq!(method_of(&Bytes::from_static(b"garbage")), None);
    }
}
