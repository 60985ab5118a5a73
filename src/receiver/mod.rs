//! The receiving stage: OTLP over gRPC and HTTP. Both hand decoded requests to the [`Intake`],
//! which reserves room in every exporter's queue, enriches spans and queues the data; a full
//! queue becomes a retryable answer to the sender. The transport under them (connection limits,
//! timeouts, the admission budget, the memory limiter) is shared by both protocols.

mod admission;
mod auth;
mod codec;
mod connection;
mod descriptors;
mod grpc;
mod http;
mod memory_limiter;
mod pings;
mod rejection;
mod serve;
mod tls;
pub(crate) mod validate;

pub use admission::{Admission, AdmissionLimits};
pub use auth::{check_token_file, BearerAuth, TokenFileError};
pub use connection::{CloseReason, Connection, ConnectionTimeouts};
pub use descriptors::{
    descriptor_plan, raise_descriptor_limit, DescriptorPlan, TELEMETRY_CONNECTIONS,
};
pub use grpc::{serve_grpc, GrpcReceiver};
pub use http::{serve_http, HttpReceiver};
pub use memory_limiter::{resident_bytes, LimiterError, MemoryLimiter};
pub use pings::PingPolicy;
pub use serve::{serve, Handler, Http2Limits, Responding, ServeLimits};
pub use tls::{ReceiverTls, ServerTls};
pub use validate::InvalidRequest;

/// An error of any kind, as bodies and services pass them on.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

use crate::enrich::hold::{HeldSpan, HoldBuffer, Release};
use crate::enrich::EnrichOutcome;
use crate::enrich::Enricher;
use crate::exporter::{Amount, EncodedRequest, ExportQueue, Payload, Reservation, Stored};
use crate::metrics::{CallRecord, DerivedMetrics};
use crate::telemetry::AgentCounters;
use crate::telemetry::{ExporterCounters, RateLimitedLog, Signal};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

/// Data was not accepted and the sender should try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: Duration,
}

/// Where every receiver delivers: enrichment, the derived metrics and the exporters' queues.
pub struct Intake {
    enricher: Enricher,
    routes: Vec<Route>,
    metrics: Option<Arc<DerivedMetrics>>,
    hold: Option<Mutex<HoldBuffer>>,
    counters: Arc<AgentCounters>,
    drops: RateLimitedLog,
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
            hold: hold.map(Mutex::new),
            counters,
            drops,
        }
    }

    pub fn counters(&self) -> &AgentCounters {
        &self.counters
    }

    /// Enriches and queues `payload` for every exporter, or refuses it whole when no queue has
    /// room. The sender is answered once every queue has stored its copy (a persistent queue:
    /// written to disk by its sync policy); when a disk write fails the sender is refused and its
    /// retry may duplicate the data in the other exporters. Metrics are derived only from data
    /// that was queued.
    pub async fn accept(&self, mut payload: Payload) -> Result<(), Refused> {
        let signal = payload.signal();
        let items = payload.item_count();
        if items == 0 {
            return Ok(());
        }
        let wanted = Amount {
            items: items as u64,
            bytes: payload.encoded_len() as u64,
        };
        let reservations = self
            .reserve_waiting(signal, wanted)
            .await
            .inspect_err(|_| self.counters.refused(signal, items as u64))?;
        let (records, ready) = match &mut payload {
            Payload::Traces(request) => {
                let outcome = self.enricher.enrich_request(request, &self.counters);
                // Held spans leave the request: they are queued again when released.
                self.hold_awaiting(request, outcome)
            }
            _ => (Vec::new(), Vec::new()),
        };
        let stored = self
            .send(reservations, payload)
            .inspect_err(|_| self.counters.refused(signal, items as u64))?;
        self.stored(stored)
            .await
            .inspect_err(|_| self.counters.refused(signal, items as u64))?;
        self.counters.accepted(signal, items as u64);
        self.record(records);
        self.release(ready, false);
        Ok(())
    }

    fn record(&self, records: Vec<CallRecord>) {
        if let Some(metrics) = &self.metrics {
            metrics.record(records);
        }
    }

    /// Moves spans awaiting their ancestors from `request` into the hold (as far as it has room),
    /// lets the request's spans resolve earlier held ones, and returns the records of the spans
    /// that stay in the request and the held spans now ready to go.
    fn hold_awaiting(
        &self,
        request: &mut ExportTraceServiceRequest,
        outcome: EnrichOutcome,
    ) -> (Vec<CallRecord>, Vec<(HeldSpan, Release)>) {
        let Some(Ok(mut hold)) = self.hold.as_ref().map(|hold| hold.lock()) else {
            return (outcome.records, Vec::new());
        };
        let mut records: Vec<Option<CallRecord>> = outcome.records.into_iter().map(Some).collect();
        let mut moved = HashSet::new();
        for awaiting in outcome.awaiting {
            let (r, s, i) = awaiting.location;
            let Some(record) = records[awaiting.record].clone() else {
                continue;
            };
            let resource_spans = &request.resource_spans[r];
            let scope_spans = &resource_spans.scope_spans[s];
            let held = HeldSpan::new(
                resource_spans.resource.clone(),
                resource_spans.schema_url.clone(),
                scope_spans.scope.clone(),
                scope_spans.schema_url.clone(),
                scope_spans.spans[i].clone(),
                record,
                awaiting.missing,
            );
            match hold.hold(held) {
                Ok(()) => {
                    moved.insert(awaiting.location);
                    records[awaiting.record] = None;
                    self.counters.held();
                }
                Err(_) => self.counters.hold_full(),
            }
        }
        remove_spans(request, &moved);
        hold.observe(request);
        let ready = hold.take_ready(Instant::now(), false);
        (records.into_iter().flatten().collect(), ready)
    }

    /// Sends held spans whose wait is over; all of them with `everything` (at shutdown).
    pub fn release_due(&self, everything: bool) {
        let ready = match self.hold.as_ref().map(|hold| hold.lock()) {
            Some(Ok(mut hold)) => hold.take_ready(Instant::now(), everything),
            _ => return,
        };
        self.release(ready, everything);
    }

    /// Queues released spans as one request and records their metrics. When the queue is full
    /// they go back into the hold for the next attempt (at shutdown they are counted as lost).
    fn release(&self, ready: Vec<(HeldSpan, Release)>, shutting_down: bool) {
        if ready.is_empty() {
            return;
        }
        let count = ready.len() as u64;
        let request = ExportTraceServiceRequest {
            resource_spans: ready
                .iter()
                .map(|(held, _)| ResourceSpans {
                    resource: held.resource.clone(),
                    schema_url: held.resource_schema_url.clone(),
                    scope_spans: vec![ScopeSpans {
                        scope: held.scope.clone(),
                        spans: vec![held.span.clone()],
                        schema_url: held.scope_schema_url.clone(),
                    }],
                })
                .collect(),
        };
        let payload = Payload::Traces(request);
        match self
            .reserve(Signal::Traces, Self::wanted(&payload))
            .and_then(|reservations| self.send(reservations, payload))
        {
            // Nobody waits for held spans: a persistent queue's writer counts its own failures.
            Ok(_) => {
                for (_, release) in &ready {
                    self.counters.released(*release);
                }
                let records: Vec<CallRecord> =
                    ready.into_iter().map(|(held, _)| held.record).collect();
                self.record(records);
            }
            Err(_) if shutting_down => {
                self.counters.send_failed(Signal::Traces, count);
                tracing::error!("{count} held spans could not be queued at shutdown and are lost");
            }
            Err(_) => {
                if let Some(Ok(mut hold)) = self.hold.as_ref().map(|hold| hold.lock()) {
                    for (held, _) in ready {
                        if hold.put_back(held).is_err() {
                            self.counters.send_failed(Signal::Traces, 1);
                            tracing::warn!(
                                "a held span was dropped: the export queue and the hold are full"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Queues metric points the agent derived itself.
    pub fn enqueue_derived(&self, payload: Payload) -> Result<(), Refused> {
        let reservations = self.reserve(payload.signal(), Self::wanted(&payload))?;
        self.send(reservations, payload).map(drop)
    }

    /// The room `payload` takes in a queue.
    fn wanted(payload: &Payload) -> Amount {
        Amount {
            items: payload.item_count() as u64,
            bytes: payload.encoded_len() as u64,
        }
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

    /// Encodes `payload` once and hands it to every reserved queue.
    fn send(
        &self,
        reservations: Vec<Reservation>,
        payload: Payload,
    ) -> Result<Vec<Stored>, Refused> {
        if reservations.is_empty() {
            return Ok(Vec::new());
        }
        let request = EncodedRequest::encode_owned(payload);
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

/// What each receiver needs besides its listener and its protocol's own settings.
pub struct ReceiverCommon {
    pub intake: Arc<Intake>,
    pub counters: Arc<AgentCounters>,
    pub admission: Arc<Admission>,
    /// How long a request's message or body may take to arrive.
    pub read_timeout: Duration,
    pub limits: ServeLimits,
    /// Bearer tokens a request must present, if any.
    pub auth: Option<Arc<BearerAuth>>,
}

/// An exporter's queue and the signals it takes.
pub struct Route {
    pub name: String,
    pub queue: ExportQueue,
    /// Traces, metrics, logs.
    pub signals: [bool; 3],
    pub counters: Arc<ExporterCounters>,
}

/// Removes the spans at `locations` from `request`.
fn remove_spans(
    request: &mut ExportTraceServiceRequest,
    locations: &HashSet<(usize, usize, usize)>,
) {
    if locations.is_empty() {
        return;
    }
    for (r, resource_spans) in request.resource_spans.iter_mut().enumerate() {
        for (s, scope_spans) in resource_spans.scope_spans.iter_mut().enumerate() {
            let mut index = 0;
            scope_spans.spans.retain(|_| {
                let keep = !locations.contains(&(r, s, index));
                index += 1;
                keep
            });
        }
    }
}

/// An OTLP export request type, tied to its signal and its response.
pub trait SignalRequest:
    prost::Message + serde::de::DeserializeOwned + Default + Send + 'static
{
    type Response: prost::Message + serde::Serialize + Default;
    fn into_payload(self) -> Payload;
    /// Refuses what a backend's decoder would refuse (see [`validate`]).
    fn check(&self) -> Result<(), InvalidRequest>;
}

impl SignalRequest for ExportTraceServiceRequest {
    type Response = ExportTraceServiceResponse;
    fn into_payload(self) -> Payload {
        Payload::Traces(self)
    }
    fn check(&self) -> Result<(), InvalidRequest> {
        validate::check_traces(self)
    }
}

impl SignalRequest for ExportMetricsServiceRequest {
    type Response = ExportMetricsServiceResponse;
    fn into_payload(self) -> Payload {
        Payload::Metrics(self)
    }
    fn check(&self) -> Result<(), InvalidRequest> {
        validate::check_metrics(self)
    }
}

impl SignalRequest for ExportLogsServiceRequest {
    type Response = ExportLogsServiceResponse;
    fn into_payload(self) -> Payload {
        Payload::Logs(self)
    }
    fn check(&self) -> Result<(), InvalidRequest> {
        validate::check_logs(self)
    }
}
