//! The receiving stage: OTLP over gRPC and HTTP. Both hand decoded requests to the [`Intake`],
//! which reserves room in every exporter's queue, enriches spans and queues the data; a full
//! queue becomes a retryable answer to the sender.

mod grpc;
mod http;

pub use grpc::serve_grpc;
pub use http::serve_http;

use crate::enrich::Enricher;
use crate::exporter::{ExportQueue, Payload, Reservation};
use crate::metrics::DerivedMetrics;
use crate::telemetry::AgentCounters;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::sync::Arc;
use std::time::Duration;

/// Data was not accepted and the sender should try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: Duration,
}

/// Where every receiver delivers: enrichment, the derived metrics and the exporters' queues.
pub struct Intake {
    enricher: Enricher,
    queues: Vec<ExportQueue>,
    metrics: Option<Arc<DerivedMetrics>>,
    counters: Arc<AgentCounters>,
}

impl Intake {
    pub fn new(
        enricher: Enricher,
        queues: Vec<ExportQueue>,
        metrics: Option<Arc<DerivedMetrics>>,
        counters: Arc<AgentCounters>,
    ) -> Self {
        Self {
            enricher,
            queues,
            metrics,
            counters,
        }
    }

    pub fn counters(&self) -> &AgentCounters {
        &self.counters
    }

    /// Enriches and queues `payload` for every exporter, or refuses it whole: either every
    /// exporter gets the data or none does, so a retry never duplicates. Metrics are derived
    /// only from data that was queued.
    pub fn accept(&self, mut payload: Payload) -> Result<(), Refused> {
        let signal = payload.signal();
        let items = payload.item_count();
        if items == 0 {
            return Ok(());
        }
        let reservations = self
            .reserve(items)
            .inspect_err(|_| self.counters.refused(signal, items as u64))?;
        let records = match &mut payload {
            Payload::Traces(request) => {
                self.enricher
                    .enrich_request(request, &self.counters)
                    .records
            }
            _ => Vec::new(),
        };
        self.send(reservations, payload)
            .inspect_err(|_| self.counters.refused(signal, items as u64))?;
        self.counters.accepted(signal, items as u64);
        if let Some(metrics) = &self.metrics {
            metrics.record(&records);
        }
        Ok(())
    }

    /// Queues metric points the agent derived itself.
    pub fn enqueue_derived(&self, payload: Payload) -> Result<(), Refused> {
        let reservations = self.reserve(payload.item_count())?;
        self.send(reservations, payload)
    }

    fn reserve(&self, items: usize) -> Result<Vec<Reservation>, Refused> {
        self.queues
            .iter()
            .map(|queue| {
                queue.try_reserve(items).ok_or(Refused {
                    retry_after: queue.retry_after(),
                })
            })
            .collect()
    }

    fn send(&self, reservations: Vec<Reservation>, mut payload: Payload) -> Result<(), Refused> {
        let retry_after = self
            .queues
            .first()
            .map_or(Duration::from_secs(1), ExportQueue::retry_after);
        let mut reservations = reservations.into_iter().peekable();
        while let Some(reservation) = reservations.next() {
            let copy = if reservations.peek().is_some() {
                payload.clone()
            } else {
                std::mem::replace(&mut payload, Payload::Logs(Default::default()))
            };
            // Fails only when an exporter has stopped: the agent is shutting down.
            reservation
                .send(copy)
                .map_err(|_| Refused { retry_after })?;
        }
        Ok(())
    }
}

/// An OTLP export request type, tied to its signal and its response.
pub trait SignalRequest:
    prost::Message + serde::de::DeserializeOwned + Default + Send + 'static
{
    type Response: prost::Message + serde::Serialize + Default;
    fn into_payload(self) -> Payload;
}

impl SignalRequest for ExportTraceServiceRequest {
    type Response = ExportTraceServiceResponse;
    fn into_payload(self) -> Payload {
        Payload::Traces(self)
    }
}

impl SignalRequest for ExportMetricsServiceRequest {
    type Response = ExportMetricsServiceResponse;
    fn into_payload(self) -> Payload {
        Payload::Metrics(self)
    }
}

impl SignalRequest for ExportLogsServiceRequest {
    type Response = ExportLogsServiceResponse;
    fn into_payload(self) -> Payload {
        Payload::Logs(self)
    }
}
