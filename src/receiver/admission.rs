//! The admission budget: the bytes of requests being received (as sent, and after
//! decompression) count against one process-wide budget and the connection's share of it. A
//! request reserves its bytes before they accumulate — an HTTP body its `Content-Length`, a
//! gRPC message the length its 5-byte prefix declares — waits briefly when the budget is used
//! up and is then refused with a retryable status. The reservation is released when the
//! request is done. The memory limiter's verdict is checked here too.
//!
//! A slice of the budget (`small_request_reserve_mib`) is kept for small requests — those whose
//! bytes stay within a sixteenth of that slice — so that large bodies which stall after
//! reserving their length (a partial-body flood: one such body per HTTP/1 connection, held
//! until `read_timeout`) can never take the room every ordinary export needs.

use super::memory_limiter::MemoryLimiter;
use crate::telemetry::{AgentCounters, MemoryRefusal};
use bytes::{Buf, Bytes};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What a refused sender is told to wait before retrying.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Why a request was not read, to be answered with a retryable status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Overload {
    #[error("the agent is receiving as many request bytes as receivers.otlp.admission.request_limit_mib allows; retry in 1s")]
    Budget,
    #[error("this connection holds as many request bytes as receivers.otlp.admission.per_connection_limit_mib allows; retry in 1s")]
    Connection,
    #[error("the agent's memory use is above the memory_limiter's soft limit; retry in 1s")]
    MemoryLimiter,
}

impl Overload {
    pub fn retry_after(self) -> Duration {
        RETRY_AFTER
    }
    fn counted_as(self) -> MemoryRefusal {
        match self {
            Overload::Budget => MemoryRefusal::Budget,
            Overload::Connection => MemoryRefusal::Connection,
            Overload::MemoryLimiter => MemoryRefusal::MemoryLimiter,
        }
    }
}

/// Why reading a request body failed.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error(transparent)]
    Overload(#[from] Overload),
    #[error("the request did not arrive within {0:?} (read_timeout)")]
    TimedOut(Duration),
    #[error("reading the request failed: {0}")]
    Read(#[source] super::BoxError),
}

#[derive(Debug, Clone, Copy)]
pub struct AdmissionLimits {
    /// The whole budget, the small requests' reserve included.
    pub request_limit: usize,
    /// The part of `request_limit` only small requests may use.
    pub small_reserve: usize,
    pub waiting_limit: usize,
    pub wait_timeout: Duration,
}

impl AdmissionLimits {
    /// The largest request that counts as small: a sixteenth of the reserve, so that at least
    /// sixteen of them fit in it at once.
    pub fn small_request(&self) -> usize {
        self.small_reserve / 16
    }
}

/// The process-wide budget.
pub struct Admission {
    /// Every request's bytes…
    budget: Arc<Semaphore>,
    /// …and, when that is used up, a small request's.
    small: Arc<Semaphore>,
    waiting: AtomicUsize,
    limits: AdmissionLimits,
    limiter: Option<Arc<MemoryLimiter>>,
    counters: Arc<AgentCounters>,
}

impl Admission {
    pub fn new(
        limits: AdmissionLimits,
        limiter: Option<Arc<MemoryLimiter>>,
        counters: Arc<AgentCounters>,
    ) -> Arc<Self> {
        Arc::new(Self {
            budget: Arc::new(Semaphore::new(
                limits.request_limit.saturating_sub(limits.small_reserve),
            )),
            small: Arc::new(Semaphore::new(limits.small_reserve)),
            waiting: AtomicUsize::new(0),
            limits,
            limiter,
            counters,
        })
    }

    /// A ticket for a new request on a connection with budget `share`, or the refusal when
    /// the memory limiter refuses data.
    pub fn admit(self: &Arc<Self>, share: &Arc<Semaphore>) -> Result<Arc<Ticket>, Overload> {
        if self
            .limiter
            .as_ref()
            .is_some_and(|limiter| limiter.refusing())
        {
            return Err(self.refused(Overload::MemoryLimiter));
        }
        Ok(Arc::new(Ticket {
            admission: self.clone(),
            share: share.clone(),
            held: Mutex::new(Held::default()),
        }))
    }

    fn refused(&self, why: Overload) -> Overload {
        self.counters.receiver.memory_refused(why.counted_as());
        why
    }
}

/// Permits of the budget (general or reserved for small requests) and of the connection's
/// share.
struct Permits {
    budget: OwnedSemaphorePermit,
    /// Whether `budget` is of the small requests' reserve.
    small: bool,
    share: OwnedSemaphorePermit,
}

#[derive(Default)]
struct Held {
    global: Option<OwnedSemaphorePermit>,
    small: Option<OwnedSemaphorePermit>,
    share: Option<OwnedSemaphorePermit>,
}

fn merge(held: &mut Option<OwnedSemaphorePermit>, more: OwnedSemaphorePermit) {
    match held {
        Some(held) => held.merge(more),
        None => *held = Some(more),
    }
}

fn count(held: &Option<OwnedSemaphorePermit>) -> usize {
    held.as_ref().map_or(0, OwnedSemaphorePermit::num_permits)
}

impl Held {
    fn add(&mut self, permits: Permits) {
        let pool = if permits.small {
            &mut self.small
        } else {
            &mut self.global
        };
        merge(pool, permits.budget);
        merge(&mut self.share, permits.share);
    }
    fn bytes(&self) -> usize {
        count(&self.global) + count(&self.small)
    }
}

/// The bytes one request holds; released when the last clone is dropped.
pub struct Ticket {
    admission: Arc<Admission>,
    share: Arc<Semaphore>,
    held: Mutex<Held>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let bytes = self.held.get_mut().map_or(0, |held| held.bytes());
        self.admission.counters.receiver.in_flight(-(bytes as i64));
    }
}

fn permits(bytes: usize) -> u32 {
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

impl Ticket {
    fn keep(&self, permits: Permits) {
        self.admission
            .counters
            .receiver
            .in_flight(permits.budget.num_permits() as i64);
        if let Ok(mut held) = self.held.lock() {
            held.add(permits);
        }
    }

    fn held_bytes(&self) -> usize {
        self.held.lock().map_or(0, |held| held.bytes())
    }

    /// Whether the request, with `bytes` more, is still small enough for the reserve.
    fn small_with(&self, bytes: usize) -> bool {
        let limits = &self.admission.limits;
        limits.small_reserve > 0 && self.held_bytes() + bytes <= limits.small_request()
    }

    /// Reserves `bytes` more without waiting.
    pub fn try_reserve(&self, bytes: usize) -> Result<(), Overload> {
        self.try_take(bytes)
            .map_err(|why| self.admission.refused(why))
    }

    /// Takes `bytes` of the connection's share and of the budget (of the reserve, for a small
    /// request, when the rest is used up), or says which had no room.
    fn try_take(&self, bytes: usize) -> Result<(), Overload> {
        if bytes == 0 {
            return Ok(());
        }
        let admission = &self.admission;
        let share = self
            .share
            .clone()
            .try_acquire_many_owned(permits(bytes))
            .map_err(|_| Overload::Connection)?;
        let general = admission
            .budget
            .clone()
            .try_acquire_many_owned(permits(bytes));
        let (budget, small) = match general {
            Ok(budget) => (budget, false),
            Err(_) if self.small_with(bytes) => {
                let reserved = admission
                    .small
                    .clone()
                    .try_acquire_many_owned(permits(bytes));
                (reserved.map_err(|_| Overload::Budget)?, true)
            }
            Err(_) => return Err(Overload::Budget),
        };
        self.keep(Permits {
            budget,
            small,
            share,
        });
        Ok(())
    }

    /// Reserves `bytes` more, waiting up to the wait timeout while the waiting bytes stay
    /// within their limit.
    pub async fn reserve(self: Arc<Self>, bytes: usize) -> Result<(), Overload> {
        if self.try_take(bytes).is_ok() {
            return Ok(());
        }
        let admission = self.admission.clone();
        let limits = admission.limits;
        let waiting = admission.waiting.fetch_add(bytes, Ordering::SeqCst) + bytes;
        let result = if waiting > limits.waiting_limit {
            Err(self.short_of(bytes))
        } else {
            match tokio::time::timeout(limits.wait_timeout, self.acquire(bytes)).await {
                Ok(acquired) => acquired,
                Err(_) => Err(self.short_of(bytes)),
            }
        };
        admission.waiting.fetch_sub(bytes, Ordering::SeqCst);
        result.map_err(|why| admission.refused(why))
    }

    /// Which limit leaves no room for `bytes`: the connection's share first.
    fn short_of(&self, bytes: usize) -> Overload {
        if self.share.available_permits() < bytes {
            Overload::Connection
        } else {
            Overload::Budget
        }
    }

    async fn acquire(&self, bytes: usize) -> Result<(), Overload> {
        let share = self
            .share
            .clone()
            .acquire_many_owned(permits(bytes))
            .await
            .map_err(|_| Overload::Connection)?;
        let general = self
            .admission
            .budget
            .clone()
            .acquire_many_owned(permits(bytes));
        let (budget, small) = if self.small_with(bytes) {
            let reserved = self
                .admission
                .small
                .clone()
                .acquire_many_owned(permits(bytes));
            tokio::select! {
                budget = general => (budget, false),
                budget = reserved => (budget, true),
            }
        } else {
            (general.await, false)
        };
        let budget = budget.map_err(|_| Overload::Budget)?;
        self.keep(Permits {
            budget,
            small,
            share,
        });
        Ok(())
    }
}

/// How a body's bytes are reserved as they arrive.
#[derive(Debug, Clone, Copy)]
enum Framing {
    /// Each byte beyond what was reserved up front (an HTTP body).
    Plain,
    /// gRPC messages: a 5-byte prefix (compressed flag, big-endian length), then the message;
    /// the whole message is reserved as soon as its prefix is in.
    Grpc { prefix: [u8; 5], prefix_len: u8 },
}

type Reserving = Pin<Box<dyn Future<Output = Result<(), Overload>> + Send>>;

pin_project! {
    /// A request body whose bytes are reserved in the admission budget before they are
    /// passed on, and that fails once its read timeout is over.
    pub struct AdmittedBody<B> {
        #[pin]
        inner: B,
        ticket: Arc<Ticket>,
        framing: Framing,
        // Bytes reserved and not yet arrived.
        covered: usize,
        reserving: Option<Reserving>,
        held_back: Option<Frame<Bytes>>,
        #[pin]
        deadline: tokio::time::Sleep,
        read_timeout: Duration,
    }
}

impl<B> AdmittedBody<B> {
    /// An HTTP body, `reserved` bytes of it reserved already.
    pub fn plain(inner: B, ticket: Arc<Ticket>, reserved: usize, read_timeout: Duration) -> Self {
        Self::new(inner, ticket, Framing::Plain, reserved, read_timeout)
    }

    pub fn grpc(inner: B, ticket: Arc<Ticket>, read_timeout: Duration) -> Self {
        let framing = Framing::Grpc {
            prefix: [0; 5],
            prefix_len: 0,
        };
        Self::new(inner, ticket, framing, 0, read_timeout)
    }

    fn new(
        inner: B,
        ticket: Arc<Ticket>,
        framing: Framing,
        covered: usize,
        read_timeout: Duration,
    ) -> Self {
        Self {
            inner,
            ticket,
            framing,
            covered,
            reserving: None,
            held_back: None,
            deadline: tokio::time::sleep(read_timeout),
            read_timeout,
        }
    }
}

/// Bytes to reserve before `chunk` may be passed on, advancing the framing and `covered`.
fn to_reserve(framing: &mut Framing, covered: &mut usize, chunk: &[u8]) -> usize {
    let mut needed = 0;
    let mut rest = chunk;
    while !rest.is_empty() {
        if *covered > 0 {
            let take = (*covered).min(rest.len());
            *covered -= take;
            rest = &rest[take..];
            continue;
        }
        match framing {
            Framing::Plain => {
                needed += rest.len();
                rest = &[];
            }
            Framing::Grpc { prefix, prefix_len } => {
                let take = (5 - usize::from(*prefix_len)).min(rest.len());
                let start = usize::from(*prefix_len);
                prefix[start..start + take].copy_from_slice(&rest[..take]);
                *prefix_len += take as u8;
                rest = &rest[take..];
                needed += take;
                if *prefix_len == 5 {
                    *prefix_len = 0;
                    let length = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]);
                    *covered = length as usize;
                    needed += length as usize;
                }
            }
        }
    }
    needed
}

impl<B> Body for AdmittedBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<super::BoxError>,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let mut this = self.project();
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(BodyError::TimedOut(*this.read_timeout))));
        }
        if let Some(reserving) = this.reserving.as_mut() {
            let reserved = ready!(reserving.as_mut().poll(cx));
            *this.reserving = None;
            reserved?;
            return Poll::Ready(this.held_back.take().map(Ok));
        }
        let frame = match ready!(this.inner.poll_frame(cx)) {
            Some(Ok(frame)) => frame,
            Some(Err(error)) => return Poll::Ready(Some(Err(BodyError::Read(error.into())))),
            None => return Poll::Ready(None),
        };
        let needed = frame.data_ref().map_or(0, |data| {
            to_reserve(this.framing, this.covered, data.chunk())
        });
        if this.ticket.try_take(needed).is_ok() {
            return Poll::Ready(Some(Ok(frame)));
        }
        *this.held_back = Some(frame);
        let mut reserving: Reserving = Box::pin(this.ticket.clone().reserve(needed));
        match reserving.as_mut().poll(cx) {
            Poll::Ready(reserved) => {
                reserved?;
                Poll::Ready(this.held_back.take().map(Ok))
            }
            Poll::Pending => {
                *this.reserving = Some(reserving);
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.held_back.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests;
