//! One client's bad data never costs the others theirs (127.0.0.1 only, bounded in time): a
//! request with ids a backend refuses is refused at the door, requests too large to share a
//! batch go alone, and a batch the backend refuses for good is split until only the request it
//! refuses is dropped — with the queue in memory and on disk.

mod common;

use common::*;
use genai_cost_agent::otlp::Signal;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::{Request, Response, Status};

/// Spans per valid request, and how many valid requests each test sends.
const SPANS: u64 = 10;
const VALID_REQUESTS: u64 = 20;

async fn client(agent: &genai_cost_agent::Agent) -> TraceServiceClient<tonic::transport::Channel> {
    TraceServiceClient::connect(format!("http://{}", agent.grpc_address().unwrap()))
        .await
        .unwrap()
        .max_encoding_message_size(64 << 20)
}

/// The ids of the valid requests, `0..VALID_REQUESTS × SPANS`.
fn valid_ids() -> Vec<u64> {
    (0..VALID_REQUESTS * SPANS).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_with_a_three_byte_span_id_is_refused_and_the_others_delivered() {
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(backend, &["exporters.otlp.batch.timeout=300ms"]).await;
    let mut client = client(&agent).await;
    for request in 0..VALID_REQUESTS {
        client
            .export(trace_request(request * SPANS, SPANS))
            .await
            .unwrap();
        if request == VALID_REQUESTS / 2 {
            let mut bad = trace_request(1_000, 3);
            bad.resource_spans[0].scope_spans[0].spans[2].span_id = vec![1, 2, 3];
            let refused = client.export(bad).await.unwrap_err();
            assert_eq!(refused.code(), tonic::Code::InvalidArgument);
            assert_eq!(
                refused.message(),
                "resource_spans[0].scope_spans[0].spans[2].span_id: 3 bytes, must be 8"
            );
        }
    }
    let total = (VALID_REQUESTS * SPANS) as usize;
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() >= total).await);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(span_ids(&captured.traces.lock().unwrap()), valid_ids());
    assert_eq!(agent.counters().rejected_requests_total(), 1);
    assert_eq!(
        agent.counters().accepted_total(Signal::Traces),
        total as u64
    );
    assert!(agent.shutdown().await);
}

/// A request of one span carrying `bytes` of attribute text.
fn large_request(id: u64, bytes: usize) -> ExportTraceServiceRequest {
    let mut request = trace_request(id, 1);
    request.resource_spans[0].scope_spans[0].spans[0]
        .attributes
        .push(text("payload", &"x".repeat(bytes)));
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_too_large_to_share_a_batch_go_alone_and_nothing_is_dropped() {
    // The capture backend takes tonic's default 4 MiB, like the Collector; the agent's batches
    // stop at 1 MiB by default, and at 3 MiB here. Two 3.5 MiB requests, each under the agent's
    // own 4 MiB limit, among twenty small ones, all within one batch timeout.
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(
        backend,
        &[
            "exporters.otlp.batch.timeout=2s",
            "exporters.otlp.batch.send_batch_size=100000",
            "exporters.otlp.batch.max_size_mib=3",
        ],
    )
    .await;
    let mut client = client(&agent).await;
    let big = [10_000, 10_001];
    for request in 0..VALID_REQUESTS {
        client
            .export(trace_request(request * SPANS, SPANS))
            .await
            .unwrap();
        if request % 10 == 4 {
            let id = big[(request / 10) as usize];
            client.export(large_request(id, 3_500_000)).await.unwrap();
        }
    }
    let total = (VALID_REQUESTS * SPANS + 2) as usize;
    assert!(wait_until(Duration::from_secs(15), || captured.span_count() >= total).await);
    let mut expected = valid_ids();
    expected.extend(big);
    assert_eq!(span_ids(&captured.traces.lock().unwrap()), expected);
    for export in captured.traces.lock().unwrap().iter() {
        let size = prost::Message::encoded_len(export);
        let ids = span_ids(std::slice::from_ref(export));
        if ids.iter().any(|id| big.contains(id)) {
            assert_eq!(ids.len(), 1, "a large request shared its batch");
        } else {
            assert!(size <= 3 << 20, "a batch of {size} bytes");
        }
    }
    assert_eq!(agent.counters().send_failed_total(Signal::Traces), 0);
    assert!(agent.shutdown().await);
}

/// Refuses, as the Collector does a request it cannot decode, every export holding a span
/// named `poison`; stores the others.
#[derive(Clone, Default)]
struct PoisonSensitiveBackend {
    accepted: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    refused: Arc<Mutex<usize>>,
}

#[tonic::async_trait]
impl TraceService for PoisonSensitiveBackend {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let request = request.into_inner();
        let poisoned = request
            .resource_spans
            .iter()
            .flat_map(|resource| &resource.scope_spans)
            .flat_map(|scope| &scope.spans)
            .any(|span| span.name == "poison");
        if poisoned {
            *self.refused.lock().unwrap() += 1;
            return Err(Status::internal(
                "grpc: error unmarshalling request: proto: wrong wireType",
            ));
        }
        self.accepted.lock().unwrap().push(request);
        Ok(Response::new(Default::default()))
    }
}

async fn start_poison_sensitive() -> (SocketAddr, PoisonSensitiveBackend) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let backend = PoisonSensitiveBackend::default();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(
                TraceServiceServer::new(backend.clone())
                    .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
            )
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    (address, backend)
}

/// Sends twenty valid requests and one poisoned one (three spans, one named `poison`) into one
/// batch; checks that exactly the valid spans arrive, once each, and only the poisoned
/// request's spans are dropped.
async fn assert_poisoned_batch_is_isolated(extra: &[&str]) {
    let (backend, sink) = start_poison_sensitive().await;
    let mut overrides = vec![
        "exporters.otlp.batch.timeout=1s",
        "exporters.otlp.batch.send_batch_size=100000",
        "exporters.otlp.retry_on_failure.initial_interval=10ms",
    ];
    overrides.extend_from_slice(extra);
    let agent = start_agent(backend, &overrides).await;
    let mut client = client(&agent).await;
    for request in 0..VALID_REQUESTS {
        if request == 7 {
            let mut poisoned = trace_request(5_000, 3);
            poisoned.resource_spans[0].scope_spans[0].spans[1].name = "poison".into();
            client.export(poisoned).await.unwrap();
        }
        client
            .export(trace_request(request * SPANS, SPANS))
            .await
            .unwrap();
    }
    let counters = agent.counters().clone();
    let settled = || {
        counters.dropped_total(Signal::Traces, "grpc_error") == 3
            && counters.sent_total(Signal::Traces) == VALID_REQUESTS * SPANS
    };
    assert!(
        wait_until(Duration::from_secs(15), settled).await,
        "dropped {}, sent {}",
        counters.dropped_total(Signal::Traces, "grpc_error"),
        counters.sent_total(Signal::Traces)
    );
    let accepted = span_ids(&sink.accepted.lock().unwrap());
    assert_eq!(accepted, valid_ids(), "every valid span exactly once");
    assert_eq!(counters.sent_total(Signal::Traces), VALID_REQUESTS * SPANS);
    assert_eq!(counters.send_failed_total(Signal::Traces), 3);
    // One refusal per split on the way down to the poisoned request, plus its own.
    let refusals = *sink.refused.lock().unwrap();
    let splits = batch_splits(&counters.render_prometheus());
    assert!(splits >= 1, "the batch was split");
    assert_eq!(refusals as u64, splits + 1);
    let unique: HashSet<u64> = accepted.iter().copied().collect();
    assert_eq!(unique.len(), accepted.len());
    assert!(agent.shutdown().await);
}

fn batch_splits(metrics: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix("genai_cost_agent_exporter_batch_splits_total{exporter=\"otlp\"} ")
        })
        .and_then(|value| value.parse().ok())
        .expect("the batch-split counter is on /metrics")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_refused_for_one_poisoned_request_is_split_until_only_that_one_is_dropped() {
    assert_poisoned_batch_is_isolated(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poisoned_batch_from_the_persistent_queue_is_isolated_too() {
    let directory = TempDir::new("isolation-disk");
    let storage = format!("exporters.otlp.sending_queue.storage={}", directory.path());
    assert_poisoned_batch_is_isolated(&[&storage, "exporters.otlp.sending_queue.fsync=never"])
        .await;
}
