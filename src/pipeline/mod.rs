//! The stage between the receivers and the exporters: a received request gets room in every
//! exporter's queue (or the sender is refused), its spans are enriched, spans awaiting their
//! ancestors go into the attribution hold, the result is queued once for every exporter, and
//! the model calls feed the derived metrics. Receivers hand over a [`Request`]; protobuf trace
//! requests stay bytes end to end ([`wire`]), decoded ones take the struct path.

mod held;
mod wire;

pub use wire::ScannedTraces;

use crate::enrich::hold::HoldBuffer;
use crate::enrich::Enricher;
use crate::exporter::{Amount, ExportQueue, Reservation, Stored};
use crate::ledger::days::RunningSpend;
use crate::ledger::Ledger;
use crate::live::LivePage;
use crate::metrics::{CallRecord, DerivedMetrics, MetricsSink};
use crate::otlp::{EncodedRequest, Payload, Signal};
use crate::telemetry::{AgentCounters, ExporterCounters, RateLimitedLog};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

/// Data was not accepted and the sender should try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: Duration,
}

/// A request as a receiver hands it over.
#[derive(Debug)]
pub enum Request {
    /// Decoded structs (OTLP/JSON).
    Decoded(Payload),
    /// A trace request's validated protobuf bytes and their index.
    Traces(ScannedTraces),
    /// Metrics or logs as received, validated and counted.
    AsReceived(EncodedRequest),
}

impl Request {
    pub fn signal(&self) -> Signal {
        match self {
            Request::Decoded(payload) => payload.signal(),
            Request::Traces(_) => Signal::Traces,
            Request::AsReceived(encoded) => encoded.signal,
        }
    }

    /// The items it carries and the room it takes in a queue.
    fn wanted(&self) -> Amount {
        match self {
            Request::Decoded(payload) => wanted(payload),
            Request::Traces(traces) => traces.wanted(),
            Request::AsReceived(encoded) => Amount {
                items: encoded.items,
                bytes: encoded.bytes.len() as u64,
            },
        }
    }
}

/// An exporter's queue and the signals it takes.
pub struct Route {
    pub name: String,
    pub queue: ExportQueue,
    /// Traces, metrics, logs.
    pub signals: [bool; 3],
    pub counters: Arc<ExporterCounters>,
}

/// Where every receiver delivers: enrichment, the derived metrics and the exporters' queues.
pub struct Intake {
    enricher: Enricher,
    routes: Vec<Route>,
    metrics: Option<Arc<DerivedMetrics>>,
    ledger: Option<Arc<Ledger>>,
    /// Model calls also go out as OTLP log records.
    ledger_logs: bool,
    live: Option<Arc<LivePage>>,
    /// The spend per provider, model and day the reconciliation compares.
    running_spend: Option<Arc<RunningSpend>>,
    hold: Option<Mutex<HoldBuffer>>,
    counters: Arc<AgentCounters>,
    drops: RateLimitedLog,
}

/// What enrichment and the hold made of a request: the request to queue, the records of its
/// model calls, and held spans now ready to go.
struct Processed {
    request: Option<EncodedRequest>,
    records: Vec<CallRecord>,
    ready: Vec<(crate::enrich::hold::HeldSpan, crate::enrich::hold::Release)>,
}

impl Intake {
    pub fn new(
        enricher: Enricher,
        routes: Vec<Route>,
        metrics: Option<Arc<DerivedMetrics>>,
        hold: Option<HoldBuffer>,
        counters: Arc<AgentCounters>,
    ) -> Self {
        let drops = RateLimitedLog::new(Duration::from_secs(10));
        Self {
            enricher,
            routes,
            metrics,
            ledger: None,
            ledger_logs: false,
            live: None,
            running_spend: None,
            hold: hold.map(Mutex::new),
            counters,
            drops,
        }
    }

    /// Model calls are also written to `ledger`.
    pub fn with_ledger(mut self, ledger: Arc<Ledger>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// Model calls also feed the live page.
    pub fn with_live_page(mut self, live: Arc<LivePage>) -> Self {
        self.live = Some(live);
        self
    }

    /// Priced calls also add to `spend`.
    pub fn with_running_spend(mut self, spend: Arc<RunningSpend>) -> Self {
        self.running_spend = Some(spend);
        self
    }

    /// Model calls are also sent as OTLP log records, through the exporters that take logs.
    pub fn with_ledger_logs(mut self) -> Self {
        self.ledger_logs = true;
        self
    }

    /// The currency the catalog prices in.
    pub fn currency(&self) -> String {
        self.enricher.catalog().currency().to_string()
    }

    pub fn counters(&self) -> &AgentCounters {
        &self.counters
    }

    /// Enriches and queues `request` for every exporter, or refuses it whole when no queue has
    /// room. The sender is answered once every queue has stored its copy (a persistent queue:
    /// written to disk by its sync policy); when a disk write fails the sender is refused and its
    /// retry may duplicate the data in the other exporters. Metrics are derived only from data
    /// that was queued.
    pub async fn accept(&self, request: Request) -> Result<(), Refused> {
        let signal = request.signal();
        let wanted = request.wanted();
        let items = wanted.items;
        if items == 0 {
            return Ok(());
        }
        let reservations = self
            .reserve_waiting(signal, wanted)
            .await
            .inspect_err(|_| self.counters.refused(signal, items))?;
        let processed = self.process(request);
        let stored = match processed.request {
            Some(encoded) => self.send(reservations, encoded),
            None => Ok(Vec::new()),
        }
        .inspect_err(|_| self.counters.refused(signal, items))?;
        self.stored(stored)
            .await
            .inspect_err(|_| self.counters.refused(signal, items))?;
        self.counters.accepted(signal, items);
        self.record(processed.records);
        self.release(processed.ready, false);
        Ok(())
    }

    /// Enrichment and the hold, by the request's representation.
    fn process(&self, request: Request) -> Processed {
        match request {
            Request::Decoded(Payload::Traces(mut traces)) => {
                let outcome = self.enricher.enrich_request(&mut traces, &self.counters);
                // Held spans leave the request: they are queued again when released.
                let (records, ready) = self.hold_awaiting(&mut traces, outcome);
                Processed {
                    request: Some(EncodedRequest::encode_owned(Payload::Traces(traces))),
                    records,
                    ready,
                }
            }
            Request::Decoded(payload) => Processed {
                request: Some(EncodedRequest::encode_owned(payload)),
                records: Vec::new(),
                ready: Vec::new(),
            },
            Request::Traces(traces) => self.process_scanned(traces),
            Request::AsReceived(encoded) => Processed {
                request: Some(encoded),
                records: Vec::new(),
                ready: Vec::new(),
            },
        }
    }

    /// Hands a request's model calls to everything that records them.
    fn record(&self, records: Vec<CallRecord>) {
        if records.is_empty() {
            return;
        }
        if let Some(spend) = &self.running_spend {
            spend.record(&records);
        }
        if self.ledger.is_some() || self.ledger_logs || self.live.is_some() {
            let catalog = self.enricher.catalog();
            if let Some(live) = &self.live {
                live.record(&records, catalog.currency());
            }
            if let Some(ledger) = &self.ledger {
                ledger.record(&records, catalog.currency());
            }
            if self.ledger_logs {
                self.send_ledger_logs(&records, catalog.currency());
            }
        }
        if let Some(metrics) = &self.metrics {
            metrics.record(records);
        }
    }

    /// Queues the records as OTLP log records; when no queue has room they are dropped and
    /// counted as the ledger's.
    fn send_ledger_logs(&self, records: &[CallRecord], currency: &str) {
        if !self
            .routes
            .iter()
            .any(|route| route.signals[Signal::Logs as usize])
        {
            self.counters.ledger.dropped(records.len() as u64);
            self.drops
                .warn("ledger log records dropped: no exporter takes logs (exporters.*.signals)");
            return;
        }
        let request = crate::ledger::logs::request(records, currency);
        let encoded = EncodedRequest::encode_owned(Payload::Logs(request));
        if self.enqueue_derived(encoded).is_err() {
            self.counters.ledger.dropped(records.len() as u64);
            self.drops
                .warn("ledger log records dropped: no exporter queue had room");
        }
    }

    /// Queues metric points the agent derived itself.
    pub fn enqueue_derived(&self, request: EncodedRequest) -> Result<(), Refused> {
        let wanted = Amount {
            items: request.items,
            bytes: request.bytes.len() as u64,
        };
        let reservations = self.reserve(request.signal, wanted)?;
        self.send(reservations, request).map(drop)
    }

    /// Waits until every queue has stored its copy (a persistent queue: written to disk). A
    /// failed write refuses the request, so the sender tries again rather than losing it.
    async fn stored(&self, stored: Vec<Stored>) -> Result<(), Refused> {
        for stored in stored {
            if let Err(error) = stored.wait().await {
                self.drops.warn(&format!(
                    "a persistent queue could not store a request: {error}"
                ));
                return Err(Refused {
                    retry_after: self.retry_after(),
                });
            }
        }
        Ok(())
    }

    fn retry_after(&self) -> Duration {
        self.routes
            .first()
            .map_or(Duration::from_secs(1), |route| route.queue.retry_after())
    }

    /// Room for `items` of `signal` in the queue of every exporter taking that signal, waiting
    /// up to each queue's `enqueue_timeout`. When some queues are full but not all, the data goes
    /// to those with room and the full ones count it as dropped (`queue_full`): a slow or dead
    /// exporter never stalls the others. Only when every queue is full is the sender refused.
    async fn reserve_waiting(
        &self,
        signal: Signal,
        wanted: Amount,
    ) -> Result<Vec<Reservation>, Refused> {
        let started = tokio::time::Instant::now();
        let mut results = Vec::new();
        for route in self.routes_for(signal) {
            results.push((route, route.queue.reserve_by(wanted, started).await));
        }
        self.settle(signal, wanted.items, results)
    }

    /// Like [`Intake::reserve_waiting`], without waiting.
    fn reserve(&self, signal: Signal, wanted: Amount) -> Result<Vec<Reservation>, Refused> {
        let results = self
            .routes_for(signal)
            .map(|route| (route, route.queue.try_reserve(wanted)))
            .collect();
        self.settle(signal, wanted.items, results)
    }

    fn routes_for(&self, signal: Signal) -> impl Iterator<Item = &Route> {
        self.routes
            .iter()
            .filter(move |route| route.signals[signal as usize])
    }

    fn settle(
        &self,
        signal: Signal,
        items: u64,
        results: Vec<(&Route, Option<Reservation>)>,
    ) -> Result<Vec<Reservation>, Refused> {
        if results.is_empty() {
            self.counters.dropped(signal, items, "no_exporter");
            return Ok(Vec::new());
        }
        if results.iter().all(|(_, reservation)| reservation.is_none()) {
            for (route, _) in &results {
                route.counters.refused(signal, items);
            }
            return Err(Refused {
                retry_after: results[0].0.queue.retry_after(),
            });
        }
        let mut reservations = Vec::with_capacity(results.len());
        for (route, reservation) in results {
            match reservation {
                Some(reservation) => reservations.push(reservation),
                None => {
                    route.counters.dropped(signal, items, "queue_full");
                    self.drops.warn(&format!("exporter {}: queue full, {items} {} dropped for it (the other exporters got them)", route.name, signal.item()));
                }
            }
        }
        Ok(reservations)
    }

    /// Hands the encoded request to every reserved queue.
    fn send(
        &self,
        reservations: Vec<Reservation>,
        request: EncodedRequest,
    ) -> Result<Vec<Stored>, Refused> {
        reservations
            .into_iter()
            .map(|reservation| {
                // Fails only when an exporter has stopped: the agent is shutting down.
                reservation.send(request.clone()).map_err(|_| Refused {
                    retry_after: self.retry_after(),
                })
            })
            .collect()
    }
}

/// The room `payload` takes in a queue.
fn wanted(payload: &Payload) -> Amount {
    Amount {
        items: payload.item_count() as u64,
        bytes: payload.encoded_len() as u64,
    }
}

/// The derived metrics go out through the exporters' queues like any received request.
impl MetricsSink for Intake {
    fn send(&self, request: EncodedRequest) -> bool {
        self.enqueue_derived(request).is_ok()
    }
}

#[cfg(test)]
mod tests;
