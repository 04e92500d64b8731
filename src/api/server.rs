//! The listener: connections, their limits, and shutdown.
//!
//! Our own accept loop over hyper, rather than `axum::serve`, for three
//! bounds that one does not give: a cap on open connections (past it,
//! clients wait in the kernel's backlog), a deadline on each request's
//! headers (a client trickling a header no longer holds a socket forever),
//! and a shutdown that ends. On the signal the server stops accepting,
//! lets in-flight requests finish up to a drain deadline (long-lived event
//! streams do not count), then cancels MCP sessions and streams and exits,
//! whatever a half-sent request is still doing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use super::body::RpcMethod;
use crate::limits::ServerLimits;

/// Requests whose responses are not finished yet.
#[derive(Clone, Default)]
pub(super) struct InFlight(Arc<(AtomicUsize, Notify)>);

struct InFlightGuard(InFlight);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if (self.0).0.0.fetch_sub(1, Ordering::AcqRel) == 1 {
            (self.0).0.1.notify_waiters();
        }
    }
}

impl InFlight {
    fn enter(&self) -> InFlightGuard {
        self.0.0.fetch_add(1, Ordering::AcqRel);
        InFlightGuard(self.clone())
    }

    /// Resolves when no request is in flight.
    async fn idle(&self) {
        loop {
            let notified = self.0.1.notified();
            if self.0.0.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Count a request as in flight until its response body has been sent.
/// GET event streams and `subscriptions/listen` stay open by design and
/// would hold a drain until its deadline, so they are not counted.
pub(super) async fn track(State(inflight): State<InFlight>, req: Request, next: Next) -> Response {
    let listening = req.method() == axum::http::Method::GET
        || req
            .extensions()
            .get::<RpcMethod>()
            .is_some_and(|m| m.0.as_deref() == Some("subscriptions/listen"));
    if listening {
        return next.run(req).await;
    }
    let guard = inflight.enter();
    let response = next.run(req).await;
    let (parts, body) = response.into_parts();
    Response::from_parts(
        parts,
        Body::new(Guarded {
            body,
            _guard: guard,
        }),
    )
}

/// A response body that holds an [`InFlightGuard`] until it is done.
struct Guarded {
    body: Body,
    _guard: InFlightGuard,
}

impl http_body::Body for Guarded {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Serve `router` on `listener` until `stop` is cancelled, then drain:
/// wait for `inflight` up to the drain deadline, cancel `sessions` (the MCP
/// sessions and streams), and give connections a moment to close.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &ServerLimits,
    stop: CancellationToken,
    inflight: InFlight,
    sessions: CancellationToken,
) -> std::io::Result<()> {
    let max = limits.connections.max(1);
    let connections = Arc::new(Semaphore::new(max));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    // Told to each connection when the server stops: finish the request
    // in hand, then close. (hyper-util's GracefulShutdown does not take
    // connections with upgrades, which the web UI's WebSocket needs.)
    let closing = CancellationToken::new();
    loop {
        let permit = tokio::select! {
            p = connections.clone().acquire_owned() => p.map_err(std::io::Error::other)?,
            () = stop.cancelled() => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: back off, go on.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let conn = http
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let closing = closing.clone();
        tokio::spawn(async move {
            let mut conn = std::pin::pin!(conn);
            // A failed connection is the client's business.
            tokio::select! {
                _ = conn.as_mut() => {}
                () = closing.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    // Idle keep-alive connections close now; busy ones after their request.
    closing.cancel();
    if tokio::time::timeout(limits.drain_timeout, inflight.idle())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after {} s; exiting anyway",
            limits.drain_timeout.as_secs()
        );
    }
    sessions.cancel();
    // Every connection has closed once all permits are back.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(Duration::from_secs(1), connections.acquire_many(all))
        .await
        .is_err()
    {
        tracing::info!("some connections were still open at exit");
    }
    Ok(())
}
