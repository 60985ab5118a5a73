//! The OTLP/gRPC receiver's limits: gzip-compressed requests are accepted, requests over the
//! configured maximum size are refused without harming the next request.

mod common;

use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use std::time::Duration;
use tonic::codec::CompressionEncoding;

fn request_with_padding(padding_bytes: usize) -> ExportTraceServiceRequest {
    let span = Span {
        name: "padded".into(),
        span_id: vec![1; 8],
        trace_id: vec![2; 16],
        attributes: vec![KeyValue {
            key: "padding".into(),
            value: Some(AnyValue {
                value: Some(Value::StringValue("x".repeat(padding_bytes))),
            }),
            ..Default::default()
        }],
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![span],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_requests_are_accepted_and_oversize_ones_refused() {
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(
        backend,
        &["receivers.otlp.protocols.grpc.max_recv_msg_size_mib=1"],
    )
    .await;
    let endpoint = format!("http://{}", agent.grpc_address().unwrap());
    let mut client = TraceServiceClient::connect(endpoint)
        .await
        .unwrap()
        .send_compressed(CompressionEncoding::Gzip);

    // 2 MiB of padding compresses to a few KiB but exceeds the 1 MiB limit once decoded.
    let status = client
        .export(request_with_padding(2 << 20))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    assert!(
        status
            .message()
            .contains("size limit, of 1048576 bytes, exceeded"),
        "{status:?}"
    );

    let mut plain_client =
        TraceServiceClient::connect(format!("http://{}", agent.grpc_address().unwrap()))
            .await
            .unwrap();
    let status = plain_client
        .export(request_with_padding(2 << 20))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");

    client.export(request_with_padding(100_000)).await.unwrap();
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() == 1).await);
    assert_eq!(
        captured.spans()[0],
        request_with_padding(100_000).resource_spans[0].scope_spans[0].spans[0]
    );
    assert!(agent.shutdown().await);
}
