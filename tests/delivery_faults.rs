//! Delivery under backend faults (127.0.0.1 only, bounded in time): a backend down at start,
//! one that refuses for a while with RetryInfo or Retry-After, one that rejects for good, and two
//! exporters of which one is dead. Each test checks span identities, not just counts.

mod common;

use common::*;
use genai_cost_agent::otlp::status_with_retry_info;
use genai_cost_agent::otlp::Signal;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::{Request, Response, Status};

/// A trace backend that fails its first calls as scripted, then accepts.
#[derive(Clone, Default)]
struct ScriptedBackend {
    failures: Arc<Mutex<Vec<Status>>>,
    calls: Arc<Mutex<Vec<Instant>>>,
    accepted: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    /// How many spans each accepted call reports as rejected (a partial success), in order.
    partial_rejections: Arc<Mutex<Vec<i64>>>,
}

impl ScriptedBackend {
    /// The ids of the spans accepted so far, sorted.
    fn accepted_ids(&self) -> Vec<u64> {
        span_ids(&self.accepted.lock().unwrap())
    }

    /// Waits (up to `limit`) until `count` spans were accepted; returns their ids, sorted.
    async fn wait_for_spans(&self, count: usize, limit: Duration) -> Vec<u64> {
        assert!(
            wait_until(limit, || self.accepted_ids().len() >= count).await,
            "{} of {count} spans accepted",
            self.accepted_ids().len()
        );
        self.accepted_ids()
    }
}

#[tonic::async_trait]
impl TraceService for ScriptedBackend {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.calls.lock().unwrap().push(Instant::now());
        let failure = {
            let mut failures = self.failures.lock().unwrap();
            (!failures.is_empty()).then(|| failures.remove(0))
        };
        match failure {
            Some(status) => Err(status),
            None => {
                self.accepted.lock().unwrap().push(request.into_inner());
                let rejected = {
                    let mut rejections = self.partial_rejections.lock().unwrap();
                    (!rejections.is_empty()).then(|| rejections.remove(0))
                };
                Ok(Response::new(ExportTraceServiceResponse {
                    partial_success: rejected.map(|rejected_spans| ExportTracePartialSuccess {
                        rejected_spans,
                        error_message: "3 spans too old".into(),
                    }),
                }))
            }
        }
    }
}

async fn serve(backend: ScriptedBackend, listener: tokio::net::TcpListener) {
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(
                TraceServiceServer::new(backend)
                    .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
            )
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
}

async fn start_scripted(failures: Vec<Status>) -> (SocketAddr, ScriptedBackend) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let backend = ScriptedBackend {
        failures: Arc::new(Mutex::new(failures)),
        ..Default::default()
    };
    serve(backend.clone(), listener).await;
    (address, backend)
}

const FAST_RETRIES: [&str; 4] = [
    "exporters.otlp.retry_on_failure.initial_interval=100ms",
    "exporters.otlp.retry_on_failure.max_interval=400ms",
    "exporters.otlp.timeout=2s",
    "metrics.enabled=false",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_down_at_start_gets_every_span_once_it_is_up() {
    let (port, down) = reserve_down_port();
    let agent = start_agent(port, &FAST_RETRIES).await;
    send_traces(&agent, trace_request(1, 50)).await;
    send_traces(&agent, trace_request(51, 50)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let backend = ScriptedBackend::default();
    serve(backend.clone(), down.listen(1024).unwrap()).await;
    assert_eq!(
        backend.wait_for_spans(100, Duration::from_secs(20)).await,
        (1..=100).collect::<Vec<_>>()
    );
    assert!(agent.counters().retried_total(Signal::Traces) > 0);
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_with_retry_info_is_retried_after_the_delay_it_asks_for() {
    let refusal = || {
        status_with_retry_info(
            tonic::Code::Unavailable,
            "busy",
            Duration::from_millis(1500),
        )
    };
    let (address, backend) = start_scripted(vec![refusal(), refusal()]).await;
    let agent = start_agent(address, &FAST_RETRIES).await;
    send_traces(&agent, trace_request(1, 10)).await;
    assert_eq!(
        backend.wait_for_spans(1, Duration::from_secs(20)).await,
        (1..=10).collect::<Vec<_>>()
    );
    let calls = backend.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 3);
    for pair in calls.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(1450),
            "waited {:?}, asked for 1.5 s",
            pair[1] - pair[0]
        );
    }
    assert_eq!(agent.counters().retried_total(Signal::Traces), 20);
    assert!(agent.shutdown().await);
}

/// The answer is read the same whether the batch goes out as its queued buffers (no
/// compression) or compressed by tonic: a partial success drops what the backend rejected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_success_drops_what_was_rejected_with_or_without_compression() {
    for compression in ["none", "gzip"] {
        let (address, backend) = start_scripted(Vec::new()).await;
        backend.partial_rejections.lock().unwrap().push(3);
        let setting = format!("exporters.otlp.compression={compression}");
        let mut overrides = FAST_RETRIES.to_vec();
        overrides.push(&setting);
        let agent = start_agent(address, &overrides).await;
        send_traces(&agent, trace_request(1, 10)).await;
        assert_eq!(
            backend.wait_for_spans(10, Duration::from_secs(10)).await,
            (1..=10).collect::<Vec<_>>(),
            "{compression}"
        );
        assert!(
            wait_until(Duration::from_secs(5), || agent
                .counters()
                .dropped_total(Signal::Traces, "partial_success")
                == 3)
            .await,
            "{compression}"
        );
        assert_eq!(
            agent.counters().sent_total(Signal::Traces),
            7,
            "{compression}"
        );
        assert_eq!(backend.calls.lock().unwrap().len(), 1, "{compression}");
        assert!(agent.shutdown().await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_argument_is_dropped_once_with_its_reason() {
    let (address, backend) = start_scripted(vec![Status::invalid_argument("bad spans")]).await;
    let agent = start_agent(address, &FAST_RETRIES).await;
    send_traces(&agent, trace_request(1, 10)).await;
    assert!(
        wait_until(Duration::from_secs(10), || agent
            .counters()
            .dropped_total(Signal::Traces, "invalid_argument")
            == 10)
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        backend.calls.lock().unwrap().len(),
        1,
        "no retry of a permanent error"
    );
    assert_eq!(agent.counters().retried_total(Signal::Traces), 0);
    send_traces(&agent, trace_request(11, 5)).await;
    assert_eq!(
        backend.wait_for_spans(1, Duration::from_secs(10)).await,
        (11..=15).collect::<Vec<_>>()
    );
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_429_with_retry_after_is_honoured() {
    // An OTLP/HTTP backend: the first POST gets 429 with Retry-After: 1, the next ones 200.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let calls: Arc<Mutex<Vec<(Instant, usize)>>> = Arc::default();
    let seen = calls.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let mut calls = seen.lock().unwrap();
                calls.push((Instant::now(), body.len()));
                let status = if calls.len() == 1 {
                    axum::http::StatusCode::TOO_MANY_REQUESTS
                } else {
                    axum::http::StatusCode::OK
                };
                (status, [("retry-after", "1")])
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut overrides = FAST_RETRIES.to_vec();
    overrides.push("exporters.otlp.compression=none");
    let agent = genai_cost_agent::Agent::start(&test_config(
        &format!("http://{address}"),
        "http/protobuf",
        &overrides,
    ))
    .await
    .unwrap();
    send_traces(&agent, trace_request(1, 10)).await;
    assert!(wait_until(Duration::from_secs(10), || calls.lock().unwrap().len() >= 2).await);
    let calls = calls.lock().unwrap().clone();
    assert!(
        calls[1].0 - calls[0].0 >= Duration::from_millis(950),
        "waited {:?}",
        calls[1].0 - calls[0].0
    );
    assert_eq!(calls[0].1, calls[1].1, "the same batch again");
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_exporter_does_not_stall_a_live_one() {
    // Baseline: the live exporter alone, same load, same process.
    let (live, captured) = start_capture_backend().await;
    let agent = start_agent(live, &["metrics.enabled=false"]).await;
    let alone = deliver_5000_spans(&agent, &captured).await;
    assert!(agent.shutdown().await);

    let (live, captured) = start_capture_backend().await;
    // The dead backend accepts connections and never answers.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_address = dead.local_addr().unwrap();
    let overrides = [
        format!("exporters.otlp/dead.endpoint=http://{dead_address}"),
        "exporters.otlp/dead.timeout=30s".to_string(),
        "exporters.otlp/dead.sending_queue.queue_size=200".to_string(),
        "exporters.otlp/dead.batch.timeout=20ms".to_string(),
        "metrics.enabled=false".to_string(),
        "service.shutdown_timeout=1s".to_string(),
    ];
    let overrides: Vec<&str> = overrides.iter().map(String::as_str).collect();
    let agent = start_agent(live, &overrides).await;
    let beside_dead = deliver_5000_spans(&agent, &captured).await;
    eprintln!(
        "5,000 spans to the live exporter: {alone:?} alone, {beside_dead:?} beside a dead one"
    );
    assert!(
        beside_dead <= alone * 2 + Duration::from_millis(250),
        "the live exporter kept its pace: {beside_dead:?} beside the dead one, {alone:?} alone"
    );
    assert!(
        agent.counters().dropped_total(Signal::Traces, "queue_full") >= 4_000,
        "the dead exporter's overflow is counted"
    );
    assert!(
        !agent.shutdown().await,
        "the dead exporter's queue could not drain"
    );
    drop(dead);
}

/// Sends 50 requests of 100 spans and waits until the capture backend has every one of them;
/// returns how long that took.
async fn deliver_5000_spans(agent: &genai_cost_agent::Agent, captured: &Captured) -> Duration {
    let started = Instant::now();
    for batch in 0..50u64 {
        send_traces(agent, trace_request(batch * 100 + 1, 100)).await;
    }
    assert!(
        wait_until(Duration::from_secs(20), || captured.span_count() == 5_000).await,
        "live got {}",
        captured.span_count()
    );
    let took = started.elapsed();
    let received: HashSet<u64> = captured.spans().iter().map(span_number).collect();
    assert_eq!(received, (1..=5_000).collect());
    took
}
