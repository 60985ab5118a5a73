//! Counters of one exporter (sent, failed, retried, refused, dropped by reason, queue size and capacity in
//! items and bytes, persistent-queue health), rendered with an `exporter` label; each update also
//! reaches the agent-wide totals.

use super::counters::{AgentCounters, PerSignal};
use super::escaped;
use crate::otlp::Signal;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub struct ExporterCounters {
    name: String,
    agent: Arc<AgentCounters>,
    sent: PerSignal,
    send_failed: PerSignal,
    retried: PerSignal,
    refused: PerSignal,
    dropped: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    scalars: [AtomicU64; ExporterScalar::ALL.len()],
}

/// One of an exporter's values that is not split by signal.
pub struct ExporterScalar {
    pub name: &'static str,
    pub kind: &'static str,
    pub help: &'static str,
}

const QUEUE_SIZE: usize = 0;
const QUEUE_SIZE_BYTES: usize = 1;
const QUEUE_CAPACITY: usize = 2;
const QUEUE_CAPACITY_BYTES: usize = 3;
const STORAGE_ERRORS: usize = 4;
const STORAGE_DAMAGED: usize = 5;
const STORAGE_SKIPPED_BYTES: usize = 6;
const REPLAYED: usize = 7;
const BATCH_SPLITS: usize = 8;

impl ExporterScalar {
    /// In the order of the index constants above.
    pub const ALL: [ExporterScalar; 9] = [
        Self::gauge("queue_size", "Items queued or in flight."),
        Self::gauge("queue_size_bytes", "Encoded bytes queued or in flight."),
        Self::gauge("queue_capacity", "Items the queue can hold."),
        Self::gauge("queue_capacity_bytes", "Encoded bytes the queue can hold."),
        Self::counter(
            "storage_errors_total",
            "Persistent-queue reads, writes or syncs that failed.",
        ),
        Self::counter(
            "storage_damaged_total",
            "Torn or corrupt stretches of the persistent queue skipped.",
        ),
        Self::counter(
            "storage_skipped_bytes_total",
            "Bytes of the persistent queue skipped as damaged.",
        ),
        Self::counter(
            "replayed_items_total",
            "Items found undelivered in the persistent queue at start and queued again.",
        ),
        Self::counter(
            "batch_splits_total",
            "Batches refused for good and sent again as two halves, to isolate the requests refused.",
        ),
    ];

    const fn gauge(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            kind: "gauge",
            help,
        }
    }
    const fn counter(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            kind: "counter",
            help,
        }
    }
}

impl ExporterCounters {
    /// Counters for the exporter `name`, registered with `agent` for rendering.
    pub fn register(name: &str, agent: &Arc<AgentCounters>) -> Arc<Self> {
        let counters = Arc::new(Self {
            name: name.to_string(),
            agent: agent.clone(),
            sent: PerSignal::default(),
            send_failed: PerSignal::default(),
            retried: PerSignal::default(),
            refused: PerSignal::default(),
            dropped: Mutex::new(BTreeMap::new()),
            scalars: Default::default(),
        });
        agent.register_exporter(&counters);
        counters
    }

    pub fn sent(&self, signal: Signal, items: u64) {
        self.sent.add(signal, items);
        self.agent.sent(signal, items);
    }
    pub fn send_failed(&self, signal: Signal, items: u64) {
        self.send_failed.add(signal, items);
        self.agent.send_failed(signal, items);
    }
    pub fn retried(&self, signal: Signal, items: u64) {
        self.retried.add(signal, items);
        self.agent.retried(signal, items);
    }
    /// Items this exporter's queue had no room for when the sender was refused (every queue
    /// the request went to was full); the sender may send them again.
    pub fn refused(&self, signal: Signal, items: u64) {
        self.refused.add(signal, items);
    }
    /// Items given up for good, with the reason; they also count as failed.
    pub fn dropped(&self, signal: Signal, items: u64, reason: &'static str) {
        self.send_failed.add(signal, items);
        if let Ok(mut dropped) = self.dropped.lock() {
            *dropped.entry((signal.item(), reason)).or_default() += items;
        }
        self.agent.dropped(signal, items, reason);
    }
    fn add(&self, scalar: usize, value: u64) {
        self.scalars[scalar].fetch_add(value, Ordering::Relaxed);
    }
    fn subtract(&self, scalar: usize, value: u64) {
        self.scalars[scalar].fetch_sub(value, Ordering::Relaxed);
    }
    pub fn queued(&self, items: u64, bytes: u64) {
        self.add(QUEUE_SIZE, items);
        self.add(QUEUE_SIZE_BYTES, bytes);
        self.agent.queued(items);
    }
    pub fn dequeued(&self, items: u64, bytes: u64) {
        self.subtract(QUEUE_SIZE, items);
        self.subtract(QUEUE_SIZE_BYTES, bytes);
        self.agent.dequeued(items);
    }
    pub fn queue_capacity_added(&self, items: u64, bytes: u64) {
        self.add(QUEUE_CAPACITY, items);
        self.add(QUEUE_CAPACITY_BYTES, bytes);
        self.agent.queue_capacity_added(items);
    }
    pub fn storage_error(&self) {
        self.add(STORAGE_ERRORS, 1);
    }
    pub fn storage_damaged(&self, stretches: u64, bytes: u64) {
        self.add(STORAGE_DAMAGED, stretches);
        self.add(STORAGE_SKIPPED_BYTES, bytes);
    }
    pub fn replayed(&self, items: u64) {
        self.add(REPLAYED, items);
    }
    pub fn batch_split(&self) {
        self.add(BATCH_SPLITS, 1);
    }
    pub fn batch_splits_total(&self) -> u64 {
        self.scalars[BATCH_SPLITS].load(Ordering::Relaxed)
    }

    /// The line of scalar `index` (of [`ExporterScalar::ALL`]) named `name`.
    pub fn render_scalar(&self, index: usize, name: &str, out: &mut String) {
        let value = self.scalars[index].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "{name}{{exporter=\"{}\"}} {value}",
            escaped(&self.name)
        );
    }

    /// This exporter's lines in the Prometheus text format (no HELP/TYPE; see the caller).
    pub fn render(&self, family: &str, out: &mut String) {
        let label = format!("exporter=\"{}\"", escaped(&self.name));
        let line = |out: &mut String, name: &str, extra: &str, value: u64| {
            let _ = writeln!(out, "{name}{{{label}{extra}}} {value}");
        };
        for signal in Signal::ALL {
            let name = format!("genai_cost_agent_exporter_{family}_{}_total", signal.item());
            match family {
                "sent" => line(out, &name, "", self.sent.get(signal)),
                "send_failed" => line(out, &name, "", self.send_failed.get(signal)),
                "retried" => line(out, &name, "", self.retried.get(signal)),
                "refused" => line(out, &name, "", self.refused.get(signal)),
                "dropped" => {
                    if let Ok(dropped) = self.dropped.lock() {
                        for ((_, reason), count) in dropped
                            .iter()
                            .filter(|((item, _), _)| *item == signal.item())
                        {
                            line(out, &name, &format!(",reason=\"{reason}\""), *count);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
