//! What travels from the receivers to the exporters: one OTLP request of one signal, the number
//! of items (spans, data points, log records) it carries, and the request encoded once, which
//! batches join.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, Metric};

/// The three OTLP signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    /// The item each signal carries, as the Collector names its counters.
    pub fn item(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Metrics => "metric_points",
            Signal::Logs => "log_records",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
            Signal::Logs => "/v1/logs",
        }
    }
}

/// One OTLP export request, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Traces(ExportTraceServiceRequest),
    Metrics(ExportMetricsServiceRequest),
    Logs(ExportLogsServiceRequest),
}

impl Payload {
    pub fn signal(&self) -> Signal {
        match self {
            Payload::Traces(_) => Signal::Traces,
            Payload::Metrics(_) => Signal::Metrics,
            Payload::Logs(_) => Signal::Logs,
        }
    }

    /// Spans, metric data points or log records in the request.
    pub fn item_count(&self) -> usize {
        match self {
            Payload::Traces(request) => request
                .resource_spans
                .iter()
                .flat_map(|resource| &resource.scope_spans)
                .map(|scope| scope.spans.len())
                .sum(),
            Payload::Metrics(request) => request
                .resource_metrics
                .iter()
                .flat_map(|resource| &resource.scope_metrics)
                .flat_map(|scope| &scope.metrics)
                .map(data_point_count)
                .sum(),
            Payload::Logs(request) => request
                .resource_logs
                .iter()
                .flat_map(|resource| &resource.scope_logs)
                .map(|scope| scope.log_records.len())
                .sum(),
        }
    }

    /// Encoded size in bytes, as it would be queued.
    pub fn encoded_len(&self) -> usize {
        use prost::Message;
        match self {
            Payload::Traces(request) => request.encoded_len(),
            Payload::Metrics(request) => request.encoded_len(),
            Payload::Logs(request) => request.encoded_len(),
        }
    }

    fn encode_to_vec(&self) -> Vec<u8> {
        use prost::Message;
        match self {
            Payload::Traces(request) => request.encode_to_vec(),
            Payload::Metrics(request) => request.encode_to_vec(),
            Payload::Logs(request) => request.encode_to_vec(),
        }
    }
}

fn data_point_count(metric: &Metric) -> usize {
    match &metric.data {
        Some(Data::Gauge(gauge)) => gauge.data_points.len(),
        Some(Data::Sum(sum)) => sum.data_points.len(),
        Some(Data::Histogram(histogram)) => histogram.data_points.len(),
        Some(Data::ExponentialHistogram(histogram)) => histogram.data_points.len(),
        Some(Data::Summary(summary)) => summary.data_points.len(),
        None => 0,
    }
}

/// A request encoded once at intake and shared by every exporter that takes it. Encoded OTLP
/// export requests of one signal concatenate into one valid request (their repeated top-level
/// field appends), so the exporters build their batches from bytes without decoding.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedRequest {
    pub signal: Signal,
    /// Spans, metric data points or log records.
    pub items: u64,
    pub bytes: bytes::Bytes,
}

impl EncodedRequest {
    pub fn encode(payload: &Payload) -> Self {
        Self {
            signal: payload.signal(),
            items: payload.item_count() as u64,
            bytes: payload.encode_to_vec().into(),
        }
    }

    /// Encodes `payload`, freeing a trace request's spans as they are written (see
    /// [`super::draining`]).
    pub fn encode_owned(payload: Payload) -> Self {
        let (signal, items) = (payload.signal(), payload.item_count() as u64);
        let bytes = match payload {
            Payload::Traces(request) => super::draining::encode_traces(request),
            other => other.encode_to_vec(),
        };
        Self {
            signal,
            items,
            bytes: bytes.into(),
        }
    }

    /// The request decoded again (for exporters that print rather than send).
    pub fn decode(&self) -> Result<Payload, prost::DecodeError> {
        use prost::Message;
        let bytes = &self.bytes[..];
        Ok(match self.signal {
            Signal::Traces => Payload::Traces(ExportTraceServiceRequest::decode(bytes)?),
            Signal::Metrics => Payload::Metrics(ExportMetricsServiceRequest::decode(bytes)?),
            Signal::Logs => Payload::Logs(ExportLogsServiceRequest::decode(bytes)?),
        })
    }
}
