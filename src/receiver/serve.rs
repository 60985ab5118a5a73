//! Serving a listener, shared by the gRPC, HTTP and telemetry servers: at most
//! `max_connections` at once (the next accept waits for a free slot, so descriptors never run
//! out), accept errors counted, logged at a bounded rate and followed by a back-off instead of
//! a spin, HTTP/2 settings, and every connection watched for its timeouts.

use super::connection::{Connection, ConnectionTimeouts, Observed, Verdict};
use super::pings::PingPolicy;
use super::tls::ServerTls;
use crate::telemetry::{AgentCounters, Listener, RateLimitedLog};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// A response on its way.
pub type Responding<B> = std::pin::Pin<Box<dyn Future<Output = Response<B>> + Send>>;

/// What serves the requests of a connection.
pub trait Handler: Clone + Send + Sync + 'static {
    type Body: http_body::Body<Data = bytes::Bytes, Error: Into<super::BoxError>> + Send + 'static;
    fn handle(
        &self,
        request: Request<Incoming>,
        connection: Arc<Connection>,
    ) -> Responding<Self::Body>;
}

/// How one listener's connections are served.
#[derive(Debug, Clone)]
pub struct ServeLimits {
    pub listener: Listener,
    pub max_connections: usize,
    pub timeouts: ConnectionTimeouts,
    /// HTTP/2 only (gRPC) with these settings, or HTTP/1 and HTTP/2 (`None`).
    pub http2_only: Option<Http2Limits>,
    /// Each connection's share of the admission budget, in bytes.
    pub connection_budget: usize,
    /// TLS, for every connection of the listener.
    pub tls: Option<Arc<ServerTls>>,
}

#[derive(Debug, Clone, Copy)]
pub struct Http2Limits {
    pub max_concurrent_streams: u32,
    pub keepalive_interval: Option<Duration>,
    pub keepalive_timeout: Duration,
    pub pings: Option<PingPolicy>,
}

/// The first wait after a failed accept, doubled up to [`MAX_BACKOFF`] while accepts keep failing.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How long a connection asked to close (idle, shutdown) may take to finish its calls before it
/// is cut…
const DRAIN_LIMIT: Duration = Duration::from_secs(10);
/// How long a TLS handshake may take when the listener has no header timeout.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);
/// …and how long once it has none: enough for the client to answer the GOAWAY's ping, not so
/// long that a client which never answers holds its descriptor for the whole drain limit.
const QUIET_DRAIN: Duration = Duration::from_millis(500);

struct Shared<H> {
    handler: H,
    limits: ServeLimits,
    builder: auto::Builder<TokioExecutor>,
    counters: Arc<AgentCounters>,
    closes: RateLimitedLog,
}

/// Serves `listener` until `shutdown` completes, then asks every connection to finish its
/// calls and waits until they have.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    limits: ServeLimits,
    handler: H,
    counters: Arc<AgentCounters>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let shared = Arc::new(Shared {
        builder: builder(&limits),
        handler,
        limits,
        counters,
        closes: RateLimitedLog::new(Duration::from_secs(10)),
    });
    let accept_errors = RateLimitedLog::new(Duration::from_secs(10));
    let mut backoff = FIRST_BACKOFF;
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            _ = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                backoff = FIRST_BACKOFF;
                tokio::spawn(serve_connection(
                    stream,
                    slot,
                    shared.clone(),
                    stopping.clone(),
                ));
            }
            Err(error) if is_connection_error(&error) => {}
            Err(error) => {
                let name = shared.limits.listener.as_str();
                shared
                    .counters
                    .receiver
                    .accept_error(shared.limits.listener);
                accept_errors.warn(&format!(
                    "{name} receiver: accepting a connection failed: {error}; retrying in {backoff:?}"
                ));
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let every_slot = u32::try_from(shared.limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(every_slot).await;
    Ok(())
}

/// Errors of one connection that came and went before it was accepted: no back-off.
fn is_connection_error(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

fn builder(limits: &ServeLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The header timeout is the connection watcher's (hyper's would also end idle keep-alives).
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None);
    builder.http2().timer(TokioTimer::new());
    if let Some(http2) = limits.http2_only {
        builder = builder.http2_only();
        builder
            .http2()
            .max_concurrent_streams(http2.max_concurrent_streams)
            .keep_alive_interval(http2.keepalive_interval)
            .keep_alive_timeout(http2.keepalive_timeout);
    }
    builder
}

/// Serves one connection (after its TLS handshake, when the listener has TLS); its slot is
/// freed when it ends.
async fn serve_connection<H: Handler>(
    stream: TcpStream,
    slot: OwnedSemaphorePermit,
    shared: Arc<Shared<H>>,
    stopping: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let Some(tls) = &shared.limits.tls else {
        return serve_stream(stream, slot, shared, stopping).await;
    };
    // Each handshake takes the configuration in force now: a rotated certificate is used from
    // the next connection on.
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config());
    let limit = shared.limits.timeouts.header.unwrap_or(HANDSHAKE_LIMIT);
    match tokio::time::timeout(limit, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => serve_stream(stream, slot, shared, stopping).await,
        Ok(Err(error)) => shared.handshake_failed(&error.to_string()),
        Err(_) => shared.handshake_failed("it did not finish in time"),
    }
}

/// Serves the requests of one connection's byte stream, enforcing its timeouts.
async fn serve_stream<H: Handler, S>(
    stream: S,
    slot: OwnedSemaphorePermit,
    shared: Arc<Shared<H>>,
    mut stopping: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let limits = &shared.limits;
    let pings = limits.http2_only.and_then(|http2| http2.pings);
    let connection = Connection::new(limits.connection_budget, pings);
    let io = TokioIo::new(Observed::new(stream, connection.clone()));
    let handler = shared.handler.clone();
    let watched = connection.clone();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let call = watched.call_started();
        let response = handler.handle(request, watched.clone());
        async move {
            let response = response.await;
            drop(call);
            Ok::<_, Infallible>(response)
        }
    });
    shared.counters.receiver.connection_opened(limits.listener);
    let served = shared.builder.serve_connection(io, service);
    watch_connection(
        served,
        |served| served.graceful_shutdown(),
        &connection,
        &shared,
        &mut stopping,
    )
    .await;
    shared.counters.receiver.connection_ended(limits.listener);
    drop(slot);
}

/// Drives `served` until it ends, draining it when a timeout or shutdown asks and cutting it
/// when a timeout or the drain limit says so.
async fn watch_connection<H, S>(
    served: S,
    shut_down: impl Fn(std::pin::Pin<&mut S>),
    connection: &Connection,
    shared: &Shared<H>,
    stopping: &mut watch::Receiver<bool>,
) where
    S: Future<Output = Result<(), super::BoxError>>,
{
    tokio::pin!(served);
    let limits = &shared.limits;
    let mut draining: Option<Instant> = None;
    loop {
        let verdict = connection.verdict(&limits.timeouts, Instant::now(), draining.is_some());
        let wake = match verdict {
            Verdict::Keep(wake) => wake,
            Verdict::Drain(reason) => {
                shared.closed(reason);
                shut_down(served.as_mut());
                draining = Some(Instant::now());
                continue;
            }
            Verdict::Cut(reason) => {
                shared.closed(reason);
                return;
            }
        };
        let drained_by = draining.map(|since| drain_deadline(since, connection.calls()));
        let wake = [wake, drained_by].into_iter().flatten().min();
        let stop_requested = !*stopping.borrow() && draining.is_none();
        tokio::select! {
            result = served.as_mut() => {
                if let Err(error) = result {
                    shared.ended_with(&*error);
                }
                return;
            }
            _ = sleep_until(wake) => {
                if drained_by.is_some_and(|limit| Instant::now() >= limit) {
                    return;
                }
            }
            _ = connection.changed() => {}
            _ = stopping.changed(), if stop_requested => {
                shut_down(served.as_mut());
                draining = Some(Instant::now());
            }
        }
    }
}

/// When a connection draining since `since`, with `calls` in flight, is cut.
fn drain_deadline(since: Instant, calls: usize) -> Instant {
    since + if calls == 0 { QUIET_DRAIN } else { DRAIN_LIMIT }
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl<H> Shared<H> {
    /// A client's TLS handshake failed (no client certificate under mutual TLS, an unknown CA,
    /// a plain-text client): counted and logged at a bounded rate.
    fn handshake_failed(&self, why: &str) {
        self.closed(super::CloseReason::TlsHandshake);
        self.closes.warn(&format!(
            "{} receiver: TLS handshake failed: {why}",
            self.limits.listener.as_str()
        ));
    }

    fn closed(&self, reason: super::CloseReason) {
        self.counters
            .receiver
            .connection_closed(self.limits.listener, reason);
        tracing::debug!(
            listener = self.limits.listener.as_str(),
            reason = reason.as_str(),
            "closing a connection"
        );
    }

    /// A connection ended with an error: worth a (bounded) log line only when the agent cut it
    /// for abuse.
    fn ended_with(&self, error: &(dyn std::error::Error + 'static)) {
        let mut source = Some(error);
        while let Some(error) = source {
            if error
                .downcast_ref::<super::connection::TooManyPings>()
                .is_some()
            {
                self.closed(super::CloseReason::TooManyPings);
                self.closes.warn(&format!(
                    "{} receiver: closed a connection: {error}",
                    self.limits.listener.as_str()
                ));
                return;
            }
            source = error.source();
        }
        tracing::debug!(
            listener = self.limits.listener.as_str(),
            "connection ended: {error}"
        );
    }
}
