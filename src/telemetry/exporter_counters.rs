//! Counters of one exporter (sent, failed, retried, dropped by reason, queue size and capacity),
//! rendered with an `exporter` label; each update also reaches the agent-wide totals.

use super::counters::{AgentCounters, PerSignal, Signal};
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
    dropped: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    queued: AtomicU64,
    capacity: AtomicU64,
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
            dropped: Mutex::new(BTreeMap::new()),
            queued: AtomicU64::new(0),
            capacity: AtomicU64::new(0),
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
    /// Items given up for good, with the reason; they also count as failed.
    pub fn dropped(&self, signal: Signal, items: u64, reason: &'static str) {
        self.send_failed.add(signal, items);
        if let Ok(mut dropped) = self.dropped.lock() {
            *dropped.entry((signal.item(), reason)).or_default() += items;
        }
        self.agent.dropped(signal, items, reason);
    }
    pub fn queued(&self, items: u64) {
        self.queued.fetch_add(items, Ordering::Relaxed);
        self.agent.queued(items);
    }
    pub fn dequeued(&self, items: u64) {
        self.queued.fetch_sub(items, Ordering::Relaxed);
        self.agent.dequeued(items);
    }
    pub fn queue_capacity_added(&self, items: u64) {
        self.capacity.fetch_add(items, Ordering::Relaxed);
        self.agent.queue_capacity_added(items);
    }

    /// This exporter's lines in the Prometheus text format (no HELP/TYPE; see the caller).
    pub fn render(&self, family: &str, out: &mut String) {
        let label = format!("exporter=\"{}\"", escape(&self.name));
        let line = |out: &mut String, name: &str, extra: &str, value: u64| {
            let _ = writeln!(out, "{name}{{{label}{extra}}} {value}");
        };
        match family {
            "queue_size" => line(
                out,
                "genai_cost_agent_exporter_queue_size",
                "",
                self.queued.load(Ordering::Relaxed),
            ),
            "queue_capacity" => line(
                out,
                "genai_cost_agent_exporter_queue_capacity",
                "",
                self.capacity.load(Ordering::Relaxed),
            ),
            _ => {
                for signal in Signal::ALL {
                    let name =
                        format!("genai_cost_agent_exporter_{family}_{}_total", signal.item());
                    match family {
                        "sent" => line(out, &name, "", self.sent.get(signal)),
                        "send_failed" => line(out, &name, "", self.send_failed.get(signal)),
                        "retried" => line(out, &name, "", self.retried.get(signal)),
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
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}
