//! Shared pieces of the end-to-end tests: a capture backend (an OTLP server, gRPC or HTTP, that
//! records what it receives), the agent started in-process on ephemeral ports, and numbered spans
//! to send it.

#![allow(dead_code)]

pub mod binary;
pub mod browser;
pub mod certificates;
pub mod raw_h2;

use genai_cost_agent::config::{load_str, LoadedConfig};
use genai_cost_agent::Agent;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

/// Everything a capture backend received, in arrival order.
#[derive(Default)]
pub struct Captured {
    pub traces: Mutex<Vec<ExportTraceServiceRequest>>,
    pub metrics: Mutex<Vec<ExportMetricsServiceRequest>>,
    pub logs: Mutex<Vec<ExportLogsServiceRequest>>,
    /// The headers (gRPC metadata) of every request, with its signal: `traces`, `metrics`, `logs`.
    pub headers: Mutex<Vec<(&'static str, http::HeaderMap)>>,
}

impl Captured {
    /// Every span received, with its resource's `service.name`.
    pub fn spans(&self) -> Vec<Span> {
        self.traces
            .lock()
            .unwrap()
            .iter()
            .flat_map(|request| &request.resource_spans)
            .flat_map(|resource| &resource.scope_spans)
            .flat_map(|scope| scope.spans.clone())
            .collect()
    }

    pub fn span_count(&self) -> usize {
        self.traces
            .lock()
            .unwrap()
            .iter()
            .flat_map(|request| &request.resource_spans)
            .flat_map(|resource| &resource.scope_spans)
            .map(|scope| scope.spans.len())
            .sum()
    }
}

/// Stores what it receives and answers after an optional delay (a slow backend).
#[derive(Clone)]
struct CaptureService(Arc<Captured>, Duration);

/// The three services differ only in their types and the list a request lands in.
macro_rules! capture {
    ($service:ident, $request:ty, $response:ty, $list:ident) => {
        #[tonic::async_trait]
        impl $service for CaptureService {
            async fn export(
                &self,
                request: Request<$request>,
            ) -> Result<Response<$response>, Status> {
                let headers = request.metadata().clone().into_headers();
                self.0
                    .headers
                    .lock()
                    .unwrap()
                    .push((stringify!($list), headers));
                self.0.$list.lock().unwrap().push(request.into_inner());
                // Slow to answer, not to store: a sender that gives up (or dies) before the
                // answer has still delivered.
                tokio::time::sleep(self.1).await;
                Ok(Response::new(Default::default()))
            }
        }
    };
}

capture!(
    TraceService,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
    traces
);
capture!(
    MetricsService,
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
    metrics
);
capture!(
    LogsService,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
    logs
);

/// The capture backend's gRPC services, for a server the caller builds (with TLS, say).
pub fn capture_routes(captured: &Arc<Captured>) -> tonic::service::Routes {
    slow_capture_routes(captured, Duration::ZERO)
}

/// Like [`capture_routes`], answering each export only after `delay`. A gzipped export is
/// answered gzipped, as grpc-go answers in the request's encoding.
fn slow_capture_routes(captured: &Arc<Captured>, delay: Duration) -> tonic::service::Routes {
    let service = CaptureService(captured.clone(), delay);
    tonic::service::Routes::new(
        TraceServiceServer::new(service.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip),
    )
    .add_service(
        MetricsServiceServer::new(service.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip),
    )
    .add_service(
        LogsServiceServer::new(service)
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip),
    )
}

/// Starts a capture backend on 127.0.0.1 port 0; returns its address and what it receives.
pub async fn start_capture_backend() -> (SocketAddr, Arc<Captured>) {
    start_slow_capture_backend(Duration::ZERO).await
}

/// A capture backend that stores each export at once but answers only after `delay`.
pub async fn start_slow_capture_backend(delay: Duration) -> (SocketAddr, Arc<Captured>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    start_capture_backend_on(listener, delay)
}

/// A port on 127.0.0.1 held for a backend that is down: bound but not listening, so connections
/// to it are refused and no other socket can take it; `listen` on the socket brings it up.
pub fn reserve_down_port() -> (SocketAddr, tokio::net::TcpSocket) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    (socket.local_addr().unwrap(), socket)
}

/// A capture backend on `listener` (e.g. a port chosen before the backend comes up).
pub fn start_capture_backend_on(
    listener: TcpListener,
    delay: Duration,
) -> (SocketAddr, Arc<Captured>) {
    let address = listener.local_addr().unwrap();
    let captured = Arc::new(Captured::default());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_routes(slow_capture_routes(&captured, delay))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    (address, captured)
}

/// The capture backend as OTLP/HTTP with protobuf bodies (gzip or not), for a server the caller
/// runs.
pub fn capture_http_app(captured: &Arc<Captured>) -> axum::Router {
    axum::Router::new()
        .route("/v1/traces", record(captured, "traces", |all| &all.traces))
        .route(
            "/v1/metrics",
            record(captured, "metrics", |all| &all.metrics),
        )
        .route("/v1/logs", record(captured, "logs", |all| &all.logs))
}

/// `POST`: decode the body as `M` and add it to `list`, its headers to `headers` with `signal`;
/// an undecodable body gets 400.
fn record<M: prost::Message + Default + 'static>(
    captured: &Arc<Captured>,
    signal: &'static str,
    list: fn(&Captured) -> &Mutex<Vec<M>>,
) -> axum::routing::MethodRouter {
    let captured = captured.clone();
    axum::routing::post(
        move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
            let gzip = headers
                .get(axum::http::header::CONTENT_ENCODING)
                .is_some_and(|encoding| encoding == "gzip");
            let mut bytes = Vec::new();
            if gzip {
                std::io::Read::read_to_end(
                    &mut flate2::read::GzDecoder::new(&body[..]),
                    &mut bytes,
                )
                .map_err(|_| axum::http::StatusCode::BAD_REQUEST)?;
            } else {
                bytes.extend_from_slice(&body);
            }
            let message =
                M::decode(bytes.as_slice()).map_err(|_| axum::http::StatusCode::BAD_REQUEST)?;
            list(&captured).lock().unwrap().push(message);
            captured.headers.lock().unwrap().push((signal, headers));
            Ok::<_, axum::http::StatusCode>([(
                axum::http::header::CONTENT_TYPE,
                "application/x-protobuf",
            )])
        },
    )
}

/// The tests price with the built-in catalog.
pub const TEST_PRICING: &str = "";

/// A configuration on ephemeral loopback ports exporting to `backend` over `protocol`.
pub fn test_config(backend: &str, protocol: &str, extra_overrides: &[&str]) -> LoadedConfig {
    test_config_with_env(backend, protocol, extra_overrides, |_| None)
}

/// `test_config` with the environment variables `env` looks up.
pub fn test_config_with_env(
    backend: &str,
    protocol: &str,
    extra_overrides: &[&str],
    env: impl Fn(&str) -> Option<String>,
) -> LoadedConfig {
    let mut overrides: Vec<String> = vec![
        "receivers.otlp.protocols.grpc.endpoint=127.0.0.1:0".into(),
        "receivers.otlp.protocols.http.endpoint=127.0.0.1:0".into(),
        "service.telemetry.endpoint=127.0.0.1:0".into(),
        format!("exporters.otlp.endpoint={backend}"),
        format!("exporters.otlp.protocol={protocol}"),
        "exporters.otlp.batch.timeout=20ms".into(),
        "service.shutdown_timeout=5s".into(),
    ];
    overrides.extend(extra_overrides.iter().map(|o| o.to_string()));
    load_str(TEST_PRICING, &overrides, env).unwrap()
}

/// A request of `count` spans of one trace, numbered from `first_id`: span `n` has the id `n`
/// (8 bytes, big-endian) and the name `span n`.
pub fn trace_request(first_id: u64, count: u64) -> ExportTraceServiceRequest {
    traces_request((first_id..first_id + count).map(numbered_span).collect())
}

pub fn span_ids(requests: &[ExportTraceServiceRequest]) -> Vec<u64> {
    let mut ids: Vec<u64> = requests
        .iter()
        .flat_map(|request| &request.resource_spans)
        .flat_map(|resource| &resource.scope_spans)
        .flat_map(|scope| &scope.spans)
        .map(span_number)
        .collect();
    ids.sort_unstable();
    ids
}

/// Sends `request` to the agent's OTLP/gRPC receiver.
pub async fn send_traces(agent: &Agent, request: ExportTraceServiceRequest) {
    let mut client =
        TraceServiceClient::connect(format!("http://{}", agent.grpc_address().unwrap()))
            .await
            .unwrap();
    client.export(request).await.unwrap();
}

/// Starts the agent in-process exporting over gRPC to `backend`.
pub async fn start_agent(backend: SocketAddr, extra_overrides: &[&str]) -> Agent {
    Agent::start(&test_config(
        &format!("http://{backend}"),
        "grpc",
        extra_overrides,
    ))
    .await
    .unwrap()
}

/// Waits until `condition` holds, for at most `limit`.
pub async fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    condition()
}

/// The value of attribute `key`, if present.
pub fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

/// Asserts that a span carries exactly the worked example's cost attributes (Sonnet 4.6:
/// 23,000 input of which 8,000 cache read and 10,000 cache write, 1,500 output).
pub fn assert_worked_example_cost(span: &Span, price_id: &str) {
    let expected = [
        ("gen_ai.usage.cost.amount", Value::DoubleValue(0.0774)),
        (
            "gen_ai.usage.cost.currency",
            Value::StringValue("USD".into()),
        ),
        (
            "gen_ai.usage.cost.source",
            Value::StringValue("local".into()),
        ),
        ("gen_ai.usage.cost.input", Value::DoubleValue(0.015)),
        ("gen_ai.usage.cost.output", Value::DoubleValue(0.0225)),
        ("gen_ai.usage.cost.cache_read", Value::DoubleValue(0.0024)),
        (
            "gen_ai.usage.cost.cache_creation",
            Value::DoubleValue(0.0375),
        ),
        (
            "gen_ai.usage.cache.hit_ratio",
            Value::DoubleValue(8000.0 / 23000.0),
        ),
        ("gen_ai.usage.cache.savings", Value::DoubleValue(0.0141)),
        ("gen_ai.usage.cost.tools", Value::DoubleValue(0.0)),
        (
            "gen_ai.usage.cost.price_id",
            Value::StringValue(price_id.into()),
        ),
        (
            "gen_ai.usage.cost.input_semantics",
            Value::StringValue("includes_cache".into()),
        ),
    ];
    for (key, value) in expected {
        assert_eq!(
            attribute(&span.attributes, key),
            Some(&value),
            "{key} on span {}",
            span.name
        );
    }
    assert_eq!(
        attribute(&span.attributes, "gen_ai.usage.cost.unpriced_reason"),
        None
    );
}

#[path = "../../src/test_support.rs"]
mod test_support;
#[allow(unused_imports)] // not every test uses all
pub use test_support::{attr, int, parent_id, text, traces_request, TempDir};

/// A span whose id is `number` (big-endian), named `span <number>`.
pub fn numbered_span(number: u64) -> Span {
    Span {
        trace_id: vec![1; 16],
        span_id: number.to_be_bytes().to_vec(),
        name: format!("span {number}"),
        ..Default::default()
    }
}

/// The number a [`numbered_span`] carries.
pub fn span_number(span: &Span) -> u64 {
    u64::from_be_bytes(span.span_id.as_slice().try_into().unwrap())
}
