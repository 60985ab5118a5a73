//! The debug exporter: one line per priced span and per span left unpriced (its model and
//! reason: a price to add shows up at once) on standard output, each with its trace id, and every
//! interval a one-line summary of everything else that passed, so the agent shows it works
//! without a backend. A span is priced when it carries the cost attributes the enricher wrote
//! ([`crate::pricing::attributes`]); the line shows those, and beside them the model and token
//! counts the cost came from, which the enricher does not write, read with the agent's usage
//! reader.

use crate::otlp::validate::hex;
use crate::otlp::view::Attributes;
use crate::otlp::Payload;
use crate::pricing::attributes as cost;
use crate::usage::{Source, SpanUsage, UsageReader};
use opentelemetry_proto::tonic::trace::v1::Span;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Default)]
struct Tally {
    priced_spans: AtomicU64,
    unpriced_spans: AtomicU64,
    other_spans: AtomicU64,
    metric_points: AtomicU64,
    log_records: AtomicU64,
}

pub struct DebugExporter {
    tally: Arc<Tally>,
    reader: UsageReader,
    summary: tokio::task::JoinHandle<()>,
}

impl Drop for DebugExporter {
    fn drop(&mut self) {
        self.summary.abort();
    }
}

impl DebugExporter {
    /// Starts the exporter and its summary task (needs a Tokio runtime).
    pub fn start(summary_interval: Duration, reader: UsageReader) -> Self {
        let tally = Arc::new(Tally::default());
        let summary = tokio::spawn(print_summaries(tally.clone(), summary_interval));
        Self {
            tally,
            reader,
            summary,
        }
    }

    pub fn export(&self, payload: &Payload) {
        let signal_items = payload.item_count() as u64;
        match payload {
            Payload::Traces(request) => {
                let mut out = String::new();
                for resource in &request.resource_spans {
                    let resource_attributes = resource
                        .resource
                        .as_ref()
                        .map_or(&[][..], |resource| &resource.attributes[..]);
                    let service = resource_attributes
                        .str("service.name")
                        .unwrap_or("unknown_service");
                    let sdk_name = resource_attributes.str("telemetry.sdk.name");
                    for scope in &resource.scope_spans {
                        let source = Source {
                            scope_name: scope
                                .scope
                                .as_ref()
                                .map_or("", |scope| scope.name.as_str()),
                            scope_version: scope
                                .scope
                                .as_ref()
                                .map_or("", |scope| scope.version.as_str()),
                            sdk_name,
                        };
                        for span in &scope.spans {
                            let counter = if self
                                .write_priced_line(&mut out, service, span, &source)
                            {
                                &self.tally.priced_spans
                            } else if self.write_unpriced_line(&mut out, service, span, &source) {
                                &self.tally.unpriced_spans
                            } else {
                                &self.tally.other_spans
                            };
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                if !out.is_empty() {
                    let _ = std::io::stdout().lock().write_all(out.as_bytes());
                }
            }
            Payload::Metrics(_) => {
                self.tally
                    .metric_points
                    .fetch_add(signal_items, Ordering::Relaxed);
            }
            Payload::Logs(_) => {
                self.tally
                    .log_records
                    .fetch_add(signal_items, Ordering::Relaxed);
            }
        }
    }
}

async fn print_summaries(tally: Arc<Tally>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let take = |counter: &AtomicU64| counter.swap(0, Ordering::Relaxed);
        let (priced, unpriced, other, points, records) = (
            take(&tally.priced_spans),
            take(&tally.unpriced_spans),
            take(&tally.other_spans),
            take(&tally.metric_points),
            take(&tally.log_records),
        );
        let line = format!(
            "summary last {}s: {priced} priced spans, {unpriced} unpriced spans, {other} other spans, {points} metric points, {records} log records\n",
            interval.as_secs_f64()
        );
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }
}

impl DebugExporter {
    /// Writes the line of a priced span; false when the span carries no cost.
    fn write_priced_line(
        &self,
        out: &mut String,
        service: &str,
        span: &Span,
        source: &Source<'_>,
    ) -> bool {
        let attributes = &span.attributes;
        let Some(price_id) = attributes.str(cost::PRICE_ID) else {
            return false;
        };
        let SpanUsage::Present(facts) = self.reader.read(attributes, &span.name, source) else {
            return false;
        };
        let (model, usage) = (facts.model, facts.usage);
        let money = |key: &str| attributes.double(key).unwrap_or(0.0);
        let _ = writeln!(
        out,
        "priced span service={service} model={model} tokens[input={} output={} cache_read={} cache_creation={}] \
         cost[total={:.6} input={:.6} output={:.6} cache_read={:.6} cache_creation={:.6} tools={:.6}] {currency} \
         cache_hit_ratio={:.3} savings={:.6} price={price_id} trace={}",
        usage.input,
        usage.output,
        usage.cache_read,
        usage.cache_write(),
        money(cost::COST_AMOUNT),
        money(cost::COST_INPUT),
        money(cost::COST_OUTPUT),
        money(cost::COST_CACHE_READ),
        money(cost::COST_CACHE_CREATION),
        money(cost::COST_TOOLS),
        money(cost::CACHE_HIT_RATIO),
        money(cost::CACHE_SAVINGS),
        hex(&span.trace_id),
        model = model.unwrap_or("?"),
        currency = attributes.str(cost::COST_CURRENCY).unwrap_or(""),
    );
        true
    }

    /// Writes the line of a span the enricher left unpriced (it says why); false for others.
    fn write_unpriced_line(
        &self,
        out: &mut String,
        service: &str,
        span: &Span,
        source: &Source<'_>,
    ) -> bool {
        let attributes = &span.attributes;
        let Some(reason) = attributes.str(cost::UNPRICED_REASON) else {
            return false;
        };
        let model = match self.reader.read(attributes, &span.name, source) {
            SpanUsage::Present(facts) | SpanUsage::CallWithoutUsage(facts) => facts.model,
            _ => None,
        };
        let _ = writeln!(
            out,
            "unpriced span service={service} model={} reason={reason} span={:?} trace={}",
            model.unwrap_or("?"),
            span.name,
            hex(&span.trace_id)
        );
        true
    }
}
