//! Serving the app over TCP so that no client can exhaust the process: a cap on open
//! connections (the accept loop waits for a free slot, so further clients queue in the listen
//! backlog instead of taking descriptors), a deadline for a request's headers, a silence limit
//! on every connection (an idle keep-alive, a half-sent body or a client that stops reading),
//! a deadline per request, a cap on requests handled at once, and a graceful shutdown that lets
//! in-flight requests finish.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::config::ConnectionSettings;
use crate::error::ApiError;

/// Streams per HTTP/2 connection handled at once.
const H2_MAX_STREAMS: u32 = 64;
/// Bytes of request head (and of body read at once) buffered per connection: with the
/// connection cap this bounds what idle or slow clients can make the server hold. Larger
/// headers answer 431.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Descriptors kept free for the database pool, the log and the listener itself.
const RESERVED_FDS: usize = 64;

/// Admission of requests: a turn among `max_concurrent_requests`, within the request deadline.
#[derive(Clone)]
struct Admission {
    turns: Arc<Semaphore>,
    deadline: Duration,
}

async fn admit(State(admission): State<Admission>, request: Request, next: Next) -> Response {
    let run = async {
        let _turn = admission.turns.acquire().await;
        next.run(request).await
    };
    match tokio::time::timeout(admission.deadline, run).await {
        Ok(response) => response,
        Err(_) => ApiError::RequestTimeout.into_response(),
    }
}

/// The app with the per-request deadline and the cap on concurrent requests.
pub fn bounded(app: Router, settings: &ConnectionSettings) -> Router {
    let admission = Admission {
        turns: Arc::new(Semaphore::new(settings.max_concurrent_requests)),
        deadline: settings.request_timeout,
    };
    app.layer(axum::middleware::from_fn_with_state(admission, admit))
}

/// The connection cap that fits the process's descriptor limit (read from `/proc/self/limits`
/// on Linux; elsewhere the configured cap is kept).
pub fn fitted_max_connections(configured: usize) -> usize {
    let soft_limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|n| n.parse::<usize>().ok())
        });
    match soft_limit {
        Some(limit) => configured.min(limit.saturating_sub(RESERVED_FDS).max(1)),
        None => configured,
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then waits up to the grace period
/// for open requests to finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: ConnectionSettings,
    shutdown: impl Future<Output = ()>,
) {
    let app = bounded(app, &settings);
    let max_connections = fitted_max_connections(settings.max_open_connections);
    if max_connections < settings.max_open_connections {
        tracing::warn!(
            configured = settings.max_open_connections,
            max_connections,
            "connection cap lowered to fit the file-descriptor limit"
        );
    }
    let slots = Arc::new(Semaphore::new(max_connections));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(H2_MAX_STREAMS)
        .max_header_list_size(MAX_HEAD_BYTES as u32);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and friends: wait for descriptors to come back, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service =
            app.clone()
                .map_request(move |mut request: Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request.map(axum::body::Body::new)
                });
        let io = TokioIo::new(Watchdog::new(stream, settings.idle_timeout));
        let connection = builder
            .serve_connection_with_upgrades(io, TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!(open = graceful.count(), "draining connections");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(settings.shutdown_grace) => {
            tracing::warn!("grace period over; closing the remaining connections");
        }
    }
}

/// A socket that fails with `TimedOut` once it has made no progress (no byte read or written)
/// for `limit` while the server waits on it.
///
/// Progress only notes the time; the timer is moved when it fires early (progress was made
/// since it was set). Resetting it on every read and write was two timer-wheel updates per
/// request on a keep-alive connection.
struct Watchdog {
    stream: TcpStream,
    limit: Duration,
    last_progress: Instant,
    deadline: Pin<Box<Sleep>>,
}

impl Watchdog {
    fn new(stream: TcpStream, limit: Duration) -> Self {
        Self {
            stream,
            limit,
            last_progress: Instant::now(),
            deadline: Box::pin(tokio::time::sleep(limit)),
        }
    }

    fn progressed(&mut self) {
        self.last_progress = Instant::now();
    }

    /// After the socket said Pending: whether the silence has lasted too long (otherwise the
    /// deadline wakes the connection when it may have).
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        while self.deadline.as_mut().poll(cx).is_ready() {
            let due = self.last_progress + self.limit;
            if Instant::now() >= due {
                return true;
            }
            self.deadline.as_mut().reset(due);
        }
        false
    }

    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        written: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match written {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.progressed();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(silent())),
            Poll::Pending => Poll::Pending,
        }
    }
}

fn silent() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection silent for too long")
}

impl AsyncRead for Watchdog {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    this.progressed();
                }
                Poll::Ready(result)
            }
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(silent())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for Watchdog {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, data);
        this.after_write(cx, written)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.stream).poll_flush(cx))?;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.after_write(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
