//! The property the fuzz target checks, apart from AFL so it can be run on any input: the
//! wire scan accepts exactly what prost's decode and the receiver's validation accept, refuses
//! ids with the same error, and for traces indexes what prost decodes.

use genai_cost_agent::otlp::scan::{scan_logs, scan_metrics, scan_traces, ScanError};
use genai_cost_agent::receiver::SignalRequest;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

/// Panics when the scan and prost (with validation) disagree about `data`, read as each of
/// the three export requests.
pub fn check(data: &[u8]) {
    check_traces(data);
    let count = |request: &ExportMetricsServiceRequest| {
        use opentelemetry_proto::tonic::metrics::v1::metric::Data;
        let points = |data: &Option<Data>| match data {
            Some(Data::Gauge(d)) => d.data_points.len(),
            Some(Data::Sum(d)) => d.data_points.len(),
            Some(Data::Histogram(d)) => d.data_points.len(),
            Some(Data::ExponentialHistogram(d)) => d.data_points.len(),
            Some(Data::Summary(d)) => d.data_points.len(),
            None => 0,
        };
        let metrics = request
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics);
        metrics
            .flat_map(|s| &s.metrics)
            .map(|m| points(&m.data) as u64)
            .sum()
    };
    same(
        scan_metrics(data),
        ExportMetricsServiceRequest::decode(data),
        count,
    );
    let count = |request: &ExportLogsServiceRequest| {
        let scopes = request.resource_logs.iter().flat_map(|r| &r.scope_logs);
        scopes.map(|s| s.log_records.len() as u64).sum()
    };
    same(
        scan_logs(data),
        ExportLogsServiceRequest::decode(data),
        count,
    );
}

fn same<R: SignalRequest + std::fmt::Debug>(
    scanned: Result<u64, ScanError>,
    decoded: Result<R, prost::DecodeError>,
    count: impl Fn(&R) -> u64,
) {
    match decoded {
        Err(error) => assert!(
            matches!(scanned, Err(ScanError::Malformed { .. })),
            "prost refuses ({error}), the scan: {scanned:?}"
        ),
        Ok(request) => match request.check() {
            Err(invalid) => assert_eq!(scanned, Err(ScanError::Invalid(invalid))),
            Ok(()) => assert_eq!(scanned, Ok(count(&request))),
        },
    }
}

fn check_traces(data: &[u8]) {
    let scanned = scan_traces(data);
    let request = match ExportTraceServiceRequest::decode(data) {
        Err(error) => {
            assert!(
                matches!(scanned, Err(ScanError::Malformed { .. })),
                "prost refuses ({error}), the scan: {scanned:?}"
            );
            return;
        }
        Ok(request) => request,
    };
    if let Err(invalid) = request.check() {
        assert_eq!(scanned, Err(ScanError::Invalid(invalid)));
        return;
    }
    let index = match scanned {
        Ok(index) => index,
        Err(error) => panic!("prost and validation accept, the scan: {error}"),
    };
    let spans: Vec<_> = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect();
    assert_eq!(index.resource_spans.len(), request.resource_spans.len());
    assert_eq!(index.spans.len(), spans.len());
    for (entry, span) in index.spans.iter().zip(spans) {
        assert_eq!(entry.trace_id.of(data), &span.trace_id[..]);
        assert_eq!(entry.span_id.of(data), &span.span_id[..]);
        assert_eq!(entry.parent_span_id.of(data), &span.parent_span_id[..]);
        assert_eq!(entry.name.of(data), span.name.as_bytes());
        assert_eq!(entry.start_time_unix_nano, span.start_time_unix_nano);
        assert_eq!(entry.end_time_unix_nano, span.end_time_unix_nano);
        assert_eq!(
            entry.status_code,
            span.status.as_ref().map_or(0, |s| s.code)
        );
        let body = entry.frame.body.of(data);
        let decoded = opentelemetry_proto::tonic::trace::v1::Span::decode(body);
        assert_eq!(
            decoded.map(|s| s.encode_to_vec()).ok(),
            Some(span.encode_to_vec())
        );
    }
}
