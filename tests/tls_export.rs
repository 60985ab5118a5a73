//! TLS to the backend, over gRPC and HTTP: certificates made here with rcgen, a capture backend
//! serving TLS on 127.0.0.1, and the agent exporting to it. Each case checks which spans
//! arrived (ids and names) or, when the handshake must fail, that none did and the failure was
//! counted.

mod common;

use common::certificates::{Authority, Certified};
use common::*;
use genai_cost_agent::otlp::Signal;
use genai_cost_agent::Agent;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

#[derive(Clone, Copy, Debug)]
enum Protocol {
    Grpc,
    Http,
}

/// The backend's TLS: its certificate and, for mutual TLS, the CA its clients must be signed by.
struct ServerTls<'a> {
    certified: &'a Certified,
    client_ca: Option<&'a str>,
}

/// Starts a capture backend serving OTLP over TLS on 127.0.0.1 port 0.
async fn start_tls_backend(protocol: Protocol, tls: ServerTls<'_>) -> (SocketAddr, Arc<Captured>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let captured = Arc::new(Captured::default());
    match protocol {
        Protocol::Grpc => {
            let identity = tonic::transport::Identity::from_pem(
                &tls.certified.certificate,
                &tls.certified.key,
            );
            let mut config = tonic::transport::ServerTlsConfig::new().identity(identity);
            if let Some(ca) = tls.client_ca {
                config = config.client_ca_root(tonic::transport::Certificate::from_pem(ca));
            }
            let server = tonic::transport::Server::builder()
                .tls_config(config)
                .unwrap()
                .add_routes(capture_routes(&captured))
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener));
            tokio::spawn(server);
        }
        Protocol::Http => {
            let listener = TlsListener {
                tcp: listener,
                acceptor: TlsAcceptor::from(Arc::new(rustls_server_config(&tls))),
            };
            let app = capture_http_app(&captured);
            tokio::spawn(async move { axum::serve(listener, app).await });
        }
    }
    (address, captured)
}

fn rustls_server_config(tls: &ServerTls<'_>) -> rustls::ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match tls.client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for certificate in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                roots.add(certificate.unwrap()).unwrap();
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let chain = CertificateDer::pem_slice_iter(tls.certified.certificate.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(tls.certified.key.as_bytes()).unwrap();
    let mut config = builder.with_single_cert(chain, key).unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// Accepts TLS connections for `axum::serve`; a connection whose handshake fails is dropped.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, address)) = self.tcp.accept().await else {
                continue;
            };
            let handshake = self.acceptor.accept(stream);
            if let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_secs(5), handshake).await {
                return (stream, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// What became of the ten spans the agent was sent.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// These spans (id, name) arrived, in order of id; the agent counted them sent.
    Delivered(Vec<(u64, String)>),
    /// None arrived; the agent counted them failed and dropped after its one attempt.
    Failed,
}

fn ten_spans_delivered() -> Outcome {
    Outcome::Delivered((1..=10).map(|id| (id, format!("span {id}"))).collect())
}

/// Starts the agent exporting to `https://<host>:<backend's port>` over `protocol` with the
/// `exporters.otlp.tls.*` settings given, sends it spans 1 to 10, and waits for them to arrive
/// or to be dropped (one attempt, no retries).
async fn export_ten_spans(
    protocol: Protocol,
    backend: SocketAddr,
    captured: &Captured,
    tls: &[(&str, &str)],
) -> Outcome {
    let mut overrides = vec![
        "exporters.otlp.retry_on_failure.enabled=false".to_string(),
        "exporters.otlp.timeout=5s".to_string(),
        "metrics.enabled=false".to_string(),
    ];
    overrides.extend(
        tls.iter()
            .map(|(key, value)| format!("exporters.otlp.tls.{key}={value}")),
    );
    let overrides: Vec<&str> = overrides.iter().map(String::as_str).collect();
    let protocol = match protocol {
        Protocol::Grpc => "grpc",
        Protocol::Http => "http/protobuf",
    };
    let endpoint = format!("https://127.0.0.1:{}", backend.port());
    let agent = Agent::start(&test_config(&endpoint, protocol, &overrides))
        .await
        .unwrap();
    send_traces(&agent, trace_request(1, 10)).await;
    let counters = agent.counters().clone();
    let settled = wait_until(Duration::from_secs(15), || {
        counters.sent_total(Signal::Traces) + counters.send_failed_total(Signal::Traces) >= 10
    })
    .await;
    assert!(settled, "the export neither succeeded nor failed in time");
    let outcome = if counters.sent_total(Signal::Traces) == 10 {
        let mut spans: Vec<(u64, String)> = captured
            .spans()
            .into_iter()
            .map(|span| {
                (
                    u64::from_be_bytes(span.span_id.try_into().unwrap()),
                    span.name,
                )
            })
            .collect();
        spans.sort();
        Outcome::Delivered(spans)
    } else {
        assert_eq!(
            captured.span_count(),
            0,
            "nothing arrives from a failed export"
        );
        assert_eq!(counters.send_failed_total(Signal::Traces), 10);
        assert_eq!(
            counters.dropped_total(Signal::Traces, "retries_exhausted"),
            10
        );
        Outcome::Failed
    };
    assert!(agent.shutdown().await);
    outcome
}

/// Each case as two tests, `<case>::grpc` and `<case>::http`.
macro_rules! over_both_protocols {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn grpc() {
                    super::$case(Protocol::Grpc).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn http() {
                    super::$case(Protocol::Http).await;
                }
            }
        )*
    };
}

over_both_protocols!(
    a_trusted_ca_file_delivers_over_tls,
    mutual_tls_needs_the_client_certificate,
    server_name_replaces_the_endpoints_host,
    an_unknown_ca_fails_unless_verification_is_skipped,
);

async fn a_trusted_ca_file_delivers_over_tls(protocol: Protocol) {
    let scratch = TempDir::new(&format!("trusted-{protocol:?}"));
    let ca = Authority::new("test CA");
    let server = ca.server(&["localhost", "127.0.0.1"]);
    let (backend, captured) = start_tls_backend(
        protocol,
        ServerTls {
            certified: &server,
            client_ca: None,
        },
    )
    .await;
    let ca_file = scratch.write("ca.pem", &ca.pem);
    assert_eq!(
        export_ten_spans(
            protocol,
            backend,
            &captured,
            &[("ca_file", ca_file.as_str())]
        )
        .await,
        ten_spans_delivered()
    );
}

async fn mutual_tls_needs_the_client_certificate(protocol: Protocol) {
    let scratch = TempDir::new(&format!("mutual-{protocol:?}"));
    let ca = Authority::new("test CA");
    let server = ca.server(&["127.0.0.1"]);
    let client = ca.client();
    let (backend, captured) = start_tls_backend(
        protocol,
        ServerTls {
            certified: &server,
            client_ca: Some(&ca.pem),
        },
    )
    .await;
    let ca_file = scratch.write("ca.pem", &ca.pem);
    let cert_file = scratch.write("client.pem", &client.certificate);
    let key_file = scratch.write("client.key", &client.key);
    assert_eq!(
        export_ten_spans(
            protocol,
            backend,
            &captured,
            &[("ca_file", ca_file.as_str())]
        )
        .await,
        Outcome::Failed
    );
    let with_certificate = [
        ("ca_file", ca_file.as_str()),
        ("cert_file", cert_file.as_str()),
        ("key_file", key_file.as_str()),
    ];
    assert_eq!(
        export_ten_spans(protocol, backend, &captured, &with_certificate).await,
        ten_spans_delivered()
    );
}

async fn server_name_replaces_the_endpoints_host(protocol: Protocol) {
    let scratch = TempDir::new(&format!("server-name-{protocol:?}"));
    let ca = Authority::new("test CA");
    let server = ca.server(&["otlp.internal"]);
    let (backend, captured) = start_tls_backend(
        protocol,
        ServerTls {
            certified: &server,
            client_ca: None,
        },
    )
    .await;
    let ca_file = scratch.write("ca.pem", &ca.pem);
    assert_eq!(
        export_ten_spans(
            protocol,
            backend,
            &captured,
            &[("ca_file", ca_file.as_str())]
        )
        .await,
        Outcome::Failed,
        "127.0.0.1 is not a name of the certificate"
    );
    let renamed = [
        ("ca_file", ca_file.as_str()),
        ("server_name", "otlp.internal"),
    ];
    assert_eq!(
        export_ten_spans(protocol, backend, &captured, &renamed).await,
        ten_spans_delivered()
    );
}

async fn an_unknown_ca_fails_unless_verification_is_skipped(protocol: Protocol) {
    let scratch = TempDir::new(&format!("unknown-ca-{protocol:?}"));
    let trusted = Authority::new("trusted CA");
    let unknown = Authority::new("unknown CA");
    let server = unknown.server(&["127.0.0.1"]);
    let (backend, captured) = start_tls_backend(
        protocol,
        ServerTls {
            certified: &server,
            client_ca: None,
        },
    )
    .await;
    let ca_file = scratch.write("ca.pem", &trusted.pem);
    assert_eq!(
        export_ten_spans(
            protocol,
            backend,
            &captured,
            &[("ca_file", ca_file.as_str())]
        )
        .await,
        Outcome::Failed
    );
    assert_eq!(
        export_ten_spans(protocol, backend, &captured, &[]).await,
        Outcome::Failed,
        "the built-in roots do not know it either"
    );
    assert_eq!(
        export_ten_spans(
            protocol,
            backend,
            &captured,
            &[("insecure_skip_verify", "true")]
        )
        .await,
        ten_spans_delivered()
    );
}
