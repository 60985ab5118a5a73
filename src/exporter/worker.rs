//! The loop that drains one exporter's queue: merges requests into batches by item count, byte
//! size and age, runs up to `num_consumers` exports at once, isolates requests a backend refuses
//! for good (by splitting their batch), and on shutdown flushes what is queued.

use super::queue::{QueueReceiver, QueueSlot, Queued};
use super::retry::{may_be_caused_by_the_data, verdict, Backoff, Verdict};
use super::{Batch, Exporter};
use crate::config::RetryConfig;
use crate::otlp::{EncodedRequest, Signal};
use crate::telemetry::{ExporterCounters, RateLimitedLog};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// A batch being assembled for one signal.
struct PendingBatch {
    signal: Signal,
    parts: Vec<EncodedRequest>,
    slots: Vec<QueueSlot>,
    items: u64,
    bytes: usize,
}

/// Batching and concurrency limits of one worker.
#[derive(Debug, Clone)]
pub struct WorkerLimits {
    pub send_batch_size: usize,
    /// Encoded bytes per batch at most; a larger request goes alone.
    pub max_batch_bytes: usize,
    pub batch_timeout: Duration,
    pub num_consumers: usize,
    pub retry: RetryConfig,
}

pub struct ExportWorker {
    delivery: Arc<Delivery>,
    limits: WorkerLimits,
    pending: [Option<PendingBatch>; 3],
    oldest: Option<Instant>,
    consumers: Arc<Semaphore>,
    in_flight: JoinSet<()>,
}

/// What every export of one exporter shares: where it goes, how it retries, what it counts.
struct Delivery {
    /// The configured name (`otlp`, `otlp/tempo`, `debug`), for logs.
    name: String,
    exporter: Exporter,
    retry: RetryConfig,
    counters: Arc<ExporterCounters>,
    errors: RateLimitedLog,
}

impl ExportWorker {
    pub fn new(
        name: String,
        exporter: Exporter,
        limits: WorkerLimits,
        counters: Arc<ExporterCounters>,
    ) -> Self {
        let delivery = Delivery {
            name,
            exporter,
            retry: limits.retry.clone(),
            counters,
            errors: RateLimitedLog::new(Duration::from_secs(10)),
        };
        Self {
            delivery: Arc::new(delivery),
            consumers: Arc::new(Semaphore::new(limits.num_consumers)),
            limits,
            pending: [None, None, None],
            oldest: None,
            in_flight: JoinSet::new(),
        }
    }

    /// Runs until `shutdown` turns true (or every queue sender is gone), then exports everything
    /// still queued and waits for the exports in flight.
    pub async fn run(mut self, mut queue: QueueReceiver, mut shutdown: watch::Receiver<bool>) {
        loop {
            let deadline = self.oldest.map(|oldest| oldest + self.limits.batch_timeout);
            tokio::select! {
                received = queue.recv() => match received {
                    Some(queued) => self.add(queued).await,
                    None => break,
                },
                _ = sleep_until_some(deadline) => self.flush_all().await,
                _ = shutdown.changed() => break,
                Some(_) = self.in_flight.join_next(), if !self.in_flight.is_empty() => {}
            }
        }
        queue.close();
        while let Some(queued) = queue.try_recv() {
            self.add(queued).await;
        }
        self.flush_all().await;
        while self.in_flight.join_next().await.is_some() {}
    }

    async fn add(&mut self, queued: Queued) {
        let index = queued.request.signal as usize;
        let size = queued.request.bytes.len();
        let would_overflow = self.pending[index]
            .as_ref()
            .is_some_and(|batch| batch.bytes + size > self.limits.max_batch_bytes);
        if would_overflow {
            self.dispatch_pending(index).await;
        }
        match &mut self.pending[index] {
            Some(batch) => {
                batch.items += queued.request.items;
                batch.bytes += size;
                batch.parts.push(queued.request);
                batch.slots.push(queued.slot);
            }
            empty => {
                *empty = Some(PendingBatch {
                    signal: queued.request.signal,
                    items: queued.request.items,
                    bytes: size,
                    parts: vec![queued.request],
                    slots: vec![queued.slot],
                });
                self.oldest.get_or_insert_with(Instant::now);
            }
        }
        let full = self.pending[index].as_ref().is_some_and(|batch| {
            batch.items >= self.limits.send_batch_size as u64
                || batch.bytes >= self.limits.max_batch_bytes
        });
        if full {
            self.dispatch_pending(index).await;
        }
    }

    /// Sends the batch being assembled for signal `index`, if any.
    async fn dispatch_pending(&mut self, index: usize) {
        if let Some(batch) = self.pending[index].take() {
            self.dispatch(batch).await;
        }
        if self.pending.iter().all(Option::is_none) {
            self.oldest = None;
        }
    }

    async fn flush_all(&mut self) {
        self.oldest = None;
        for index in 0..self.pending.len() {
            if let Some(batch) = self.pending[index].take() {
                self.dispatch(batch).await;
            }
        }
    }

    /// Starts exporting `batch` once a consumer is free; waiting here is the back-pressure that
    /// fills the queue when the backend is slower than the senders.
    async fn dispatch(&mut self, batch: PendingBatch) {
        let Ok(consumer) = self.consumers.clone().acquire_owned().await else {
            return;
        };
        let delivery = self.delivery.clone();
        self.in_flight.spawn(async move {
            let PendingBatch {
                signal,
                parts,
                slots,
                ..
            } = batch;
            delivery.deliver(Batch::join(signal, parts)).await;
            // Delivered or given up with a counted reason: either way it leaves the queue. An
            // export abandoned at shutdown never gets here, and stays on disk if persisted.
            QueueSlot::settle_all(slots);
            drop(consumer);
        });
    }
}

/// Why a batch was not delivered.
struct Undelivered {
    reason: &'static str,
    /// The backend refused it for good (rather than retries running out).
    permanent: bool,
    error: String,
}

impl Delivery {
    /// Delivers `batch`. When the backend refuses it for good and the cause may be one of its
    /// requests (a malformed one, one too large), the halves are sent on their own, down to
    /// single requests: only the requests the backend refuses alone are dropped and counted.
    async fn deliver(&self, batch: Batch) {
        let mut waiting = vec![batch];
        while let Some(batch) = waiting.pop() {
            let (signal, items) = (batch.signal(), batch.items());
            let Err(undelivered) = self.send_with_retries(&batch).await else {
                continue;
            };
            let halves = (undelivered.permanent && may_be_caused_by_the_data(undelivered.reason))
                .then(|| batch.halves())
                .flatten();
            match halves {
                Some((first, second)) => {
                    self.counters.batch_split();
                    self.errors.warn(&format!(
                        "{}: backend refused a batch of {} requests ({items} {}) for good, sending it again in smaller groups to isolate the cause: {}",
                        self.name,
                        batch.requests(),
                        signal.item(),
                        undelivered.error
                    ));
                    waiting.push(second);
                    waiting.push(first);
                }
                None => {
                    self.counters.dropped(signal, items, undelivered.reason);
                    self.errors.warn(&format!(
                        "{}: dropped {items} {} ({}): {}",
                        self.name,
                        signal.item(),
                        undelivered.reason,
                        undelivered.error
                    ));
                }
            }
        }
    }

    /// Sends one batch, retrying retryable failures by the policy; counts what was delivered
    /// and retried.
    async fn send_with_retries(&self, batch: &Batch) -> Result<(), Undelivered> {
        let Self {
            name,
            exporter,
            retry,
            counters,
            errors,
        } = self;
        let (signal, items) = (batch.signal(), batch.items());
        let prepared = exporter.prepare(batch).await;
        let mut backoff = Backoff::new(retry, items ^ std::process::id() as u64);
        loop {
            let error = match exporter.send(&prepared).await {
                Ok(rejected) => {
                    counters.sent(signal, items.saturating_sub(rejected));
                    if rejected > 0 {
                        counters.dropped(signal, rejected, "partial_success");
                        errors.warn(&format!(
                            "{}: backend rejected {rejected} of {items} {}",
                            name,
                            signal.item()
                        ));
                    }
                    return Ok(());
                }
                Err(error) => error,
            };
            match verdict(&error) {
                Verdict::Retry { after } => match backoff.wait(after) {
                    Some(wait) => {
                        counters.retried(signal, items);
                        errors.warn(&format!(
                            "{}: export of {items} {} failed, retrying in {wait:.1?}: {error}",
                            name,
                            signal.item()
                        ));
                        tokio::time::sleep(wait).await;
                    }
                    None => {
                        return Err(Undelivered {
                            reason: "retries_exhausted",
                            permanent: false,
                            error: error.to_string(),
                        })
                    }
                },
                Verdict::Permanent { reason } => {
                    return Err(Undelivered {
                        reason,
                        permanent: true,
                        error: error.to_string(),
                    })
                }
            }
        }
    }
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
