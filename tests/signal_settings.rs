//! The standard per-signal variables reach the backend, over gRPC and HTTP: a signal with its own
//! `OTEL_EXPORTER_OTLP_<SIGNAL>_HEADERS` is sent with those headers instead of the general
//! `OTEL_EXPORTER_OTLP_HEADERS`, which the other signals keep.

mod common;

use common::*;
use genai_cost_agent::Agent;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

async fn start_http_capture_backend() -> (SocketAddr, Arc<Captured>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let captured = Arc::new(Captured::default());
    let app = capture_http_app(&captured);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, captured)
}

fn log_request(body: &str) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    body: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                        value: Some(
                            opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                                body.into(),
                            ),
                        ),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn environment(name: &str) -> Option<String> {
    match name {
        "OTEL_EXPORTER_OTLP_HEADERS" => Some("x-tenant=general,x-common=1".into()),
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS" => Some("x-tenant=traces".into()),
        _ => None,
    }
}

/// The values of `x-tenant` and `x-common` the backend saw with each signal.
fn tenant_headers(captured: &Captured) -> Vec<(&'static str, Option<String>, Option<String>)> {
    let value = |headers: &http::HeaderMap, name: &str| {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap().to_string())
    };
    let mut seen: Vec<_> = captured
        .headers
        .lock()
        .unwrap()
        .iter()
        .map(|(signal, headers)| {
            (
                *signal,
                value(headers, "x-tenant"),
                value(headers, "x-common"),
            )
        })
        .collect();
    seen.sort();
    seen
}

async fn each_signal_is_sent_with_its_own_headers(
    backend: SocketAddr,
    captured: Arc<Captured>,
    protocol: &str,
) {
    let config = test_config_with_env(
        &format!("http://{backend}"),
        protocol,
        &["metrics.enabled=false"],
        environment,
    );
    let agent = Agent::start(&config).await.unwrap();
    send_traces(&agent, trace_request(1, 3)).await;
    LogsServiceClient::connect(format!("http://{}", agent.grpc_address().unwrap()))
        .await
        .unwrap()
        .export(log_request("hello"))
        .await
        .unwrap();
    let arrived = wait_until(Duration::from_secs(10), || {
        !captured.traces.lock().unwrap().is_empty() && !captured.logs.lock().unwrap().is_empty()
    })
    .await;
    assert!(arrived, "traces and logs reach the backend");
    assert_eq!(span_ids(&captured.traces.lock().unwrap()), vec![1, 2, 3]);
    assert_eq!(
        tenant_headers(&captured),
        vec![
            ("logs", Some("general".into()), Some("1".into())),
            ("traces", Some("traces".into()), None),
        ]
    );
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_sends_each_signal_with_its_own_headers() {
    let (backend, captured) = start_capture_backend().await;
    each_signal_is_sent_with_its_own_headers(backend, captured, "grpc").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_sends_each_signal_with_its_own_headers() {
    let (backend, captured) = start_http_capture_backend().await;
    each_signal_is_sent_with_its_own_headers(backend, captured, "http/protobuf").await;
}
