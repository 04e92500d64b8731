//! Same-origin guard for the web UI and the REST API. A server on loopback
//! with no tenants needs no key, so any web page the user visits could
//! otherwise call it from their browser: `POST /api/reset` from a hostile
//! page, or a DNS name rebound to 127.0.0.1. Requests are refused unless
//! their `Host` is one of the server's names and, when a browser sends an
//! `Origin`, it is this same host.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The host names the server answers to.
#[derive(Clone)]
pub(super) struct AllowedHosts(pub Arc<Vec<String>>);

/// `host[:port]` without the port (IPv6 literals keep their brackets).
fn hostname(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or(authority);
    }
    authority.split(':').next().unwrap_or(authority)
}

pub(super) async fn same_origin(
    State(allowed): State<AllowedHosts>,
    req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !allowed.0.iter().any(|a| a == hostname(host)) {
        return (StatusCode::FORBIDDEN, "unknown Host").into_response();
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let same = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .is_some_and(|(_, authority)| authority == host);
        if !same {
            return (StatusCode::FORBIDDEN, "cross-origin requests are refused").into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::hostname;

    #[test]
    fn hostnames_drop_the_port() {
        assert_eq!(hostname("127.0.0.1:8765"), "127.0.0.1");
        assert_eq!(hostname("localhost"), "localhost");
        assert_eq!(hostname("[::1]:8765"), "[::1]");
    }
}
