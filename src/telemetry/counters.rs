//! Counters of what the agent received, priced, refused and exported, rendered in the
//! Prometheus text format.

use super::exporter_counters::{ExporterCounters, ExporterScalar};
use super::labels::{Label, Labelled};
use crate::otlp::Signal;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// One counter per signal.
#[derive(Default)]
pub(super) struct PerSignal([AtomicU64; 3]);

impl PerSignal {
    pub(super) fn add(&self, signal: Signal, count: u64) {
        self.0[signal as usize].fetch_add(count, Ordering::Relaxed);
    }
    pub(super) fn get(&self, signal: Signal) -> u64 {
        self.0[signal as usize].load(Ordering::Relaxed)
    }
}

/// Every counter the agent keeps about itself. Shared by all stages; lock-free.
#[derive(Default)]
pub struct AgentCounters {
    accepted: PerSignal,
    refused: PerSignal,
    rejected_requests: AtomicU64,
    unauthenticated_requests: AtomicU64,
    priced_spans: AtomicU64,
    /// Spans with usage left unpriced, by reason.
    unpriced: Labelled,
    /// The same, by reason and model name (bounded).
    unpriced_models: super::unpriced_models::UnpricedModels,
    /// Price catalog reloads put in force, and refused (the old catalog kept).
    catalog_reloads_applied: AtomicU64,
    catalog_reloads_failed: AtomicU64,
    sent: PerSignal,
    send_failed: PerSignal,
    queued_items: AtomicU64,
    retried: PerSignal,
    /// Items dropped after an export failed for good, by signal and reason.
    dropped: std::sync::Mutex<std::collections::BTreeMap<(&'static str, &'static str), u64>>,
    metric_overflow_points: AtomicU64,
    metric_label_values_truncated: AtomicU64,
    held_spans: AtomicU64,
    hold_full: AtomicU64,
    exporters: Mutex<Vec<Weak<ExporterCounters>>>,
    /// Released from the hold: resolved, reached root, timeout, shutdown.
    hold_released: Labelled,
    queue_capacity: AtomicU64,
    /// The receivers' connections, budget and memory limiter.
    pub receiver: super::ReceiverCounters,
    pub ledger: super::LedgerCounters,
    /// The latest comparison with the providers' reports.
    pub reconciliation: super::Reconciliation,
}

impl AgentCounters {
    pub fn accepted(&self, signal: Signal, items: u64) {
        self.accepted.add(signal, items);
    }
    /// Items refused with a retryable status because a queue was full.
    pub fn refused(&self, signal: Signal, items: u64) {
        self.refused.add(signal, items);
    }
    /// Requests answered with a client error (bad content type, undecodable, too large).
    pub fn rejected_requests_total(&self) -> u64 {
        self.rejected_requests.load(Ordering::Relaxed)
    }
    pub fn rejected_request(&self) {
        self.rejected_requests.fetch_add(1, Ordering::Relaxed);
    }
    /// Requests refused for a missing or wrong bearer token.
    pub fn unauthenticated_request(&self) {
        self.unauthenticated_requests
            .fetch_add(1, Ordering::Relaxed);
    }
    pub fn unauthenticated_requests_total(&self) -> u64 {
        self.unauthenticated_requests.load(Ordering::Relaxed)
    }
    pub(super) fn register_exporter(&self, exporter: &Arc<ExporterCounters>) {
        if let Ok(mut exporters) = self.exporters.lock() {
            exporters.retain(|registered| registered.strong_count() > 0);
            exporters.push(Arc::downgrade(exporter));
        }
    }

    /// Every exporter's counters, labelled by exporter name.
    fn render_exporters(&self, out: &mut String) {
        let exporters: Vec<Arc<ExporterCounters>> = self
            .exporters
            .lock()
            .map(|exporters| exporters.iter().filter_map(Weak::upgrade).collect())
            .unwrap_or_default();
        let families = [
            ("sent", "Items the exporter delivered."),
            (
                "send_failed",
                "Items the exporter failed to deliver (dropped ones included).",
            ),
            ("retried", "Items whose export was retried, once per retry."),
            (
                "refused",
                "Items refused to the sender because this exporter's queue (and every other one the request went to) was full.",
            ),
            ("dropped", "Items given up, by reason."),
        ];
        for (family, help) in families {
            for signal in Signal::ALL {
                let name = format!("genai_cost_agent_exporter_{family}_{}_total", signal.item());
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            }
            for exporter in &exporters {
                exporter.render(family, out);
            }
        }
        for (index, scalar) in ExporterScalar::ALL.iter().enumerate() {
            let name = format!("genai_cost_agent_exporter_{}", scalar.name);
            let _ = writeln!(
                out,
                "# HELP {name} {}\n# TYPE {name} {}",
                scalar.help, scalar.kind
            );
            for exporter in &exporters {
                exporter.render_scalar(index, &name, out);
            }
        }
    }

    /// A span entered the attribution hold.
    pub fn held(&self) {
        self.held_spans.fetch_add(1, Ordering::Relaxed);
    }
    /// A span that should have waited for its ancestors went on at once: the hold was full.
    pub fn hold_full(&self) {
        self.hold_full.fetch_add(1, Ordering::Relaxed);
    }
    /// A span left the hold, for `release`.
    pub fn released<L: Label>(&self, release: L) {
        self.hold_released.add(release, 1);
    }
    pub fn released_total<L: Label>(&self, release: L) -> u64 {
        self.hold_released.get(release)
    }
    /// A reload of the price catalog was put in force (`applied`) or refused.
    pub fn catalog_reload(&self, applied: bool) {
        let counter = if applied {
            &self.catalog_reloads_applied
        } else {
            &self.catalog_reloads_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
    pub fn catalog_reloads_total(&self, applied: bool) -> u64 {
        if applied {
            self.catalog_reloads_applied.load(Ordering::Relaxed)
        } else {
            self.catalog_reloads_failed.load(Ordering::Relaxed)
        }
    }
    /// Names why spans leave the hold, so each reason renders before it first happens.
    pub fn declare_releases<L: Label>(&self) {
        self.hold_released.declare::<L>();
    }

    /// A derived metric point went to the overflow series (cardinality limit reached).
    pub fn metric_overflow(&self) {
        self.metric_overflow_points.fetch_add(1, Ordering::Relaxed);
    }
    pub fn metric_overflow_total(&self) -> u64 {
        self.metric_overflow_points.load(Ordering::Relaxed)
    }
    /// Derived metric dimension values cut to `metrics.max_label_value_length`.
    pub fn label_values_truncated(&self, values: u64) {
        self.metric_label_values_truncated
            .fetch_add(values, Ordering::Relaxed);
    }
    pub fn label_values_truncated_total(&self) -> u64 {
        self.metric_label_values_truncated.load(Ordering::Relaxed)
    }
    pub fn priced(&self, spans: u64) {
        self.priced_spans.fetch_add(spans, Ordering::Relaxed);
    }
    /// A span with usage was left unpriced, for `reason`.
    pub fn unpriced<L: Label>(&self, reason: L) {
        self.unpriced.add(reason, 1);
    }
    /// A span of `model` was left unpriced, for `reason` (counted by [`AgentCounters::unpriced`]
    /// too).
    pub fn unpriced_model<L: Label>(&self, reason: L, model: &str) {
        self.unpriced_models.add(reason, model);
    }
    /// Names why spans go unpriced, so each reason renders before it first happens.
    pub fn declare_unpriced_reasons<L: Label>(&self) {
        self.unpriced.declare::<L>();
    }
    pub fn sent(&self, signal: Signal, items: u64) {
        self.sent.add(signal, items);
    }
    /// Items whose export is retried after a retryable failure (once per retry).
    pub fn retried(&self, signal: Signal, items: u64) {
        self.retried.add(signal, items);
    }
    /// Items dropped for good, with the reason; they also count as failed.
    pub fn dropped(&self, signal: Signal, items: u64, reason: &'static str) {
        self.send_failed(signal, items);
        if let Ok(mut dropped) = self.dropped.lock() {
            *dropped.entry((signal.item(), reason)).or_default() += items;
        }
    }
    pub fn retried_total(&self, signal: Signal) -> u64 {
        self.retried.get(signal)
    }
    pub fn dropped_total(&self, signal: Signal, reason: &str) -> u64 {
        self.dropped.lock().map_or(0, |dropped| {
            dropped.get(&(signal.item(), reason)).copied().unwrap_or(0)
        })
    }
    pub fn send_failed(&self, signal: Signal, items: u64) {
        self.send_failed.add(signal, items);
    }
    pub fn queue_capacity_added(&self, items: u64) {
        self.queue_capacity.fetch_add(items, Ordering::Relaxed);
    }
    pub fn queued(&self, items: u64) {
        self.queued_items.fetch_add(items, Ordering::Relaxed);
    }
    pub fn dequeued(&self, items: u64) {
        self.queued_items.fetch_sub(items, Ordering::Relaxed);
    }

    pub fn accepted_total(&self, signal: Signal) -> u64 {
        self.accepted.get(signal)
    }
    pub fn refused_total(&self, signal: Signal) -> u64 {
        self.refused.get(signal)
    }
    pub fn sent_total(&self, signal: Signal) -> u64 {
        self.sent.get(signal)
    }
    pub fn send_failed_total(&self, signal: Signal) -> u64 {
        self.send_failed.get(signal)
    }
    pub fn priced_total(&self) -> u64 {
        self.priced_spans.load(Ordering::Relaxed)
    }
    pub fn unpriced_model_total<L: Label>(&self, reason: L, model: &str) -> u64 {
        self.unpriced_models.get(reason.as_str(), model)
    }
    pub fn unpriced_total<L: Label>(&self, reason: L) -> u64 {
        self.unpriced.get(reason)
    }

    /// The counters in the Prometheus text exposition format.
    pub fn render_prometheus(&self) -> String {
        let mut out = String::with_capacity(2048);
        let per_signal = [
            (
                "receiver_accepted",
                "Items accepted by the receivers and queued for export.",
                &self.accepted,
            ),
            (
                "receiver_refused",
                "Items refused with a retryable status because a queue was full.",
                &self.refused,
            ),
        ];
        for (stem, help, counter) in per_signal {
            for signal in Signal::ALL {
                let name = format!("genai_cost_agent_{stem}_{}_total", signal.item());
                counter_line(&mut out, &name, help, "", counter.get(signal));
            }
        }
        counter_line(
            &mut out,
            "genai_cost_agent_receiver_rejected_requests_total",
            "Requests answered with a client error.",
            "",
            self.rejected_requests.load(Ordering::Relaxed),
        );
        counter_line(
            &mut out,
            "genai_cost_agent_receiver_unauthenticated_requests_total",
            "Requests refused for a missing or wrong bearer token.",
            "",
            self.unauthenticated_requests_total(),
        );
        counter_line(
            &mut out,
            "genai_cost_agent_spans_priced_total",
            "Spans given a cost.",
            "",
            self.priced_total(),
        );
        let name = "genai_cost_agent_spans_unpriced_total";
        let _ = writeln!(
            out,
            "# HELP {name} Spans with token usage that could not be priced, by reason."
        );
        let _ = writeln!(out, "# TYPE {name} counter");
        for (reason, count) in self.unpriced.values() {
            let _ = writeln!(out, "{name}{{reason=\"{reason}\"}} {count}");
        }
        self.unpriced_models.render(&mut out);
        let name = "genai_cost_agent_catalog_reloads_total";
        let _ = writeln!(
            out,
            "# HELP {name} Price catalog reloads after pricing.catalog_files changed: applied, or failed (the catalog in force kept).\n# TYPE {name} counter"
        );
        for (result, applied) in [("applied", true), ("failed", false)] {
            let count = self.catalog_reloads_total(applied);
            let _ = writeln!(out, "{name}{{result=\"{result}\"}} {count}");
        }
        self.render_exporters(&mut out);
        counter_line(
            &mut out,
            "genai_cost_agent_metric_overflow_points_total",
            "Derived metric points sent to the overflow series because a metric reached its cardinality limit.",
            "",
            self.metric_overflow_total(),
        );
        counter_line(
            &mut out,
            "genai_cost_agent_metric_label_values_truncated_total",
            "Derived metric dimension values cut to metrics.max_label_value_length.",
            "",
            self.label_values_truncated_total(),
        );
        if let Ok(dropped) = self.dropped.lock() {
            for ((item, _), count) in dropped
                .iter()
                .filter(|((_, reason), _)| *reason == "no_exporter")
            {
                let name = format!("genai_cost_agent_receiver_unrouted_{item}_total");
                counter_line(
                    &mut out,
                    &name,
                    "Items of a signal no exporter takes.",
                    "",
                    *count,
                );
            }
        }
        counter_line(
            &mut out,
            "genai_cost_agent_hold_spans_total",
            "Priced spans that waited for their ancestors.",
            "",
            self.held_spans.load(Ordering::Relaxed),
        );
        counter_line(
            &mut out,
            "genai_cost_agent_hold_full_total",
            "Priced spans that went on without waiting because the hold was full.",
            "",
            self.hold_full.load(Ordering::Relaxed),
        );
        let name = "genai_cost_agent_hold_released_total";
        let _ = writeln!(out, "# HELP {name} Spans released from the attribution hold, by reason.\n# TYPE {name} counter");
        for (reason, count) in self.hold_released.values() {
            let _ = writeln!(out, "{name}{{reason=\"{reason}\"}} {count}");
        }
        self.receiver.render(&mut out);
        self.ledger.render(&mut out);
        self.reconciliation.render(&mut out);
        out
    }
}

fn counter_line(out: &mut String, name: &str, help: &str, labels: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name}{labels} {value}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A label of the unpriced family, as a stage would declare it.
    #[derive(Clone, Copy)]
    enum UnpricedReason {
        UnknownModel,
        InvalidUsage,
    }

    impl Label for UnpricedReason {
        const ALL: &'static [Self] = &[Self::UnknownModel, Self::InvalidUsage];
        fn as_str(self) -> &'static str {
            match self {
                Self::UnknownModel => "unknown_model",
                Self::InvalidUsage => "invalid_usage",
            }
        }
        fn index(self) -> usize {
            self as usize
        }
    }

    #[test]
    fn counters_render_in_prometheus_text_format() {
        let counters = AgentCounters::default();
        counters.accepted(Signal::Traces, 5);
        counters.priced(3);
        counters.unpriced(UnpricedReason::UnknownModel);
        let text = counters.render_prometheus();
        assert!(
            text.contains("\ngenai_cost_agent_receiver_accepted_spans_total 5\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE genai_cost_agent_spans_priced_total counter\ngenai_cost_agent_spans_priced_total 3\n"));
        assert!(
            text.contains("genai_cost_agent_spans_unpriced_total{reason=\"unknown_model\"} 1\n")
        );
        assert!(
            text.contains("genai_cost_agent_spans_unpriced_total{reason=\"invalid_usage\"} 0\n")
        );
    }
}
