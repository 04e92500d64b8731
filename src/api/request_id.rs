//! Every HTTP request gets an id: the caller's `X-Request-Id` when it is a
//! short token (a load balancer's), else a new one. The id comes back in
//! the response's `X-Request-Id` and is a field of every log line written
//! while the request is handled, so one request can be followed through
//! the logs of a replica.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

const HEADER: &str = "x-request-id";
/// Longest id taken from a caller.
const MAX_LEN: usize = 64;
/// Longest path written to a log line.
const MAX_PATH: usize = 256;

fn valid(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_LEN
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A process-unique id: a random prefix per process, then a counter.
fn new_id() -> HeaderValue {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| {
        let mut bytes = [0u8; 6];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut bytes);
        hex::encode(bytes)
    });
    let id = format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

pub(super) async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .filter(|v| valid(v))
        .cloned()
        .unwrap_or_else(new_id);
    req.headers_mut().insert(HEADER, id.clone());
    let path = crate::text::truncate(req.uri().path(), MAX_PATH);
    let span = tracing::info_span!(
        "request",
        request_id = id.to_str().unwrap_or(""),
        method = %req.method(),
        path = %path,
    );
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "served"
        );
    });
    response.headers_mut().insert(HEADER, id);
    response
}
