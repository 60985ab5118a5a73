//! End to end with a real client: the Rust OpenTelemetry SDK exports over gRPC and HTTP to the
//! agent running in-process; a capture backend receives what the agent forwards.

mod common;

use common::*;
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue as ProtoKeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

enum Transport {
    Grpc,
    Http,
}

fn tracer_provider(agent: &genai_cost_agent::Agent, transport: Transport) -> SdkTracerProvider {
    let exporter = match transport {
        Transport::Grpc => SpanExporter::builder()
            .with_tonic()
            .with_endpoint(format!("http://{}", agent.grpc_address().unwrap()))
            .build(),
        Transport::Http => SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!(
                "http://{}/v1/traces",
                agent.http_address().unwrap()
            ))
            .build(),
    }
    .unwrap();
    let batching = BatchConfigBuilder::default()
        .with_max_queue_size(20_000)
        .with_max_export_batch_size(512)
        .with_scheduled_delay(Duration::from_millis(50))
        .build();
    SdkTracerProvider::builder()
        .with_span_processor(
            BatchSpanProcessor::builder(exporter)
                .with_batch_config(batching)
                .build(),
        )
        .with_resource(Resource::builder().with_service_name("chat-app").build())
        .build()
}

fn llm_attributes() -> Vec<KeyValue> {
    vec![
        KeyValue::new("gen_ai.operation.name", "chat"),
        KeyValue::new("gen_ai.provider.name", "anthropic"),
        KeyValue::new("gen_ai.request.model", "claude-sonnet-4-6"),
        KeyValue::new("gen_ai.usage.input_tokens", 23_000i64),
        KeyValue::new("gen_ai.usage.output_tokens", 1_500i64),
        KeyValue::new("gen_ai.usage.cache_read.input_tokens", 8_000i64),
        KeyValue::new("gen_ai.usage.cache_creation.input_tokens", 10_000i64),
    ]
}

fn plain_attributes() -> Vec<KeyValue> {
    vec![
        KeyValue::new("http.request.method", "POST"),
        KeyValue::new("http.route", "/chat"),
        KeyValue::new("http.response.status_code", 200i64),
        KeyValue::new("user.id", "u-42"),
    ]
}

/// The proto form of SDK attributes, for comparing with what arrives.
fn as_proto(attributes: &[KeyValue]) -> Vec<ProtoKeyValue> {
    attributes
        .iter()
        .map(|kv| {
            let value = match &kv.value {
                opentelemetry::Value::I64(number) => any_value::Value::IntValue(*number),
                opentelemetry::Value::String(text) => {
                    any_value::Value::StringValue(text.to_string())
                }
                other => panic!("unexpected attribute type {other:?}"),
            };
            ProtoKeyValue {
                key: kv.key.to_string(),
                value: Some(AnyValue { value: Some(value) }),
                ..Default::default()
            }
        })
        .collect()
}

async fn flush(provider: &SdkTracerProvider) {
    let provider = provider.clone();
    tokio::task::spawn_blocking(move || provider.force_flush().unwrap())
        .await
        .unwrap();
}

async fn llm_and_plain_span_round_trip(transport: Transport) {
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(backend, &[]).await;
    let provider = tracer_provider(&agent, transport);
    let tracer = provider.tracer("e2e");
    let mut llm = tracer.start("chat claude-sonnet-4-6");
    llm.set_attributes(llm_attributes());
    llm.end();
    let mut plain = tracer.start("POST /chat");
    plain.set_attributes(plain_attributes());
    plain.end();
    flush(&provider).await;

    assert!(
        wait_until(Duration::from_secs(10), || captured.span_count() >= 2).await,
        "spans did not arrive"
    );
    let spans = captured.spans();
    assert_eq!(spans.len(), 2);
    let llm = spans
        .iter()
        .find(|span| span.name == "chat claude-sonnet-4-6")
        .unwrap();
    let sent = as_proto(&llm_attributes());
    assert_eq!(
        &llm.attributes[..sent.len()],
        &sent[..],
        "the app's own attributes are kept as they were"
    );
    assert_eq!(llm.attributes.len(), sent.len() + 12);
    assert_worked_example_cost(llm, "claude-sonnet-4-6@2026-03-13");
    let plain = spans.iter().find(|span| span.name == "POST /chat").unwrap();
    assert_eq!(
        plain.attributes,
        as_proto(&plain_attributes()),
        "a plain span arrives unchanged"
    );

    let resource = captured.traces.lock().unwrap()[0].resource_spans[0]
        .resource
        .clone()
        .unwrap();
    assert_eq!(
        attribute(&resource.attributes, "service.name"),
        Some(&any_value::Value::StringValue("chat-app".into()))
    );
    assert_eq!(agent.counters().priced_total(), 1);
    let _ = provider.shutdown();
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_spans_over_grpc_are_priced_and_plain_spans_pass_unchanged() {
    llm_and_plain_span_round_trip(Transport::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_spans_over_http_are_priced_and_plain_spans_pass_unchanged() {
    llm_and_plain_span_round_trip(Transport::Http).await;
}

async fn ten_thousand_spans_arrive_exactly_once(transport: Transport) {
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(backend, &[]).await;
    let provider = tracer_provider(&agent, transport);
    let tracer = provider.tracer("e2e");
    let mut sent_ids = HashSet::new();
    for index in 0..10_000u32 {
        let mut span = tracer.start(format!("span {index}"));
        if index % 5 == 0 {
            span.set_attributes(llm_attributes());
        } else {
            span.set_attributes(plain_attributes());
        }
        sent_ids.insert(span.span_context().span_id().to_bytes().to_vec());
        span.end();
        if index % 2_000 == 1_999 {
            flush(&provider).await;
        }
    }
    flush(&provider).await;
    assert!(
        wait_until(Duration::from_secs(30), || captured.span_count() >= 10_000).await,
        "only {} spans arrived",
        captured.span_count()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;

    let spans = captured.spans();
    assert_eq!(spans.len(), 10_000, "every span exactly once");
    let received_ids: HashSet<Vec<u8>> = spans.iter().map(|span| span.span_id.clone()).collect();
    assert_eq!(received_ids, sent_ids);
    let priced: Vec<_> = spans
        .iter()
        .filter(|span| attribute(&span.attributes, "gen_ai.usage.cost.amount").is_some())
        .collect();
    assert_eq!(priced.len(), 2_000);
    priced
        .iter()
        .for_each(|span| assert_worked_example_cost(span, "claude-sonnet-4-6@2026-03-13"));
    assert_eq!(agent.counters().priced_total(), 2_000);
    let _ = provider.shutdown();
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_sdk_spans_over_grpc_arrive_exactly_once() {
    ten_thousand_spans_arrive_exactly_once(Transport::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_sdk_spans_over_http_arrive_exactly_once() {
    ten_thousand_spans_arrive_exactly_once(Transport::Http).await;
}

fn string_kv(key: &str, value: &str) -> ProtoKeyValue {
    ProtoKeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn metrics_request() -> ExportMetricsServiceRequest {
    let point = |value: i64| NumberDataPoint {
        attributes: vec![string_kv("gen_ai.request.model", "gpt-4o")],
        time_unix_nano: 1_700_000_000_000_000_000,
        value: Some(
            opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsInt(value),
        ),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(ProtoResource {
                attributes: vec![string_kv("service.name", "chat-app")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    Metric {
                        name: "queue.depth".into(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: vec![point(3)],
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "requests".into(),
                        data: Some(metric::Data::Sum(Sum {
                            data_points: vec![point(7), point(9)],
                            aggregation_temporality: 2,
                            is_monotonic: true,
                        })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn logs_request() -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(ProtoResource {
                attributes: vec![string_kv("service.name", "chat-app")],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: 1_700_000_000_000_000_000,
                    severity_number: 9,
                    severity_text: "INFO".into(),
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("model answered".into())),
                    }),
                    attributes: vec![string_kv("gen_ai.usage.input_tokens", "12")],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_logs_pass_through_unchanged() {
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(backend, &[]).await;
    let endpoint = format!("http://{}", agent.grpc_address().unwrap());
    MetricsServiceClient::connect(endpoint.clone())
        .await
        .unwrap()
        .export(metrics_request())
        .await
        .unwrap();
    LogsServiceClient::connect(endpoint)
        .await
        .unwrap()
        .export(logs_request())
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || {
            !captured.metrics.lock().unwrap().is_empty()
                && !captured.logs.lock().unwrap().is_empty()
        })
        .await
    );
    assert_eq!(*captured.metrics.lock().unwrap(), vec![metrics_request()]);
    assert_eq!(*captured.logs.lock().unwrap(), vec![logs_request()]);
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_flushes_what_is_still_batched() {
    let (backend, captured) = start_capture_backend().await;
    // A batch that would wait a minute: only the shutdown flush can deliver it in time.
    let agent = start_agent(backend, &["exporters.otlp.batch.timeout=60s"]).await;
    let endpoint = format!("http://{}", agent.grpc_address().unwrap());
    LogsServiceClient::connect(endpoint)
        .await
        .unwrap()
        .export(logs_request())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(captured.logs.lock().unwrap().is_empty(), "still batched");
    assert!(agent.shutdown().await);
    assert_eq!(*captured.logs.lock().unwrap(), vec![logs_request()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_exports_over_http_protobuf_too() {
    let (backend, captured) = start_capture_backend().await;
    // The capture backend speaks gRPC only; start a second agent as an HTTP backend in front of it.
    let relay = start_agent(backend, &[]).await;
    let relay_http: SocketAddr = relay.http_address().unwrap();
    let agent = genai_cost_agent::Agent::start(&test_config(
        &format!("http://{relay_http}"),
        "http/protobuf",
        &[],
    ))
    .await
    .unwrap();
    let endpoint = format!("http://{}", agent.grpc_address().unwrap());
    LogsServiceClient::connect(endpoint)
        .await
        .unwrap()
        .export(logs_request())
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || !captured
            .logs
            .lock()
            .unwrap()
            .is_empty())
        .await
    );
    assert_eq!(*captured.logs.lock().unwrap(), vec![logs_request()]);
    assert!(agent.shutdown().await);
    assert!(relay.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_exports_with_zstd_over_grpc_and_http() {
    let (backend, captured) = start_capture_backend().await;
    // A second agent receives (zstd accepted on both protocols) and relays to the capture backend.
    let relay = start_agent(backend, &[]).await;
    for (endpoint, protocol) in [
        (relay.grpc_address().unwrap(), "grpc"),
        (relay.http_address().unwrap(), "http/protobuf"),
    ] {
        let agent = genai_cost_agent::Agent::start(&test_config(
            &format!("http://{endpoint}"),
            protocol,
            &["exporters.otlp.compression=zstd"],
        ))
        .await
        .unwrap();
        let before = captured.logs.lock().unwrap().len();
        LogsServiceClient::connect(format!("http://{}", agent.grpc_address().unwrap()))
            .await
            .unwrap()
            .export(logs_request())
            .await
            .unwrap();
        assert!(
            wait_until(Duration::from_secs(10), || captured
                .logs
                .lock()
                .unwrap()
                .len()
                == before + 1)
            .await,
            "{protocol}"
        );
        assert_eq!(
            captured.logs.lock().unwrap()[before],
            logs_request(),
            "{protocol}"
        );
        assert_eq!(
            agent
                .counters()
                .send_failed_total(genai_cost_agent::otlp::Signal::Logs),
            0
        );
        assert!(agent.shutdown().await);
    }
    assert!(relay.shutdown().await);
}
