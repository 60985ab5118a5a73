//! One accepted connection's life: what it is doing (calls in flight, bytes of a request that
//! has not started yet, its age), the IO wrapper that observes it, and the verdicts of its
//! timeouts — idle, request headers, maximum age — shared by the gRPC and HTTP receivers.

use super::pings::{PingPolicy, PingWatch};
use crate::telemetry::label_values;
use pin_project_lite::pin_project;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

/// No time recorded.
const NEVER: u64 = u64::MAX;

/// The timeouts of one receiver's connections; `None` turns one off.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectionTimeouts {
    /// No call for this long: the connection is asked to close.
    pub idle: Option<Duration>,
    /// Bytes of a request arrived but its headers are not complete after this long: cut (HTTP/1).
    pub header: Option<Duration>,
    /// Asked to close at this age…
    pub max_age: Option<Duration>,
    /// …and cut this long after.
    pub age_grace: Option<Duration>,
}

/// Why a connection was closed by the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    Idle,
    HeaderTimeout,
    MaxAge,
    AgeGrace,
    TooManyPings,
    /// The TLS handshake failed or did not finish within the header timeout.
    TlsHandshake,
}

label_values!(CloseReason {
    Idle => "idle",
    HeaderTimeout => "read_header_timeout",
    MaxAge => "max_connection_age",
    AgeGrace => "max_connection_age_grace",
    TooManyPings => "too_many_pings",
    TlsHandshake => "tls_handshake",
});

/// What the watcher does with a connection now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Look again at this instant.
    Keep(Option<Instant>),
    /// Finish the calls in flight, take no new ones, then close (GOAWAY on HTTP/2).
    Drain(CloseReason),
    /// Close at once.
    Cut(CloseReason),
}

/// The shared state of one connection, updated by its IO and its calls.
pub struct Connection {
    started: Instant,
    calls: AtomicUsize,
    /// Milliseconds since `started`: when the last call ended (or the connection opened).
    idle_since: AtomicU64,
    /// Milliseconds since `started`: first byte read while no call was in flight.
    partial_since: AtomicU64,
    http2: AtomicBool,
    /// This connection's share of the admission budget, in bytes.
    pub(super) budget_share: Arc<Semaphore>,
    pings: Mutex<PingWatch>,
    /// Wakes the watcher when a verdict may have changed: a request began to arrive, a call ended.
    changed: Notify,
}

impl Connection {
    pub fn new(share_bytes: usize, pings: Option<PingPolicy>) -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            calls: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            partial_since: AtomicU64::new(NEVER),
            http2: AtomicBool::new(false),
            budget_share: Arc::new(Semaphore::new(share_bytes)),
            pings: Mutex::new(PingWatch::new(pings)),
            changed: Notify::new(),
        })
    }

    fn millis(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_millis() as u64
    }

    fn at(&self, millis: u64) -> Instant {
        self.started + Duration::from_millis(millis)
    }

    /// A call began (its headers are in); the returned guard ends it.
    pub fn call_started(self: &Arc<Self>) -> CallGuard {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.partial_since.store(NEVER, Ordering::SeqCst);
        if let Ok(mut pings) = self.pings.lock() {
            pings.reset();
        }
        CallGuard(self.clone())
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Completes when the connection's verdict may have changed since the last call.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Bytes arrived from the client.
    fn bytes_read(&self, bytes: &[u8]) {
        if self.calls() == 0 {
            let now = self.millis(Instant::now());
            let started =
                self.partial_since
                    .compare_exchange(NEVER, now, Ordering::SeqCst, Ordering::SeqCst);
            if started.is_ok() {
                self.changed.notify_one();
            }
        }
        if bytes.starts_with(b"PRI * HTTP/2.0") {
            self.http2.store(true, Ordering::SeqCst);
        }
    }

    /// Whether a ping the client just sent is one too many.
    fn ping_abuse(&self, frames: &[u8]) -> bool {
        let calls = self.calls();
        self.pings
            .lock()
            .map(|mut pings| pings.observe(frames, calls, std::time::Instant::now()))
            .unwrap_or(false)
    }

    /// What to do with the connection at `now`, given its timeouts; `draining` once it was
    /// asked to close.
    pub fn verdict(&self, timeouts: &ConnectionTimeouts, now: Instant, draining: bool) -> Verdict {
        let mut next: Option<Instant> = None;
        let mut wake = |at: Instant| next = Some(next.map_or(at, |next: Instant| next.min(at)));
        if let Some(max_age) = timeouts.max_age {
            let asked = self.started + max_age;
            if !draining && now >= asked {
                return Verdict::Drain(CloseReason::MaxAge);
            }
            if let Some(grace) = timeouts.age_grace {
                if now >= asked + grace {
                    return Verdict::Cut(CloseReason::AgeGrace);
                }
                wake(if draining { asked + grace } else { asked });
            } else if !draining {
                wake(asked);
            }
        }
        if self.calls() == 0 {
            let partial = self.partial_since.load(Ordering::SeqCst);
            if let (Some(header), false, true) = (
                timeouts.header,
                self.http2.load(Ordering::SeqCst),
                partial != NEVER,
            ) {
                let due = self.at(partial) + header;
                if now >= due {
                    return Verdict::Cut(CloseReason::HeaderTimeout);
                }
                wake(due);
            }
            if let (Some(idle), false) = (timeouts.idle, draining) {
                let due = self.at(self.idle_since.load(Ordering::SeqCst)) + idle;
                if now >= due {
                    return Verdict::Drain(CloseReason::Idle);
                }
                wake(due);
            }
        } else if let (Some(idle), false) = (timeouts.idle, draining) {
            // Look again once the calls may have ended.
            wake(now + idle);
        }
        Verdict::Keep(next)
    }
}

/// Ends a call when dropped.
pub struct CallGuard(Arc<Connection>);

impl Drop for CallGuard {
    fn drop(&mut self) {
        let connection = &self.0;
        connection
            .idle_since
            .store(connection.millis(Instant::now()), Ordering::SeqCst);
        connection.calls.fetch_sub(1, Ordering::SeqCst);
        connection.changed.notify_one();
    }
}

pin_project! {
    /// A socket whose reads are reported to its [`Connection`]; a read fails once the client
    /// pings too often.
    pub struct Observed<T> {
        #[pin]
        inner: T,
        connection: Arc<Connection>,
    }
}

impl<T> Observed<T> {
    pub fn new(inner: T, connection: Arc<Connection>) -> Self {
        Self { inner, connection }
    }
}

/// The read error of a connection cut for pinging too often.
#[derive(Debug, thiserror::Error)]
#[error("the client pinged more often than keepalive.enforcement_policy.min_time allows")]
pub struct TooManyPings;

impl<T: AsyncRead> AsyncRead for Observed<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let result = this.inner.poll_read(cx, buf);
        let fresh = &buf.filled()[before..];
        if !fresh.is_empty() {
            this.connection.bytes_read(fresh);
            if this.connection.ping_abuse(fresh) {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    TooManyPings,
                )));
            }
        }
        result
    }
}

impl<T: AsyncWrite> AsyncWrite for Observed<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeouts() -> ConnectionTimeouts {
        ConnectionTimeouts {
            idle: Some(Duration::from_secs(60)),
            header: Some(Duration::from_secs(10)),
            max_age: None,
            age_grace: None,
        }
    }

    /// The connection's clock is in whole milliseconds.
    fn about(verdict: Verdict, expected: Instant) -> bool {
        matches!(verdict, Verdict::Keep(Some(at)) if at.max(expected) - at.min(expected) <= Duration::from_millis(2))
    }

    #[test]
    fn an_idle_connection_drains_after_the_idle_timeout() {
        let connection = Connection::new(1, None);
        let start = connection.started;
        assert!(about(
            connection.verdict(&timeouts(), start, false),
            start + Duration::from_secs(60)
        ));
        assert_eq!(
            connection.verdict(&timeouts(), start + Duration::from_secs(60), false),
            Verdict::Drain(CloseReason::Idle)
        );
    }

    #[test]
    fn a_call_in_flight_keeps_the_connection_and_its_end_restarts_the_idle_clock() {
        let connection = Connection::new(1, None);
        let call = connection.call_started();
        let later = connection.started + Duration::from_secs(100);
        assert!(matches!(
            connection.verdict(&timeouts(), later, false),
            Verdict::Keep(_)
        ));
        std::thread::sleep(Duration::from_millis(20));
        drop(call);
        let ended = Instant::now();
        assert!(about(
            connection.verdict(&timeouts(), ended + Duration::from_secs(59), false),
            ended + Duration::from_secs(60)
        ));
        assert!(
            ended + Duration::from_secs(60) > connection.started + Duration::from_millis(60_015)
        );
    }

    #[test]
    fn partial_headers_are_cut_after_the_header_timeout_but_not_on_http2() {
        let connection = Connection::new(1, None);
        connection.bytes_read(b"POST /v1/tra");
        let start = Instant::now();
        assert_eq!(
            connection.verdict(&timeouts(), start + Duration::from_secs(10), false),
            Verdict::Cut(CloseReason::HeaderTimeout)
        );
        let h2 = Connection::new(1, None);
        h2.bytes_read(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        assert!(about(
            h2.verdict(&timeouts(), start + Duration::from_secs(10), false),
            h2.started + Duration::from_secs(60)
        ));
    }

    #[test]
    fn an_old_connection_drains_then_is_cut_after_the_grace() {
        let connection = Connection::new(1, None);
        let _call = connection.call_started();
        let limits = ConnectionTimeouts {
            max_age: Some(Duration::from_secs(30)),
            age_grace: Some(Duration::from_secs(5)),
            ..timeouts()
        };
        let start = connection.started;
        assert_eq!(
            connection.verdict(&limits, start + Duration::from_secs(30), false),
            Verdict::Drain(CloseReason::MaxAge)
        );
        assert_eq!(
            connection.verdict(&limits, start + Duration::from_secs(31), true),
            Verdict::Keep(Some(start + Duration::from_secs(35)))
        );
        assert_eq!(
            connection.verdict(&limits, start + Duration::from_secs(35), true),
            Verdict::Cut(CloseReason::AgeGrace)
        );
    }
}
