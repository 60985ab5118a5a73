//! What travels from the receivers to the exporters: one OTLP request of one signal, with the
//! number of items (spans, data points, log records) it carries, and how requests merge into
//! batches.

use crate::telemetry::Signal;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, Metric};

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

    /// Moves the contents of `other` (of the same signal) into `self`.
    /// Returns `other` back when the signals differ.
    pub fn merge(&mut self, other: Payload) -> Result<(), Payload> {
        match (self, other) {
            (Payload::Traces(into), Payload::Traces(from)) => {
                into.resource_spans.extend(from.resource_spans)
            }
            (Payload::Metrics(into), Payload::Metrics(from)) => {
                into.resource_metrics.extend(from.resource_metrics)
            }
            (Payload::Logs(into), Payload::Logs(from)) => {
                into.resource_logs.extend(from.resource_logs)
            }
            (_, other) => return Err(other),
        }
        Ok(())
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
