//! What a request must satisfy before the agent takes it: the identifiers a backend's decoder
//! checks (the OpenTelemetry Collector refuses a request whose trace or span ids have the wrong
//! length). A request that breaks them is refused whole at the door, so it never joins a batch
//! with other clients' data and gets that batch refused downstream.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, Exemplar, Metric};

pub(crate) const TRACE_ID_LEN: usize = 16;
pub(crate) const SPAN_ID_LEN: usize = 8;

/// Why a request was refused: the first field found wrong, by its path in the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {length} bytes, {expected}")]
pub struct InvalidRequest {
    pub path: String,
    pub length: usize,
    pub expected: &'static str,
}

/// Whether `id` has an allowed length; `optional` ids may also be empty. (Also used by the
/// wire scan, [`crate::otlp::scan`], so both refuse with the same value.)
pub(crate) fn check_id(
    id: &[u8],
    wanted: usize,
    optional: bool,
    path: impl FnOnce() -> String,
) -> Result<(), InvalidRequest> {
    if id.len() == wanted || (optional && id.is_empty()) {
        return Ok(());
    }
    let expected = match (wanted, optional) {
        (TRACE_ID_LEN, false) => "must be 16",
        (TRACE_ID_LEN, true) => "must be 16 or empty",
        (_, false) => "must be 8",
        (_, true) => "must be 8 or empty",
    };
    Err(InvalidRequest {
        path: path(),
        length: id.len(),
        expected,
    })
}

/// Every span has a 16-byte trace id and an 8-byte span id; parent ids are empty or 8 bytes;
/// links name a 16-byte trace and an 8-byte span.
pub fn check_traces(request: &ExportTraceServiceRequest) -> Result<(), InvalidRequest> {
    for (r, resource) in request.resource_spans.iter().enumerate() {
        for (s, scope) in resource.scope_spans.iter().enumerate() {
            for (i, span) in scope.spans.iter().enumerate() {
                let at = || format!("resource_spans[{r}].scope_spans[{s}].spans[{i}]");
                check_id(&span.trace_id, TRACE_ID_LEN, false, || {
                    format!("{}.trace_id", at())
                })?;
                check_id(&span.span_id, SPAN_ID_LEN, false, || {
                    format!("{}.span_id", at())
                })?;
                check_id(&span.parent_span_id, SPAN_ID_LEN, true, || {
                    format!("{}.parent_span_id", at())
                })?;
                for (l, link) in span.links.iter().enumerate() {
                    check_id(&link.trace_id, TRACE_ID_LEN, false, || {
                        format!("{}.links[{l}].trace_id", at())
                    })?;
                    check_id(&link.span_id, SPAN_ID_LEN, false, || {
                        format!("{}.links[{l}].span_id", at())
                    })?;
                }
            }
        }
    }
    Ok(())
}

/// A log record's trace and span ids are empty or of their full length.
pub fn check_logs(request: &ExportLogsServiceRequest) -> Result<(), InvalidRequest> {
    for (r, resource) in request.resource_logs.iter().enumerate() {
        for (s, scope) in resource.scope_logs.iter().enumerate() {
            for (i, record) in scope.log_records.iter().enumerate() {
                let at = || format!("resource_logs[{r}].scope_logs[{s}].log_records[{i}]");
                check_id(&record.trace_id, TRACE_ID_LEN, true, || {
                    format!("{}.trace_id", at())
                })?;
                check_id(&record.span_id, SPAN_ID_LEN, true, || {
                    format!("{}.span_id", at())
                })?;
            }
        }
    }
    Ok(())
}

/// An exemplar's trace and span ids are empty or of their full length.
pub fn check_metrics(request: &ExportMetricsServiceRequest) -> Result<(), InvalidRequest> {
    for (r, resource) in request.resource_metrics.iter().enumerate() {
        for (s, scope) in resource.scope_metrics.iter().enumerate() {
            for (m, metric) in scope.metrics.iter().enumerate() {
                for (p, e, exemplar) in exemplars(metric) {
                    let at = || {
                        format!(
                            "resource_metrics[{r}].scope_metrics[{s}].metrics[{m}].data_points[{p}].exemplars[{e}]"
                        )
                    };
                    check_id(&exemplar.trace_id, TRACE_ID_LEN, true, || {
                        format!("{}.trace_id", at())
                    })?;
                    check_id(&exemplar.span_id, SPAN_ID_LEN, true, || {
                        format!("{}.span_id", at())
                    })?;
                }
            }
        }
    }
    Ok(())
}

/// Every exemplar of `metric`, with its data point's and its own index.
fn exemplars(metric: &Metric) -> Vec<(usize, usize, &Exemplar)> {
    let per_point: Vec<&Vec<Exemplar>> = match &metric.data {
        Some(Data::Gauge(gauge)) => gauge.data_points.iter().map(|p| &p.exemplars).collect(),
        Some(Data::Sum(sum)) => sum.data_points.iter().map(|p| &p.exemplars).collect(),
        Some(Data::Histogram(histogram)) => {
            histogram.data_points.iter().map(|p| &p.exemplars).collect()
        }
        Some(Data::ExponentialHistogram(histogram)) => {
            histogram.data_points.iter().map(|p| &p.exemplars).collect()
        }
        Some(Data::Summary(_)) | None => Vec::new(),
    };
    per_point
        .into_iter()
        .enumerate()
        .flat_map(|(p, list)| list.iter().enumerate().map(move |(e, x)| (p, e, x)))
        .collect()
}

/// An id (trace, span) as the lower-case hex text traces show it in.
pub fn hex(id: &[u8]) -> String {
    id.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::traces_request;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::trace::v1::span::Link;
    use opentelemetry_proto::tonic::trace::v1::Span;

    fn span(trace: usize, span: usize, parent: usize) -> Span {
        Span {
            trace_id: vec![1; trace],
            span_id: vec![2; span],
            parent_span_id: vec![3; parent],
            name: "s".into(),
            ..Default::default()
        }
    }

    #[test]
    fn spans_with_full_length_ids_pass() {
        let request = traces_request(vec![span(16, 8, 0), span(16, 8, 8)]);
        assert_eq!(check_traces(&request), Ok(()));
    }

    #[test]
    fn a_three_byte_span_id_is_refused_naming_the_field() {
        let request = traces_request(vec![span(16, 8, 0), span(16, 3, 0)]);
        let error = check_traces(&request).unwrap_err();
        assert_eq!(
            error.to_string(),
            "resource_spans[0].scope_spans[0].spans[1].span_id: 3 bytes, must be 8"
        );
    }

    #[test]
    fn trace_ids_must_have_16_bytes_and_may_not_be_empty() {
        for length in [0, 8, 15, 17, 32] {
            let error = check_traces(&traces_request(vec![span(length, 8, 0)])).unwrap_err();
            assert_eq!(
                error,
                InvalidRequest {
                    path: "resource_spans[0].scope_spans[0].spans[0].trace_id".into(),
                    length,
                    expected: "must be 16",
                }
            );
        }
    }

    #[test]
    fn parent_ids_are_empty_or_8_bytes() {
        let error = check_traces(&traces_request(vec![span(16, 8, 4)])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "resource_spans[0].scope_spans[0].spans[0].parent_span_id: 4 bytes, must be 8 or empty"
        );
    }

    #[test]
    fn links_are_checked() {
        let mut linked = span(16, 8, 0);
        linked.links.push(Link {
            trace_id: vec![1; 16],
            span_id: vec![2; 7],
            ..Default::default()
        });
        let error = check_traces(&traces_request(vec![linked])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "resource_spans[0].scope_spans[0].spans[0].links[0].span_id: 7 bytes, must be 8"
        );
    }

    #[test]
    fn log_records_may_carry_no_ids_but_not_short_ones() {
        let record = |trace: usize, span: usize| LogRecord {
            trace_id: vec![1; trace],
            span_id: vec![2; span],
            ..Default::default()
        };
        let request = |records| ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: records,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        assert_eq!(
            check_logs(&request(vec![record(0, 0), record(16, 8)])),
            Ok(())
        );
        assert_eq!(
            check_logs(&request(vec![record(16, 8), record(5, 8)]))
                .unwrap_err()
                .to_string(),
            "resource_logs[0].scope_logs[0].log_records[1].trace_id: 5 bytes, must be 16 or empty"
        );
    }
}
