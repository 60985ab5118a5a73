//! The bounded queue in front of one exporter, in memory or on disk. Its capacity is counted in
//! items and bytes and held until the batch holding the data has been delivered or given up, so
//! queued plus in-flight data never exceeds it. A full queue refuses (after an optional wait);
//! the receiver turns that into a retryable status.

mod capacity;
pub mod disk;

pub use capacity::{Amount, Capacity};

use crate::otlp::EncodedRequest;
use crate::telemetry::ExporterCounters;
use disk::{DiskAck, DiskReader, DiskWriter};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How big a queue is and how it answers when full.
#[derive(Debug, Clone)]
pub struct QueueLimits {
    pub capacity: Amount,
    /// What a refused sender is told to wait.
    pub retry_after: Duration,
    /// How long a sender may wait for room before being refused.
    pub enqueue_timeout: Duration,
}

/// One request in the queue, holding its share of the capacity until its slot is dropped.
pub struct Queued {
    pub request: EncodedRequest,
    pub slot: QueueSlot,
}

/// Capacity taken by accepted data; dropping it gives the room back.
struct Room {
    amount: Amount,
    capacity: Arc<Capacity>,
    counters: Arc<ExporterCounters>,
}

impl Room {
    fn new(amount: Amount, capacity: Arc<Capacity>, counters: Arc<ExporterCounters>) -> Self {
        counters.queued(amount.items, amount.bytes);
        Self {
            amount,
            capacity,
            counters,
        }
    }

    /// Makes the room fit `actual`: surplus is given back, growth is taken even over the limit
    /// (the data is already accepted).
    fn resize(&mut self, actual: Amount) {
        let surplus = Amount {
            items: self.amount.items.saturating_sub(actual.items),
            bytes: self.amount.bytes.saturating_sub(actual.bytes),
        };
        let growth = Amount {
            items: actual.items.saturating_sub(self.amount.items),
            bytes: actual.bytes.saturating_sub(self.amount.bytes),
        };
        self.capacity.give_back(surplus);
        self.capacity.take_anyway(growth);
        self.counters.dequeued(surplus.items, surplus.bytes);
        self.counters.queued(growth.items, growth.bytes);
        self.amount = actual;
    }

    /// Leaves the room taken; whoever holds the data now gives it back.
    fn keep(self) {
        std::mem::forget(self);
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        self.capacity.give_back(self.amount);
        self.counters.dequeued(self.amount.items, self.amount.bytes);
    }
}

/// A queued request's share of the capacity, held by the batch that sends it.
pub struct QueueSlot {
    /// Given back when the slot is dropped.
    _room: Room,
    /// For a persistent queue: the record to mark done once the request is settled.
    ack: Option<DiskAck>,
}

impl QueueSlot {
    /// Marks the requests of `slots` as settled (delivered, or given up with a counted reason)
    /// and frees their room. A slot dropped without this (an export abandoned at shutdown) frees
    /// its room but leaves a persisted request on disk, to be sent again on the next start.
    pub fn settle_all(slots: Vec<QueueSlot>) {
        let acks: Vec<DiskAck> = slots.into_iter().filter_map(|slot| slot.ack).collect();
        DiskAck::settle_all(acks);
    }
}

/// Where the queue's requests go: a channel, or a log on disk.
#[derive(Clone)]
enum Sink {
    Memory(mpsc::UnboundedSender<Queued>),
    Disk(DiskWriter),
}

/// The sending side of an exporter's queue, shared by every receiver.
#[derive(Clone)]
pub struct ExportQueue {
    sink: Sink,
    capacity: Arc<Capacity>,
    limits: QueueLimits,
    counters: Arc<ExporterCounters>,
}

/// The worker's side of an exporter's queue.
pub enum QueueReceiver {
    Memory(mpsc::UnboundedReceiver<Queued>),
    Disk(DiskReader),
}

impl QueueReceiver {
    /// The next request, waiting for one; `None` once the queue is closed and empty.
    pub async fn recv(&mut self) -> Option<Queued> {
        match self {
            QueueReceiver::Memory(receiver) => receiver.recv().await,
            QueueReceiver::Disk(reader) => reader.recv().await,
        }
    }

    /// The next request already queued, without waiting.
    pub fn try_recv(&mut self) -> Option<Queued> {
        match self {
            QueueReceiver::Memory(receiver) => receiver.try_recv().ok(),
            QueueReceiver::Disk(reader) => reader.try_recv(),
        }
    }

    /// Stops taking new requests (those already queued can still be received).
    pub fn close(&mut self) {
        if let QueueReceiver::Memory(receiver) = self {
            receiver.close();
        }
    }
}

/// Whether a request handed to the queue is stored yet.
pub enum Stored {
    /// In memory: queued at once.
    Queued,
    /// On disk: the answer comes once it is written (and synced, by the policy).
    Writing(oneshot::Receiver<std::io::Result<()>>),
}

impl Stored {
    /// Waits until the request is stored; an error when it could not be written.
    pub async fn wait(self) -> std::io::Result<()> {
        match self {
            Stored::Queued => Ok(()),
            Stored::Writing(answer) => answer
                .await
                .unwrap_or_else(|_| Err(std::io::Error::other("the queue's writer stopped"))),
        }
    }
}

/// Room taken in a queue, to be filled with [`Reservation::send`].
pub struct Reservation {
    queue: ExportQueue,
    room: Room,
}

impl Reservation {
    /// Queues `request`, first fitting the reserved room to its actual size (spans moved to the
    /// hold free room; attributes added by enrichment take more). Fails only when the queue has
    /// stopped.
    pub fn send(mut self, request: EncodedRequest) -> Result<Stored, EncodedRequest> {
        self.room.resize(Amount {
            items: request.items,
            bytes: request.bytes.len() as u64,
        });
        match &self.queue.sink {
            Sink::Memory(sender) => sender
                .send(Queued {
                    request,
                    slot: QueueSlot {
                        _room: self.room,
                        ack: None,
                    },
                })
                .map(|()| Stored::Queued)
                .map_err(|failed| failed.0.request),
            // The writer keeps the room with the record once written, or gives it back.
            Sink::Disk(writer) => writer.append(request, self.room).map(Stored::Writing),
        }
    }
}

impl ExportQueue {
    /// A queue in memory and the receiving end for the exporter's worker.
    pub fn in_memory(
        limits: QueueLimits,
        counters: Arc<ExporterCounters>,
    ) -> (Self, QueueReceiver) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let queue = Self::with_sink(Sink::Memory(sender), limits, counters);
        (queue, QueueReceiver::Memory(receiver))
    }

    /// A queue kept in `directory`: requests already there are queued again first.
    pub fn on_disk(
        limits: QueueLimits,
        options: disk::DiskOptions,
        counters: Arc<ExporterCounters>,
    ) -> Result<(Self, QueueReceiver), disk::DiskError> {
        let capacity = Arc::new(Capacity::new(limits.capacity));
        counters.queue_capacity_added(limits.capacity.items, limits.capacity.bytes);
        let (writer, reader) = disk::open(options, capacity.clone(), counters.clone())?;
        let queue = Self {
            sink: Sink::Disk(writer),
            capacity,
            limits,
            counters,
        };
        Ok((queue, QueueReceiver::Disk(reader)))
    }

    fn with_sink(sink: Sink, limits: QueueLimits, counters: Arc<ExporterCounters>) -> Self {
        counters.queue_capacity_added(limits.capacity.items, limits.capacity.bytes);
        Self {
            sink,
            capacity: Arc::new(Capacity::new(limits.capacity)),
            limits,
            counters,
        }
    }

    /// Takes room for `wanted`, or `None` when the queue is full.
    pub fn try_reserve(&self, wanted: Amount) -> Option<Reservation> {
        self.capacity
            .try_take(wanted)
            .then(|| self.reservation(wanted))
    }

    /// Like [`ExportQueue::try_reserve`], but waits for room until `enqueue_timeout` after
    /// `started` — so waits on several queues that began together overlap instead of adding up.
    pub async fn reserve_by(
        &self,
        wanted: Amount,
        started: tokio::time::Instant,
    ) -> Option<Reservation> {
        if let Some(reservation) = self.try_reserve(wanted) {
            return Some(reservation);
        }
        let deadline = started + self.limits.enqueue_timeout;
        if self.limits.enqueue_timeout.is_zero() || tokio::time::Instant::now() >= deadline {
            return None;
        }
        self.capacity
            .take_by(wanted, deadline)
            .await
            .then(|| self.reservation(wanted))
    }

    fn reservation(&self, wanted: Amount) -> Reservation {
        Reservation {
            queue: self.clone(),
            room: Room::new(wanted, self.capacity.clone(), self.counters.clone()),
        }
    }

    /// What a refused sender is told to wait.
    pub fn retry_after(&self) -> Duration {
        self.limits.retry_after
    }

    /// Waits until every request handed to the queue so far is stored (a persistent queue's
    /// writer has written them); at once for a queue in memory.
    pub async fn flush(&self) {
        if let Sink::Disk(writer) = &self.sink {
            writer.flush().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::Signal;
    use crate::telemetry::AgentCounters;
    use bytes::Bytes;

    fn memory_queue(items: u64, bytes: u64) -> (ExportQueue, QueueReceiver) {
        let counters = ExporterCounters::register("otlp", &Arc::new(AgentCounters::default()));
        let limits = QueueLimits {
            capacity: Amount { items, bytes },
            retry_after: Duration::from_secs(1),
            enqueue_timeout: Duration::ZERO,
        };
        ExportQueue::in_memory(limits, counters)
    }

    fn request(items: u64, bytes: usize) -> EncodedRequest {
        EncodedRequest {
            signal: Signal::Traces,
            items,
            bytes: Bytes::from(vec![0; bytes]),
        }
    }

    #[test]
    fn the_room_taken_is_the_size_of_what_was_queued() {
        let (queue, mut receiver) = memory_queue(100, 1000);
        // Reserved as received; sent smaller (spans held back) and larger (attributes added).
        let small = queue
            .try_reserve(Amount {
                items: 10,
                bytes: 300,
            })
            .unwrap();
        let _ = small.send(request(4, 200)).ok().unwrap();
        assert_eq!(
            queue.capacity.used(),
            Amount {
                items: 4,
                bytes: 200
            }
        );
        let large = queue
            .try_reserve(Amount {
                items: 10,
                bytes: 700,
            })
            .unwrap();
        let _ = large.send(request(10, 900)).ok().unwrap();
        assert_eq!(
            queue.capacity.used(),
            Amount {
                items: 14,
                bytes: 1100
            }
        );
        assert!(
            queue.try_reserve(Amount { items: 1, bytes: 1 }).is_none(),
            "over by growth"
        );
        let first = receiver.try_recv().unwrap();
        drop(first);
        assert_eq!(
            queue.capacity.used(),
            Amount {
                items: 10,
                bytes: 900
            }
        );
        assert!(queue
            .try_reserve(Amount {
                items: 1,
                bytes: 100
            })
            .is_some());
    }

    #[test]
    fn an_unused_reservation_gives_its_room_back() {
        let (queue, _receiver) = memory_queue(100, 1000);
        let reservation = queue
            .try_reserve(Amount {
                items: 60,
                bytes: 600,
            })
            .unwrap();
        assert!(queue
            .try_reserve(Amount {
                items: 60,
                bytes: 1
            })
            .is_none());
        drop(reservation);
        assert_eq!(queue.capacity.used(), Amount::default());
    }
}
