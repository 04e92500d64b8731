//! `GET /metrics`: the Prometheus text exposition of [`crate::metrics`].
//!
//! The page names tenants, so it is not public: a server bound to loopback
//! serves it to anyone who can reach it (that is, this machine); any other
//! server only with `Authorization: Bearer $AUTOLEARN_METRICS_TOKEN`, and
//! not at all when no token is set.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::App;

/// Who may read `/metrics`.
#[derive(Clone)]
pub(super) struct MetricsAccess {
    pub app: App,
    /// The server listens on loopback only.
    pub loopback: bool,
    /// The scraper's token, if one is configured.
    pub token: Option<String>,
}

/// The content type of the OpenMetrics text format that
/// `prometheus-client` writes (Prometheus negotiates it).
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub(super) async fn metrics(State(access): State<MetricsAccess>, headers: HeaderMap) -> Response {
    if !access.loopback {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let allowed = match (&access.token, given) {
            (Some(want), Some(got)) => constant_time_eq(want.as_bytes(), got.as_bytes()),
            _ => false,
        };
        if !allowed {
            return (
                StatusCode::FORBIDDEN,
                "metrics need `Authorization: Bearer $AUTOLEARN_METRICS_TOKEN` on a server not bound to loopback\n",
            )
                .into_response();
        }
    }
    let body = access.app.render_metrics();
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
