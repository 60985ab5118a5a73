//! OTLP/HTTP as curl sends it: JSON and protobuf bodies, gzip, the answers in the request's
//! encoding, and the error statuses for bad input and a full queue. Also the health endpoints.

mod common;

use common::*;
use flate2::write::GzEncoder;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use std::io::Write;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

struct CurlResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl CurlResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Runs curl with `args`, sending `body` (if any) from a file, and returns the response.
async fn curl(args: Vec<String>, body: Option<Vec<u8>>) -> CurlResponse {
    tokio::task::spawn_blocking(move || {
        let directory = std::env::temp_dir().join(format!(
            "genai-cost-agent-curl-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&directory).unwrap();
        let headers_file = directory.join("headers");
        let body_file = directory.join("body");
        let mut command = Command::new("curl");
        command
            .args(["-sS", "--max-time", "20", "-D"])
            .arg(&headers_file)
            .arg("-o")
            .arg(&body_file);
        if let Some(body) = body {
            let request_file = directory.join("request");
            std::fs::write(&request_file, body).unwrap();
            command
                .arg("--data-binary")
                .arg(format!("@{}", request_file.display()));
        }
        let output = command.args(&args).output().expect("curl runs");
        assert!(
            output.status.success(),
            "curl failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let head = std::fs::read_to_string(&headers_file).unwrap();
        let body = std::fs::read(&body_file).unwrap_or_default();
        std::fs::remove_dir_all(&directory).ok();
        // Interim answers (100 Continue) come first; the final one is the last block.
        let last_block = head
            .rfind("HTTP/")
            .map_or(head.as_str(), |start| &head[start..]);
        let mut lines = last_block.lines();
        let status = lines
            .next()
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
            .collect();
        CurlResponse {
            status,
            headers,
            body,
        }
    })
    .await
    .unwrap()
}

async fn post(
    address: SocketAddr,
    path: &str,
    content_type: &str,
    extra: &[&str],
    body: Vec<u8>,
) -> CurlResponse {
    let mut args = vec![
        "-X".to_string(),
        "POST".to_string(),
        "-H".to_string(),
        format!("Content-Type: {content_type}"),
    ];
    for header in extra {
        args.push("-H".into());
        args.push(header.to_string());
    }
    args.push(format!("http://{address}{path}"));
    curl(args, Some(body)).await
}

const TRACE_JSON: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-app"}}]},
 "scopeSpans":[{"scope":{"name":"manual"},"spans":[
  {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"chat","kind":3,
   "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":1700000001000000000,
   "attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"claude-sonnet-4-6"}},
     {"key":"gen_ai.usage.input_tokens","value":{"intValue":"23000"}},
     {"key":"gen_ai.usage.output_tokens","value":{"intValue":1500}},
     {"key":"gen_ai.usage.cache_read.input_tokens","value":{"intValue":"8000"}},
     {"key":"gen_ai.usage.cache_creation.input_tokens","value":{"intValue":10000}}],
   "status":{"code":2,"message":"overloaded"}}]}]}]}"#;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn assert_json_span_arrived(captured: &Captured) {
    let spans = captured.spans();
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    assert_eq!(span.trace_id, hex_bytes("5b8efff798038103d269b633813fc60c"));
    assert_eq!(span.span_id, hex_bytes("eee19b7ec3c1b174"));
    assert_eq!(
        (
            span.kind,
            span.start_time_unix_nano,
            span.end_time_unix_nano
        ),
        (3, 1_700_000_000_000_000_000, 1_700_000_001_000_000_000)
    );
    assert_eq!(
        span.status
            .as_ref()
            .map(|status| (status.code, status.message.as_str())),
        Some((2, "overloaded"))
    );
    assert_eq!(
        attribute(&span.attributes, "gen_ai.usage.input_tokens"),
        Some(&Value::IntValue(23_000))
    );
    assert_worked_example_cost(span, "claude-sonnet-4-6@2026-01-01");
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_traces_are_decoded_priced_and_answered_in_json() {
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(backend, &[]).await;
    let response = post(
        agent.http_address().unwrap(),
        "/v1/traces",
        "application/json",
        &[],
        TRACE_JSON.into(),
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.text(), "{}");
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() == 1).await);
    assert_json_span_arrived(&captured);
    assert!(agent.shutdown().await);
}

/// Doubles as Python prints them (`repr`, the shortest text that reads back as the same f64;
/// random timings like an instrumentation's `time_to_first_token`).
const PRINTED_DOUBLES: [&str; 40] = [
    "0.03238327648331624",
    "0.3948234964231735",
    "0.07243628666754276",
    "0.36568891691258554",
    "0.09097040631431022",
    "3.749565844198488e-05",
    "0.041817215137075946",
    "9.071301334386506e-05",
    "0.059110506078989156",
    "0.9474497007074875",
    "0.0005771029486174987",
    "0.0049589313389771465",
    "0.004658268061775628",
    "0.028960928633167626",
    "0.005406858855321424",
    "0.05602572770128127",
    "0.010305571244359135",
    "0.3723975427257312",
    "0.05643682931333867",
    "0.0004964144951134918",
    "0.000777228774980807",
    "0.0005855618635076387",
    "0.036158235594456634",
    "0.07943794815224911",
    "0.0008185501079576985",
    "0.005251965038114514",
    "0.007294452894392176",
    "0.6089590190364036",
    "0.00011806577825496212",
    "0.0016496210364357322",
    "0.00015198453466050475",
    "0.4216983544767443",
    "0.007645708662128131",
    "0.003401223621911955",
    "0.0005943698771050185",
    "0.06876294940686056",
    "0.0009446810951079374",
    "0.6970420678269282",
    "0.0006066942759721972",
    "0.0006471288545276687",
];

/// A double in OTLP/JSON reaches the backend as the very number written: its text is read with
/// correct rounding (as `str::parse` reads it), not one ulp off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_doubles_arrive_as_the_numbers_written() {
    let attributes: Vec<String> = PRINTED_DOUBLES
        .iter()
        .enumerate()
        .map(|(index, text)| format!(r#"{{"key":"d{index}","value":{{"doubleValue":{text}}}}}"#))
        .collect();
    let body = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"timed","attributes":[{}]}}]}}]}}]}}"#,
        attributes.join(",")
    );
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(backend, &[]).await;
    let response = post(
        agent.http_address().unwrap(),
        "/v1/traces",
        "application/json",
        &[],
        body.into_bytes(),
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() == 1).await);
    let spans = captured.spans();
    let mismatched: Vec<String> = PRINTED_DOUBLES
        .iter()
        .enumerate()
        .filter_map(|(index, text)| {
            let written: f64 = text.parse().unwrap();
            match attribute(&spans[0].attributes, &format!("d{index}")) {
                Some(Value::DoubleValue(arrived)) if arrived.to_bits() == written.to_bits() => None,
                other => Some(format!("{text} arrived as {other:?}")),
            }
        })
        .collect();
    assert!(mismatched.is_empty(), "{mismatched:#?}");
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_json_body_is_accepted() {
    assert_gzip_json_accepted(gzip(TRACE_JSON.as_bytes())).await;
}

/// Posts the gzip `body` of [`TRACE_JSON`] as JSON and checks its span arrives.
async fn assert_gzip_json_accepted(body: Vec<u8>) {
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(backend, &[]).await;
    let response = post(
        agent.http_address().unwrap(),
        "/v1/traces",
        "application/json",
        &["Content-Encoding: gzip"],
        body,
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() == 1).await);
    assert_json_span_arrived(&captured);
    assert!(agent.shutdown().await);
}

fn protobuf_request() -> ExportTraceServiceRequest {
    let request: ExportTraceServiceRequest = serde_json::from_str(TRACE_JSON).unwrap();
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_body_gets_a_protobuf_answer() {
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(backend, &[]).await;
    let body = protobuf_request().encode_to_vec();
    let response = post(
        agent.http_address().unwrap(),
        "/v1/traces",
        "application/x-protobuf",
        &[],
        body,
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("application/x-protobuf")
    );
    assert_eq!(
        ExportTraceServiceResponse::decode(&response.body[..]).unwrap(),
        ExportTraceServiceResponse::default()
    );
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() == 1).await);
    assert_json_span_arrived(&captured);
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_metrics_and_logs_are_forwarded() {
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(backend, &[]).await;
    let address = agent.http_address().unwrap();
    let metrics = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"requests","sum":{"aggregationTemporality":2,"isMonotonic":true,
        "dataPoints":[{"asInt":"7","timeUnixNano":"1700000000000000000"}]}}]}]}]}"#;
    let logs = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":9,"body":{"stringValue":"hello"},"timeUnixNano":"1700000000000000000"}]}]}]}"#;
    assert_eq!(
        post(
            address,
            "/v1/metrics",
            "application/json",
            &[],
            metrics.into()
        )
        .await
        .status,
        200
    );
    assert_eq!(
        post(
            address,
            "/v1/logs",
            "application/json; charset=utf-8",
            &[],
            logs.into()
        )
        .await
        .status,
        200
    );
    assert!(
        wait_until(Duration::from_secs(10), || !captured
            .metrics
            .lock()
            .unwrap()
            .is_empty()
            && !captured.logs.lock().unwrap().is_empty())
        .await
    );
    assert_eq!(
        captured.metrics.lock().unwrap()[0],
        serde_json::from_str(metrics).unwrap()
    );
    assert_eq!(
        captured.logs.lock().unwrap()[0],
        serde_json::from_str(logs).unwrap()
    );
    assert!(agent.shutdown().await);
}

/// Asserts an error answer: the status, and a JSON `google.rpc.Status` whose message says why.
fn assert_json_error(response: &CurlResponse, status: u16, code: i64, message_part: &str) {
    assert_eq!(response.status, status, "{}", response.text());
    let body: serde_json::Value = serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("JSON body: {}", response.text()));
    assert_eq!(body["code"], code, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(message_part), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_the_otlp_status_and_a_message() {
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(
        backend,
        &["receivers.otlp.protocols.http.max_request_body_size_mib=1"],
    )
    .await;
    let address = agent.http_address().unwrap();

    let wrong_type = post(address, "/v1/traces", "text/plain", &[], b"hello".to_vec()).await;
    assert_json_error(
        &wrong_type,
        415,
        3,
        "unsupported content type \"text/plain\"",
    );

    let bad_json = post(
        address,
        "/v1/traces",
        "application/json",
        &[],
        br#"{"resourceSpans": 5}"#.to_vec(),
    )
    .await;
    assert_json_error(&bad_json, 400, 3, "the body is not valid OTLP JSON");

    let bad_hex = TRACE_JSON.replace("eee19b7ec3c1b174", "not-hex");
    assert_json_error(
        &post(
            address,
            "/v1/traces",
            "application/json",
            &[],
            bad_hex.into(),
        )
        .await,
        400,
        3,
        "not valid OTLP JSON",
    );

    // Hex that decodes, to ids of the wrong length: refused whole, naming the field.
    let short_span_id = TRACE_JSON.replace("eee19b7ec3c1b174", "eee19b");
    assert_json_error(
        &post(
            address,
            "/v1/traces",
            "application/json",
            &[],
            short_span_id.into(),
        )
        .await,
        400,
        3,
        "resource_spans[0].scope_spans[0].spans[0].span_id: 3 bytes, must be 8",
    );
    let long_trace_id = TRACE_JSON.replace(
        "5b8efff798038103d269b633813fc60c",
        "5b8efff798038103d269b633813fc60c00",
    );
    assert_json_error(
        &post(
            address,
            "/v1/traces",
            "application/json",
            &[],
            long_trace_id.into(),
        )
        .await,
        400,
        3,
        "spans[0].trace_id: 17 bytes, must be 16",
    );

    let bad_protobuf = post(
        address,
        "/v1/traces",
        "application/x-protobuf",
        &[],
        vec![0xff, 0xff, 0xff],
    )
    .await;
    assert_eq!(bad_protobuf.status, 400);
    assert_eq!(
        bad_protobuf.header("content-type"),
        Some("application/x-protobuf")
    );

    let bad_gzip = post(
        address,
        "/v1/traces",
        "application/json",
        &["Content-Encoding: gzip"],
        b"not gzip".to_vec(),
    )
    .await;
    assert_json_error(&bad_gzip, 400, 3, "not valid gzip");

    let unknown_coding = post(
        address,
        "/v1/traces",
        "application/json",
        &["Content-Encoding: br"],
        b"{}".to_vec(),
    )
    .await;
    assert_json_error(&unknown_coding, 415, 3, "unsupported content encoding `br`");

    let oversize = vec![b' '; 2 << 20];
    assert_json_error(
        &post(address, "/v1/traces", "application/json", &[], oversize).await,
        413,
        8,
        "exceeds the limit of 1048576 bytes",
    );

    // Small on the wire, too large once inflated.
    let bomb = gzip(&vec![b' '; 3 << 20]);
    assert_json_error(
        &post(
            address,
            "/v1/traces",
            "application/json",
            &["Content-Encoding: gzip"],
            bomb,
        )
        .await,
        413,
        8,
        "exceeds the limit",
    );

    let get = curl(vec![format!("http://{address}/v1/traces")], None).await;
    assert_eq!(get.status, 405);

    // The agent still serves good requests afterwards.
    assert_eq!(
        post(
            address,
            "/v1/traces",
            "application/json",
            &[],
            TRACE_JSON.into()
        )
        .await
        .status,
        200
    );
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() == 1).await);
    assert!(agent.shutdown().await);
}

fn one_span_request(name: &str) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    name: name.into(),
                    ..numbered_span(1)
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_answers_retryable_statuses() {
    // A backend that accepts connections and never answers: the first batch stays in flight.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_address = silent.local_addr().unwrap();
    let agent = start_agent(
        silent_address,
        &[
            "exporters.otlp.sending_queue.queue_size=1",
            "exporters.otlp.batch.send_batch_size=1",
            "exporters.otlp.timeout=30s",
            "service.shutdown_timeout=1s",
        ],
    )
    .await;
    let address = agent.http_address().unwrap();
    let first = post(
        address,
        "/v1/traces",
        "application/x-protobuf",
        &[],
        one_span_request("first").encode_to_vec(),
    )
    .await;
    assert_eq!(first.status, 200);

    let refused = post(
        address,
        "/v1/traces",
        "application/json",
        &[],
        TRACE_JSON.into(),
    )
    .await;
    assert_json_error(&refused, 503, 14, "export queue is full");
    assert_eq!(refused.header("retry-after"), Some("1"));

    let mut client =
        TraceServiceClient::connect(format!("http://{}", agent.grpc_address().unwrap()))
            .await
            .unwrap();
    let status = client.export(one_span_request("third")).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable);

    let counters = agent.counters();
    assert_eq!(
        counters.accepted_total(genai_cost_agent::otlp::Signal::Traces),
        1
    );
    assert_eq!(
        counters.refused_total(genai_cost_agent::otlp::Signal::Traces),
        2
    );
    // The stuck batch cannot be delivered: shutdown reports it.
    assert!(!agent.shutdown().await);
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_endpoints_answer() {
    let (backend, _captured) = start_capture_backend().await;
    let agent = start_agent(backend, &[]).await;
    let telemetry = agent.telemetry_address();
    let response = post(
        agent.http_address().unwrap(),
        "/v1/traces",
        "application/json",
        &[],
        TRACE_JSON.into(),
    )
    .await;
    assert_eq!(response.status, 200);
    assert!(
        wait_until(Duration::from_secs(10), || agent
            .counters()
            .sent_total(genai_cost_agent::otlp::Signal::Traces)
            == 1)
        .await
    );

    assert_eq!(
        curl(vec![format!("http://{telemetry}/healthz")], None)
            .await
            .status,
        200
    );
    assert_eq!(
        curl(vec![format!("http://{telemetry}/readyz")], None)
            .await
            .status,
        200
    );
    let metrics = curl(vec![format!("http://{telemetry}/metrics")], None).await;
    assert_eq!(metrics.status, 200);
    let text = metrics.text();
    for line in [
        "genai_cost_agent_receiver_accepted_spans_total 1",
        "genai_cost_agent_spans_priced_total 1",
        "genai_cost_agent_exporter_sent_spans_total{exporter=\"otlp\"} 1",
        "genai_cost_agent_exporter_queue_capacity{exporter=\"otlp\"} 100000",
        "genai_cost_agent_receiver_refused_spans_total 0",
        "genai_cost_agent_spans_unpriced_total{reason=\"unknown_model\"} 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zstd_json_body_is_accepted() {
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(backend, &[]).await;
    let body = zstd::bulk::compress(TRACE_JSON.as_bytes(), 3).unwrap();
    let response = post(
        agent.http_address().unwrap(),
        "/v1/traces",
        "application/json",
        &["Content-Encoding: zstd"],
        body,
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() == 1).await);
    assert_json_span_arrived(&captured);
    let bad = post(
        agent.http_address().unwrap(),
        "/v1/traces",
        "application/json",
        &["Content-Encoding: zstd"],
        b"not zstd".to_vec(),
    )
    .await;
    assert_json_error(&bad, 400, 3, "not valid zstd");
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_member_gzip_body_is_read_whole() {
    let (first, second) = TRACE_JSON.split_at(TRACE_JSON.len() / 2);
    assert_gzip_json_accepted([gzip(first.as_bytes()), gzip(second.as_bytes())].concat()).await;
}
