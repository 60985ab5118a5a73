//! The bounded queue in front of one exporter. Capacity is counted in items and held until the
//! batch holding them has been exported, so queued plus in-flight data never exceeds it. A full
//! queue refuses at once; the receiver turns that into a retryable status.

use super::Payload;
use crate::telemetry::ExporterCounters;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

/// Items of one request, holding their share of the queue's capacity until dropped.
pub struct Queued {
    pub payload: Payload,
    pub slot: QueueSlot,
}

/// A share of queue capacity; returning it on drop frees room for new data.
pub struct QueueSlot {
    _permit: OwnedSemaphorePermit,
    items: u64,
    counters: Arc<ExporterCounters>,
}

impl QueueSlot {
    pub fn items(&self) -> u64 {
        self.items
    }
}

impl Drop for QueueSlot {
    fn drop(&mut self) {
        self.counters.dequeued(self.items);
    }
}

/// The sending side of an exporter's queue, shared by every receiver.
#[derive(Clone)]
pub struct ExportQueue {
    sender: mpsc::UnboundedSender<Queued>,
    capacity: Arc<Semaphore>,
    capacity_items: usize,
    retry_after: Duration,
    /// How long a sender may wait for room before being refused.
    enqueue_timeout: Duration,
    counters: Arc<ExporterCounters>,
}

/// Room taken in a queue, to be filled with [`Reservation::send`].
pub struct Reservation {
    queue: ExportQueue,
    slot: QueueSlot,
}

impl Reservation {
    /// Gives back room for `items` the request turned out not to need (spans moved to the hold).
    pub fn shrink(&mut self, items: usize) {
        let items = (items as u64).min(self.slot.items);
        self.slot.items -= items;
        self.slot.counters.dequeued(items);
        let keep = self
            .slot
            ._permit
            .num_permits()
            .saturating_sub(items as usize)
            .max(1);
        let surplus = self.slot._permit.num_permits() - keep;
        drop(self.slot._permit.split(surplus));
    }

    /// Queues `payload`; fails only when the exporter has stopped.
    pub fn send(self, payload: Payload) -> Result<(), Payload> {
        self.queue
            .sender
            .send(Queued {
                payload,
                slot: self.slot,
            })
            .map_err(|err| err.0.payload)
    }
}

impl ExportQueue {
    /// A queue of `capacity_items` and the receiving end for the exporter's worker.
    pub fn new(
        capacity_items: usize,
        retry_after: Duration,
        enqueue_timeout: Duration,
        counters: Arc<ExporterCounters>,
    ) -> (Self, mpsc::UnboundedReceiver<Queued>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        counters.queue_capacity_added(capacity_items as u64);
        let queue = Self {
            sender,
            capacity: Arc::new(Semaphore::new(capacity_items)),
            capacity_items,
            retry_after,
            enqueue_timeout,
            counters,
        };
        (queue, receiver)
    }

    /// Takes room for `items`, or `None` when the queue is full. A request larger than the whole
    /// queue takes all of it, so it can still pass once the queue is empty.
    pub fn try_reserve(&self, items: usize) -> Option<Reservation> {
        let permits = items.clamp(1, self.capacity_items);
        let permit = self
            .capacity
            .clone()
            .try_acquire_many_owned(permits as u32)
            .ok()?;
        Some(self.reservation(permit, items))
    }

    /// Like [`ExportQueue::try_reserve`], but waits for room until `enqueue_timeout` after
    /// `started` — so waits on several queues that began together overlap instead of adding up.
    pub async fn reserve_by(
        &self,
        items: usize,
        started: tokio::time::Instant,
    ) -> Option<Reservation> {
        if let Some(reservation) = self.try_reserve(items) {
            return Some(reservation);
        }
        let deadline = started + self.enqueue_timeout;
        if self.enqueue_timeout.is_zero() || tokio::time::Instant::now() >= deadline {
            return None;
        }
        let permits = items.clamp(1, self.capacity_items) as u32;
        let permit =
            tokio::time::timeout_at(deadline, self.capacity.clone().acquire_many_owned(permits))
                .await
                .ok()?
                .ok()?;
        Some(self.reservation(permit, items))
    }

    fn reservation(&self, permit: OwnedSemaphorePermit, items: usize) -> Reservation {
        self.counters.queued(items as u64);
        let slot = QueueSlot {
            _permit: permit,
            items: items as u64,
            counters: self.counters.clone(),
        };
        Reservation {
            queue: self.clone(),
            slot,
        }
    }

    /// What a refused sender is told to wait.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }
}
