//! Derived metrics in the Prometheus text format, with the usual OTLP-to-Prometheus names, and
//! the optional scrape endpoint serving them.

use super::series::Value;
use super::{prometheus_label, DerivedMetrics, Instrument, Kind};
use crate::telemetry::escaped;
use axum::routing::get;
use axum::Router;
use std::fmt::Write;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Every derived series, cumulative, as Prometheus text.
pub fn render(metrics: &DerivedMetrics) -> String {
    let mut out = String::new();
    // The agent's identity goes on `target_info`, as the OpenTelemetry-to-Prometheus mapping
    // does with resource attributes; the scrape's own job and instance labels tell agents apart.
    let identity = label_text(&metrics.identity, None);
    let _ = writeln!(
        out,
        "# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info{identity} 1"
    );
    let snapshot = metrics.snapshot();
    for instrument in Instrument::ALL {
        let series: Vec<_> = snapshot
            .iter()
            .filter(|(of, _, _)| *of == instrument)
            .collect();
        if series.is_empty() {
            continue;
        }
        let name = instrument.prometheus_name(metrics.currency());
        let kind = match instrument.kind() {
            Kind::Histogram => "histogram",
            Kind::MonotonicSum => "counter",
            Kind::Sum => "gauge",
        };
        let _ = writeln!(
            out,
            "# HELP {name} {}\n# TYPE {name} {kind}",
            instrument.description()
        );
        for (_, key, value) in series {
            let labels = key.as_slice();
            match value {
                Value::Sum(sum) => {
                    let _ = writeln!(
                        out,
                        "{name}{} {}",
                        label_text(labels, None),
                        sum.normalize()
                    );
                }
                Value::Histogram {
                    buckets,
                    count,
                    sum,
                } => {
                    let mut cumulative = 0;
                    for (bucket, bound) in buckets.iter().zip(
                        metrics.bounds[instrument as usize]
                            .iter()
                            .map(|b| b.normalize().to_string())
                            .chain(["+Inf".to_string()]),
                    ) {
                        cumulative += bucket;
                        let _ = writeln!(
                            out,
                            "{name}_bucket{} {cumulative}",
                            label_text(labels, Some(&bound))
                        );
                    }
                    let _ = writeln!(
                        out,
                        "{name}_sum{} {}",
                        label_text(labels, None),
                        sum.normalize()
                    );
                    let _ = writeln!(out, "{name}_count{} {count}", label_text(labels, None));
                }
            }
        }
    }
    out
}

fn label_text(labels: &[(String, String)], le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(key, value)| format!("{}=\"{}\"", prometheus_label(key), escaped(value)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// Serves `/metrics` with the derived metrics until `shutdown` completes.
pub async fn serve_prometheus(
    listener: TcpListener,
    metrics: Arc<DerivedMetrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    render(&metrics),
                )
            }
        }),
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
