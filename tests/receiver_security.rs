//! Who may send, end to end (127.0.0.1 only, bounded in time): bearer tokens checked for the
//! OpenTelemetry Python SDK's own exporters over gRPC and HTTP, a token file rotated under load,
//! TLS and mutual TLS with a CA made here, a certificate rotated while clients stay connected,
//! and tokens never written to the log or `/metrics`.

mod common;

use common::binary::{repository_file, start_binary_with};
use common::certificates::{Authority, Certified};
use common::*;
use genai_cost_agent::config::load_str;
use genai_cost_agent::Agent;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "tok-4f9a1c7e2b";

/// Runs the Python SDK's OTLP exporter (`tests/python/otlp_send.py`) with `env`; whether it
/// reported success.
async fn python_export(env: Vec<(&'static str, String)>, first: u64, count: u64) -> bool {
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(repository_file("tests/python/otlp_send.py"))
            .args([first.to_string(), count.to_string()])
            .env_remove("OTEL_EXPORTER_OTLP_HEADERS")
            // requests lets these override the exporter's own CA file (psf/requests#3829).
            .env_remove("REQUESTS_CA_BUNDLE")
            .env_remove("CURL_CA_BUNDLE")
            .envs(env)
            .output()
            .expect("python3 runs (.ci/run installs the SDK)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "otlp_send.py failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(answer["spans"], count);
    answer["result"] == "SUCCESS"
}

/// The SDK's variables for `protocol` (`grpc`, `http/protobuf`) at `endpoint`, with `header`.
fn sdk_env(protocol: &str, endpoint: String, header: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_string()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
    ];
    if let Some(header) = header {
        env.push(("OTEL_EXPORTER_OTLP_HEADERS", header.to_string()));
    }
    env
}

/// The numbers (`span.number`) of every span the backend received, sorted.
fn delivered(captured: &Captured) -> Vec<i64> {
    let mut numbers: Vec<i64> = captured
        .spans()
        .iter()
        .filter_map(|span| match attribute(&span.attributes, "span.number") {
            Some(opentelemetry_proto::tonic::common::v1::any_value::Value::IntValue(n)) => Some(*n),
            _ => None,
        })
        .collect();
    numbers.sort_unstable();
    numbers
}

/// The numbers of the spans the Rust client sent (those without `span.number`), sorted.
fn sent_by_rust(captured: &Captured) -> Vec<u64> {
    let mut numbers: Vec<u64> = captured
        .spans()
        .iter()
        .filter(|span| attribute(&span.attributes, "span.number").is_none())
        .map(span_number)
        .collect();
    numbers.sort_unstable();
    numbers
}

/// The SDK over `protocol`: no token and a wrong one refused, the right one accepted; exactly
/// the accepted spans arrive.
async fn tokens_gate_the_sdk(protocol: &str, endpoint: impl Fn(&Agent) -> String) {
    let (backend, captured) = start_capture_backend().await;
    let token_list = format!("receivers.otlp.auth.bearer_tokens=[{TOKEN}]");
    let agent = start_agent(backend, &[&token_list]).await;
    let right = format!("authorization=Bearer%20{TOKEN}");
    assert!(!python_export(sdk_env(protocol, endpoint(&agent), None), 0, 3).await);
    assert!(
        !python_export(
            sdk_env(
                protocol,
                endpoint(&agent),
                Some("authorization=Bearer%20tok-wrong")
            ),
            10,
            3
        )
        .await
    );
    assert!(python_export(sdk_env(protocol, endpoint(&agent), Some(&right)), 20, 3).await);
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() >= 3).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(delivered(&captured), vec![20, 21, 22]);
    assert_eq!(agent.counters().unauthenticated_requests_total(), 2);
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_over_grpc_needs_the_bearer_token() {
    tokens_gate_the_sdk("grpc", |agent| {
        format!("http://{}", agent.grpc_address().unwrap())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_over_http_needs_the_bearer_token() {
    tokens_gate_the_sdk("http/protobuf", |agent| {
        format!("http://{}", agent.http_address().unwrap())
    })
    .await;
}

/// A gRPC client that sends `authorization: Bearer <token>` (or nothing).
async fn export_with(
    address: SocketAddr,
    token: Option<&str>,
    request: ExportTraceServiceRequest,
) -> Result<(), tonic::Status> {
    let mut client = TraceServiceClient::connect(format!("http://{address}"))
        .await
        .unwrap();
    let mut request = tonic::Request::new(request);
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    client.export(request).await.map(drop)
}

/// The agent on ephemeral ports with the configuration `text` (and `overrides`), exporting to
/// `backend`.
async fn agent_with_config(backend: SocketAddr, text: &str, overrides: &[&str]) -> Agent {
    let mut all: Vec<String> = vec![
        "receivers.otlp.protocols.grpc.endpoint=127.0.0.1:0".into(),
        "receivers.otlp.protocols.http.endpoint=127.0.0.1:0".into(),
        "service.telemetry.endpoint=127.0.0.1:0".into(),
        format!("exporters.otlp.endpoint=http://{backend}"),
        "exporters.otlp.batch.timeout=20ms".into(),
    ];
    all.extend(overrides.iter().map(|o| o.to_string()));
    let env = |name: &str| (name == "AGENT_TOKEN").then(|| TOKEN.to_string());
    Agent::start(&load_str(text, &all, env).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_written_in_the_file_from_the_environment_or_per_protocol_are_checked() {
    let (backend, captured) = start_capture_backend().await;
    for text in [
        format!("receivers:\n  otlp:\n    auth:\n      bearer_tokens: [{TOKEN}]\n"),
        "receivers:\n  otlp:\n    auth:\n      bearer_tokens: [\"${env:AGENT_TOKEN}\"]\n".into(),
    ] {
        let agent = agent_with_config(backend, &text, &[]).await;
        let address = agent.grpc_address().unwrap();
        let refused = export_with(address, None, trace_request(1, 1))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::Unauthenticated);
        assert_eq!(refused.message(), "missing or invalid bearer token");
        let wrong = export_with(address, Some("tok-4f9a1c7e2"), trace_request(2, 1)).await;
        assert_eq!(wrong.unwrap_err().code(), tonic::Code::Unauthenticated);
        export_with(address, Some(TOKEN), trace_request(3, 1))
            .await
            .unwrap();
        assert!(agent.shutdown().await);
    }
    // gRPC with its own token; HTTP keeps the shared one.
    let text = format!(
        "receivers:\n  otlp:\n    auth:\n      bearer_tokens: [{TOKEN}]\n    protocols:\n      grpc:\n        auth:\n          bearer_tokens: [grpc-only-token]\n"
    );
    let agent = agent_with_config(backend, &text, &[]).await;
    let address = agent.grpc_address().unwrap();
    let shared = export_with(address, Some(TOKEN), trace_request(4, 1)).await;
    assert_eq!(shared.unwrap_err().code(), tonic::Code::Unauthenticated);
    export_with(address, Some("grpc-only-token"), trace_request(5, 1))
        .await
        .unwrap();
    let http = format!("http://{}", agent.http_address().unwrap());
    let header = format!("authorization=Bearer%20{TOKEN}");
    assert!(python_export(sdk_env("http/protobuf", http.clone(), Some(&header)), 6, 1).await);
    assert!(
        !python_export(
            sdk_env(
                "http/protobuf",
                http,
                Some("authorization=Bearer%20grpc-only-token")
            ),
            7,
            1
        )
        .await
    );
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() >= 4).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        sent_by_rust(&captured),
        vec![3, 3, 5],
        "the first two runs and the gRPC-only token"
    );
    assert_eq!(delivered(&captured), vec![6]);
    assert!(agent.shutdown().await);
}

/// One export the SDK loop reported.
#[derive(serde::Deserialize)]
struct Export {
    first: i64,
    count: i64,
    token: String,
    result: String,
}

/// Rotates the agent's token file while the Python SDK exports over `protocol` in a loop: the
/// new token is added, the app moves to it, the old one is removed. The new token is never
/// refused once the agent has read it, and every span acknowledged arrives once.
async fn rotate_under_load(protocol: &str, endpoint: impl Fn(&Agent) -> String) {
    let (backend, captured) = start_capture_backend().await;
    let directory = TempDir::new(&format!("token-rotation-{}", protocol.replace('/', "-")));
    let agent_tokens = directory.write("agent-tokens", "old-token\n");
    let app_token = directory.write("app-token", "old-token\n");
    let stop = format!("{}/stop", directory.path());
    let setting = format!("receivers.otlp.auth.bearer_token_file={agent_tokens}");
    let agent = start_agent(backend, &[&setting]).await;
    let grpc = agent.grpc_address().unwrap();
    let mut app = Command::new("python3")
        .arg(repository_file("tests/python/otlp_rotate.py"))
        .args([protocol, &endpoint(&agent), &app_token, &stop])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (.ci/run installs the SDK)");
    let stdout = std::io::BufReader::new(app.stdout.take().unwrap());
    let exports = Arc::new(Mutex::new(Vec::<Export>::new()));
    let reader = {
        let exports = exports.clone();
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(stdout).map_while(Result::ok) {
                exports
                    .lock()
                    .unwrap()
                    .push(serde_json::from_str(&line).unwrap());
            }
        })
    };
    let successes = |token: &str| {
        exports
            .lock()
            .unwrap()
            .iter()
            .filter(|export| export.token == token && export.result == "SUCCESS")
            .count()
    };
    assert!(wait_until(Duration::from_secs(20), || successes("old-token") >= 20).await);
    directory.write("agent-tokens", "old-token\nnew-token\n");
    assert!(
        wait_until_async(Duration::from_secs(5), || async {
            export_with(grpc, Some("new-token"), trace_request(0, 0))
                .await
                .is_ok()
        })
        .await,
        "the new token is accepted within the check interval"
    );
    directory.write("app-token", "new-token\n");
    assert!(wait_until(Duration::from_secs(20), || successes("new-token") >= 20).await);
    directory.write("agent-tokens", "new-token\n");
    assert!(
        wait_until_async(Duration::from_secs(5), || async {
            export_with(grpc, Some("old-token"), trace_request(0, 0))
                .await
                .is_err()
        })
        .await,
        "the removed token is refused"
    );
    let before = successes("new-token");
    assert!(
        wait_until(Duration::from_secs(20), || successes("new-token")
            >= before + 20)
        .await
    );
    directory.write("stop", "");
    assert!(
        tokio::task::spawn_blocking(move || app.wait().unwrap().success())
            .await
            .unwrap()
    );
    reader.join().unwrap();

    let exports = std::mem::take(&mut *exports.lock().unwrap());
    let refused: Vec<&Export> = exports.iter().filter(|e| e.result != "SUCCESS").collect();
    assert!(
        refused.is_empty(),
        "{} exports refused, the first with token {}",
        refused.len(),
        refused[0].token
    );
    let mut expected: Vec<i64> = exports
        .iter()
        .flat_map(|export| export.first..export.first + export.count)
        .collect();
    expected.sort_unstable();
    assert!(
        wait_until(Duration::from_secs(10), || captured.span_count()
            >= expected.len())
        .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let arrived = delivered(&captured);
    eprintln!(
        "{protocol}: {} exports ({} with the old token, {} with the new), {} spans acknowledged, {} arrived",
        exports.len(),
        exports.iter().filter(|e| e.token == "old-token").count(),
        exports.iter().filter(|e| e.token == "new-token").count(),
        expected.len(),
        arrived.len()
    );
    assert!(
        arrived == expected,
        "{} spans acknowledged, {} arrived",
        expected.len(),
        arrived.len()
    );
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_file_rotated_under_grpc_load_takes_effect_without_a_restart_or_a_loss() {
    rotate_under_load("grpc", |agent| {
        format!("http://{}", agent.grpc_address().unwrap())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_file_rotated_under_http_load_takes_effect_without_a_restart_or_a_loss() {
    rotate_under_load("http", |agent| {
        format!("http://{}", agent.http_address().unwrap())
    })
    .await;
}

async fn wait_until_async<F, Fut>(limit: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The files of a test CA, a server certificate for 127.0.0.1 and a client certificate.
struct Pki {
    directory: TempDir,
    authority: Authority,
    ca: String,
    client_cert: String,
    client_key: String,
}

impl Pki {
    fn new(name: &str) -> Self {
        let directory = TempDir::new(name);
        let authority = Authority::new("receiver test CA");
        let ca = directory.write("ca.pem", &authority.pem);
        let client: Certified = authority.client();
        let client_cert = directory.write("client.pem", &client.certificate);
        let client_key = directory.write("client.key", &client.key);
        let pki = Self {
            directory,
            authority,
            ca,
            client_cert,
            client_key,
        };
        pki.issue_server();
        pki
    }

    /// Writes a new server certificate and key (a rotation); returns the certificate.
    fn issue_server(&self) -> String {
        let server = self.authority.server(&["127.0.0.1", "localhost"]);
        self.directory.write("server.key", &server.key);
        self.directory.write("server.pem", &server.certificate);
        server.certificate
    }

    /// `--set` overrides for TLS on `protocol`'s receiver, with mutual TLS when `mutual`.
    fn overrides(&self, protocol: &str, mutual: bool) -> Vec<String> {
        let key = format!("receivers.otlp.protocols.{protocol}.tls");
        let mut overrides = vec![
            format!("{key}.cert_file={}/server.pem", self.directory.path()),
            format!("{key}.key_file={}/server.key", self.directory.path()),
            format!("{key}.reload_interval=200ms"),
        ];
        if mutual {
            overrides.push(format!("{key}.client_ca_file={}", self.ca));
        }
        overrides
    }

    fn trusting(&self, mut env: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
        env.push(("OTEL_EXPORTER_OTLP_CERTIFICATE", self.ca.clone()));
        env
    }

    fn with_client_certificate(
        &self,
        env: Vec<(&'static str, String)>,
    ) -> Vec<(&'static str, String)> {
        let mut env = self.trusting(env);
        env.push((
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            self.client_cert.clone(),
        ));
        env.push(("OTEL_EXPORTER_OTLP_CLIENT_KEY", self.client_key.clone()));
        env
    }
}

async fn start_tls_agent(backend: SocketAddr, pki: &Pki, mutual: bool) -> Agent {
    let mut overrides = pki.overrides("grpc", mutual);
    overrides.extend(pki.overrides("http", mutual));
    let overrides: Vec<&str> = overrides.iter().map(String::as_str).collect();
    start_agent(backend, &overrides).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_receivers_serve_the_sdk_that_trusts_their_ca() {
    let (backend, captured) = start_capture_backend().await;
    let pki = Pki::new("receiver-tls");
    let agent = start_tls_agent(backend, &pki, false).await;
    let grpc = format!("https://{}", agent.grpc_address().unwrap());
    let http = format!("https://{}", agent.http_address().unwrap());
    assert!(python_export(pki.trusting(sdk_env("grpc", grpc.clone(), None)), 0, 2).await);
    assert!(
        python_export(
            pki.trusting(sdk_env("http/protobuf", http.clone(), None)),
            10,
            2
        )
        .await
    );
    // A client that does not trust the CA gets no connection.
    assert!(!python_export(sdk_env("http/protobuf", http.clone(), None), 20, 2).await);
    // The HTTP receiver speaks HTTP/2 as well, chosen by ALPN.
    assert_eq!(curl_http_version(&pki.ca, &http, "--http2").await, "2 200");
    assert_eq!(
        curl_http_version(&pki.ca, &http, "--http1.1").await,
        "1.1 200"
    );
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() >= 4).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(delivered(&captured), vec![0, 1, 10, 11]);
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_refuses_a_client_without_a_certificate_and_serves_one_with_it() {
    let (backend, captured) = start_capture_backend().await;
    let pki = Pki::new("receiver-mtls");
    let agent = start_tls_agent(backend, &pki, true).await;
    let grpc = format!("https://{}", agent.grpc_address().unwrap());
    let http = format!("https://{}", agent.http_address().unwrap());
    assert!(!python_export(pki.trusting(sdk_env("grpc", grpc.clone(), None)), 0, 2).await);
    assert!(
        !python_export(
            pki.trusting(sdk_env("http/protobuf", http.clone(), None)),
            10,
            2
        )
        .await
    );
    assert!(
        python_export(
            pki.with_client_certificate(sdk_env("grpc", grpc, None)),
            20,
            2
        )
        .await
    );
    assert!(
        python_export(
            pki.with_client_certificate(sdk_env("http/protobuf", http, None)),
            30,
            2
        )
        .await
    );
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() >= 4).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(delivered(&captured), vec![20, 21, 30, 31]);
    let metrics = agent.counters().render_prometheus();
    let handshakes: f64 = ["grpc", "http"]
        .iter()
        .map(|listener| {
            let series = format!(
                "genai_cost_agent_receiver_closed_connections_total{{listener=\"{listener}\",reason=\"tls_handshake\"}} "
            );
            metrics
                .lines()
                .find_map(|line| line.strip_prefix(series.as_str()))
                .and_then(|value| value.parse::<f64>().ok())
                .unwrap_or(0.0)
        })
        .sum();
    assert!(
        handshakes >= 2.0,
        "refused handshakes counted: {handshakes}"
    );
    assert!(agent.shutdown().await);
}

/// Posts an empty OTLP/JSON export with curl over `version`; the HTTP version it used and the
/// status.
async fn curl_http_version(ca: &str, endpoint: &str, version: &'static str) -> String {
    let (ca, url) = (ca.to_string(), format!("{endpoint}/v1/traces"));
    let output = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["-sS", "--max-time", "10", version, "--cacert", &ca])
            .args(["-o", "/dev/null", "-w", "%{http_version} %{http_code}"])
            .args(["-H", "Content-Type: application/json", "-d", "{}", &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A TLS client trusting `ca`, connected to `address`; the server's certificate it saw.
async fn tls_connect(
    address: SocketAddr,
    ca: &str,
) -> (
    tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    CertificateDer<'static>,
) {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(certificate.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    let stream = connector
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap();
    let seen = stream.get_ref().1.peer_certificates().unwrap()[0].clone();
    (stream, seen)
}

/// One OTLP/HTTP export over an open HTTP/1.1 connection; the status line's code.
async fn http1_export<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    number: u64,
) -> u16 {
    let body = prost::Message::encode_to_vec(&trace_request(number, 1));
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut answer = vec![0; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..read]);
    text.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn der_of(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_rotated_while_connected_keeps_the_connection_and_serves_the_new_one() {
    let (backend, captured) = start_capture_backend().await;
    let pki = Pki::new("receiver-rotation");
    let first = std::fs::read_to_string(format!("{}/server.pem", pki.directory.path())).unwrap();
    let agent = start_tls_agent(backend, &pki, false).await;
    let address = agent.http_address().unwrap();
    let (mut open, seen) = tls_connect(address, &pki.ca).await;
    assert_eq!(seen, der_of(&first));
    assert_eq!(http1_export(&mut open, 1).await, 200);

    let renewed = pki.issue_server();
    // Within the reload interval (200 ms) new connections get the renewed certificate.
    let mut rotated = false;
    for _ in 0..50 {
        let (_, seen) = tls_connect(address, &pki.ca).await;
        if seen == der_of(&renewed) {
            rotated = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(rotated, "a new connection sees the renewed certificate");
    // The connection opened before the rotation is still served.
    assert_eq!(http1_export(&mut open, 2).await, 200);
    let (mut fresh, _) = tls_connect(address, &pki.ca).await;
    assert_eq!(http1_export(&mut fresh, 3).await, 200);
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() >= 3).await);
    assert_eq!(span_ids(&captured.traces.lock().unwrap()), vec![1, 2, 3]);
    assert!(agent.shutdown().await);
}

#[test]
fn tokens_never_reach_the_log_or_the_metrics_even_at_trace_level() {
    let directory = TempDir::new("token-leak");
    let file = directory.write("tokens", "file-token-93bd\n");
    let agent = start_binary_with(
        &[
            "receivers.otlp.auth.bearer_tokens=[listed-token-51ce]",
            &format!("receivers.otlp.auth.bearer_token_file={file}"),
        ],
        |command| {
            command.env("GENAI_COST_AGENT_LOG", "trace");
        },
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let grpc: SocketAddr = agent.grpc.parse().unwrap();
    let http = agent.http.clone();
    runtime.block_on(async {
        for token in ["listed-token-51ce", "file-token-93bd", "wrong-token-77aa"] {
            let _ = export_with(grpc, Some(token), trace_request(1, 1)).await;
            let header = format!("authorization=Bearer%20{token}");
            let _ = python_export(
                sdk_env("http/protobuf", format!("http://{http}"), Some(&header)),
                1,
                1,
            )
            .await;
        }
    });
    let metrics = agent.self_metrics();
    assert!(metrics.contains("genai_cost_agent_receiver_unauthenticated_requests_total 2"));
    std::thread::sleep(Duration::from_millis(300));
    let log = agent.log().join("\n");
    assert!(log.contains("refused"), "refusals are logged");
    for secret in [
        "listed-token-51ce",
        "file-token-93bd",
        "wrong-token-77aa",
        "51ce",
        "93bd",
    ] {
        assert!(!log.contains(secret), "the log holds {secret}");
        assert!(!metrics.contains(secret), "/metrics holds {secret}");
    }
}
