//! Load benchmark of the agent as a separate process, end to end over loopback.
//!
//! A generator sends OTLP/gRPC trace exports (mostly plain HTTP spans, a fraction of LLM spans
//! with gen_ai token usage) at full speed over N connections for a fixed time to the release
//! binary `genai-cost-agent`, which prices them and forwards them to a counting OTLP/gRPC sink
//! inside this process. It measures the agent's throughput (acknowledged spans per second), its
//! CPU time per span and peak RSS, and checks delivery: every acknowledged span must reach the
//! sink exactly once, and every LLM span must arrive priced.
//!
//! `cargo bench --bench load -- --seconds 10 --connections 4 --spans-per-request 100 \
//!  --llm-fraction 0.2`

use std::error::Error;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type BoxResult<T> = Result<T, Box<dyn Error>>;

/// How long the sink may take to receive everything the agent acknowledged.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the agent may take to start, and to exit after SIGTERM.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(30);

mod options {
    /// The command line: `--seconds`, `--connections`, `--spans-per-request`, `--llm-fraction`.
    #[derive(Debug, Clone)]
    pub struct Options {
        pub seconds: f64,
        pub connections: usize,
        pub spans_per_request: usize,
        pub llm_fraction: f64,
        /// Derived metrics on (default) or off.
        pub metrics: bool,
        /// Distinct `user.id` values on LLM spans, an attribution dimension (0: no user).
        pub users: usize,
        /// The exporter's queue on disk, with this fsync policy (`always`, `interval`, `never`);
        /// `None`: in memory.
        pub disk_queue: Option<String>,
        /// An agent binary to run instead of this tree's release build (an A/B against an
        /// earlier build, in the same run).
        pub agent: Option<std::path::PathBuf>,
        /// Run Rotel's `rotel-agent` (a plain OTLP pass-through) at this path instead, as the
        /// baseline a collector of the same family costs.
        pub rotel: Option<std::path::PathBuf>,
    }

    const USAGE: &str = "usage: load [--seconds S] [--connections N] \
                         [--spans-per-request M] [--llm-fraction F] [--metrics on|off] [--users N] \
                         [--queue memory|disk-always|disk-interval|disk-never] [--agent PATH] \
                         [--rotel PATH]";

    impl Options {
        pub fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
            let mut options = Options {
                seconds: 10.0,
                connections: 4,
                spans_per_request: 100,
                llm_fraction: 0.2,
                metrics: true,
                users: 0,
                disk_queue: None,
                agent: None,
                rotel: None,
            };
            let mut args = args;
            while let Some(arg) = args.next() {
                // `cargo bench` passes `--bench` to every bench binary.
                if arg == "--bench" {
                    continue;
                }
                let value = args
                    .next()
                    .ok_or_else(|| format!("{arg}: missing value\n{USAGE}"))?;
                let bad = || format!("{arg}: invalid value `{value}`\n{USAGE}");
                match arg.as_str() {
                    "--seconds" => options.seconds = value.parse().map_err(|_| bad())?,
                    "--connections" => options.connections = value.parse().map_err(|_| bad())?,
                    "--spans-per-request" => {
                        options.spans_per_request = value.parse().map_err(|_| bad())?
                    }
                    "--llm-fraction" => options.llm_fraction = value.parse().map_err(|_| bad())?,
                    "--metrics" => {
                        options.metrics = match value.as_str() {
                            "on" => true,
                            "off" => false,
                            _ => return Err(bad()),
                        }
                    }
                    "--users" => options.users = value.parse().map_err(|_| bad())?,
                    "--queue" => {
                        options.disk_queue = match value.as_str() {
                            "memory" => None,
                            "disk-always" => Some("always".into()),
                            "disk-interval" => Some("interval".into()),
                            "disk-never" => Some("never".into()),
                            _ => return Err(bad()),
                        }
                    }
                    "--agent" => options.agent = Some(value.into()),
                    "--rotel" => options.rotel = Some(value.into()),
                    _ => return Err(format!("unknown argument `{arg}`\n{USAGE}")),
                }
            }
            options.check()?;
            Ok(options)
        }

        fn check(&self) -> Result<(), String> {
            if !(self.seconds > 0.0 && self.seconds <= 3600.0) {
                return Err("--seconds must be in (0, 3600]".into());
            }
            if !(1..=64).contains(&self.connections) {
                return Err("--connections must be in 1..=64".into());
            }
            if !(1..=10_000).contains(&self.spans_per_request) {
                return Err("--spans-per-request must be in 1..=10000".into());
            }
            if !(0.0..=1.0).contains(&self.llm_fraction) {
                return Err("--llm-fraction must be in [0, 1]".into());
            }
            if self.users > 99_999 {
                return Err("--users must be at most 99999".into());
            }
            Ok(())
        }
    }
}

/// Span ids and the pre-encoded requests the generator sends.
mod workload {
    use bytes::{Bytes, BytesMut};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{
        any_value, AnyValue, InstrumentationScope, KeyValue,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{
        span, status, ResourceSpans, ScopeSpans, Span, Status,
    };
    use prost::Message;

    /// Spans per trace in a request: the first is the root, the others its children.
    const TRACE_LEN: usize = 10;
    /// Placeholder ids in a template start with this, then two zero bytes and the span index.
    const MAGIC: [u8; 4] = [0xA5, 0x5A, 0xC3, 0x3C];
    /// The second half of every trace id (the first half is the root span's id).
    const TRACE_TAIL: [u8; 8] = *b"loadtest";

    pub const SERVICES: [&str; 4] = ["checkout", "support-assistant", "search", "recommendations"];
    /// Model names sent, with their provider and prices (input, output, cache read, cache write).
    pub const MODELS: [(&str, &str, [&str; 4]); 3] = [
        (
            "claude-sonnet-4-6",
            "anthropic",
            ["3", "15", "0.30", "3.75"],
        ),
        ("claude-haiku-4-5", "anthropic", ["1", "5", "0.10", "1.25"]),
        ("gpt-4o-mini", "openai", ["0.15", "0.60", "0.075", "0.15"]),
    ];

    /// A span's unique id: connection (+1, so never zero), request number, index in the request.
    pub fn span_id(connection: usize, request: u64, index: usize) -> u64 {
        ((connection as u64 + 1) << 48) | ((request & 0xFFFF_FFFF) << 16) | index as u64
    }

    /// The inverse of [`span_id`]; `None` for an id the generator cannot have made.
    pub fn split_span_id(id: u64) -> Option<(usize, u64, usize)> {
        let connection = (id >> 48).checked_sub(1)? as usize;
        Some((connection, (id >> 16) & 0xFFFF_FFFF, (id & 0xFFFF) as usize))
    }

    /// One encoded request whose ids are rewritten for every send.
    pub struct Template {
        bytes: Bytes,
        /// (byte offset, index of the span whose id goes there).
        patches: Vec<(usize, usize)>,
        /// Byte offsets of the five digits of each `user-NNNNN` value.
        user_patches: Vec<usize>,
        pub llm_spans: u64,
    }

    impl Template {
        pub fn build(
            variant: usize,
            spans: usize,
            llm_fraction: f64,
            with_users: bool,
        ) -> Template {
            let mut llm_spans = 0;
            let spans: Vec<Span> = (0..spans)
                .map(|index| {
                    if is_llm(index + variant * 7, llm_fraction) {
                        llm_spans += 1;
                        let mut span = llm_span(index);
                        if with_users {
                            span.attributes.push(text("user.id", USER_PLACEHOLDER));
                        }
                        span
                    } else {
                        plain_span(index)
                    }
                })
                .collect();
            let request = request(SERVICES[variant % SERVICES.len()], spans);
            let bytes = request.encode_to_vec();
            let patches = find_patches(&bytes);
            let expected = request.resource_spans[0].scope_spans[0]
                .spans
                .iter()
                .map(|span| 2 + usize::from(!span.parent_span_id.is_empty()))
                .sum::<usize>();
            assert_eq!(
                patches.len(),
                expected,
                "placeholder ids not found in the encoding"
            );
            let user_patches = bytes
                .windows(USER_PLACEHOLDER.len())
                .enumerate()
                .filter(|(_, window)| *window == USER_PLACEHOLDER.as_bytes())
                .map(|(offset, _)| offset + USER_PLACEHOLDER.len() - 5)
                .collect();
            Template {
                bytes: bytes.into(),
                patches,
                user_patches,
                llm_spans,
            }
        }

        /// The request with the real ids of `connection`'s request number `request`.
        pub fn render(&self, connection: usize, request: u64, users: usize) -> Bytes {
            let mut bytes = BytesMut::from(&self.bytes[..]);
            for &(offset, index) in &self.patches {
                let id = span_id(connection, request, index).to_be_bytes();
                bytes[offset..offset + 8].copy_from_slice(&id);
            }
            if users > 0 {
                for (position, &offset) in self.user_patches.iter().enumerate() {
                    let user = (request as usize * 131 + position * 17 + connection * 7919) % users;
                    bytes[offset..offset + 5].copy_from_slice(format!("{user:05}").as_bytes());
                }
            }
            bytes.freeze()
        }
    }

    /// The `user.id` of LLM spans before its digits are set per request.
    const USER_PLACEHOLDER: &str = "user-00000";

    /// Spreads `fraction` of the indexes evenly.
    fn is_llm(index: usize, fraction: f64) -> bool {
        (index as f64 * fraction).floor() != ((index + 1) as f64 * fraction).floor()
    }

    fn placeholder(index: usize) -> [u8; 8] {
        let index = index as u16;
        let [high, low] = index.to_be_bytes();
        [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], 0, 0, high, low]
    }

    fn find_patches(bytes: &[u8]) -> Vec<(usize, usize)> {
        let mut patches = Vec::new();
        let mut offset = 0;
        while offset + 8 <= bytes.len() {
            let window = &bytes[offset..offset + 8];
            if window[..6] == [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], 0, 0] {
                patches.push((offset, u16::from_be_bytes([window[6], window[7]]) as usize));
                offset += 8;
            } else {
                offset += 1;
            }
        }
        patches
    }

    fn request(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![
                        text("service.name", service),
                        text("service.version", "1.42.0"),
                        text("deployment.environment.name", "production"),
                        text("telemetry.sdk.language", "rust"),
                    ],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "load-bench".into(),
                        version: "0.1.0".into(),
                        ..Default::default()
                    }),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }
    }

    /// The ids, names and times every span has.
    fn skeleton(index: usize, name: String, kind: span::SpanKind) -> Span {
        let root = index - index % TRACE_LEN;
        let mut trace_id = placeholder(root).to_vec();
        trace_id.extend_from_slice(&TRACE_TAIL);
        let start = 1_767_225_600_000_000_000 + index as u64 * 1_000_000;
        Span {
            trace_id,
            span_id: placeholder(index).to_vec(),
            parent_span_id: if index == root {
                Vec::new()
            } else {
                placeholder(root).to_vec()
            },
            flags: 0x101,
            name,
            kind: kind as i32,
            start_time_unix_nano: start,
            end_time_unix_nano: start + 2_000_000 + (index as u64 % 17) * 350_000,
            status: Some(Status {
                message: String::new(),
                code: status::StatusCode::Unset as i32,
            }),
            ..Default::default()
        }
    }

    fn plain_span(index: usize) -> Span {
        let route = ["/api/orders/{id}", "/api/cart", "/api/search", "/healthz"][index % 4];
        let method = if index.is_multiple_of(3) {
            "POST"
        } else {
            "GET"
        };
        let mut span = skeleton(index, format!("{method} {route}"), span::SpanKind::Server);
        span.attributes = vec![
            text("http.request.method", method),
            text("http.route", route),
            int(
                "http.response.status_code",
                if index.is_multiple_of(23) { 500 } else { 200 },
            ),
            text(
                "url.path",
                &route.replace("{id}", &(1000 + index).to_string()),
            ),
            text("url.scheme", "https"),
            text("server.address", "shop.example.com"),
            int("server.port", 443),
            text(
                "user_agent.original",
                "Mozilla/5.0 (X11; Linux x86_64) load-bench/0.1",
            ),
        ];
        span
    }

    fn llm_span(index: usize) -> Span {
        let (model, provider, _) = MODELS[index % MODELS.len()];
        let mut span = skeleton(index, format!("chat {model}"), span::SpanKind::Client);
        let input = 800 + (index as i64 * 37) % 4000;
        let cache_read = input / 2;
        let cache_creation = input / 8;
        span.attributes = vec![
            text("gen_ai.operation.name", "chat"),
            text("gen_ai.provider.name", provider),
            text("gen_ai.request.model", model),
            int("gen_ai.usage.input_tokens", input),
            int("gen_ai.usage.output_tokens", 50 + (index as i64 * 13) % 900),
            int("gen_ai.usage.cache_read.input_tokens", cache_read),
            int("gen_ai.usage.cache_creation.input_tokens", cache_creation),
            text("server.address", "api.example.com"),
        ];
        span
    }

    fn text(key: &str, value: &str) -> KeyValue {
        attribute(key, any_value::Value::StringValue(value.into()))
    }

    fn int(key: &str, value: i64) -> KeyValue {
        attribute(key, any_value::Value::IntValue(value))
    }

    fn attribute(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }
}

/// The counting OTLP/gRPC backend the agent exports to.
mod sink {
    use crate::workload::split_span_id;
    use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
        MetricsService, MetricsServiceServer,
    };
    use opentelemetry_proto::tonic::collector::metrics::v1::{
        ExportMetricsServiceRequest, ExportMetricsServiceResponse,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
        TraceService, TraceServiceServer,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
    };
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};
    use tokio::net::TcpListener;
    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;
    use tonic::codec::CompressionEncoding;
    use tonic::{Request, Response, Status};

    const COST_AMOUNT: &str = "gen_ai.usage.cost.amount";

    /// Which span ids arrived, one bit per span, per generator connection.
    pub struct Ledger {
        spans_per_request: u64,
        seen: Vec<Vec<u64>>,
        pub received: u64,
        pub distinct: u64,
        pub duplicates: u64,
        pub foreign: u64,
        pub priced: u64,
        pub requests: u64,
        /// The agent's derived metrics: data points received.
        pub metric_points: u64,
    }

    impl Ledger {
        pub fn new(connections: usize, spans_per_request: usize) -> Ledger {
            Ledger {
                spans_per_request: spans_per_request as u64,
                seen: vec![Vec::new(); connections],
                received: 0,
                distinct: 0,
                duplicates: 0,
                foreign: 0,
                priced: 0,
                requests: 0,
                metric_points: 0,
            }
        }

        fn bit(&self, request: u64, index: usize) -> (usize, u64) {
            let bit = request * self.spans_per_request + index as u64;
            ((bit / 64) as usize, 1 << (bit % 64))
        }

        fn record(&mut self, id: u64) {
            self.received += 1;
            let Some((connection, request, index)) = split_span_id(id) else {
                self.foreign += 1;
                return;
            };
            if connection >= self.seen.len() || index as u64 >= self.spans_per_request {
                self.foreign += 1;
                return;
            }
            let (word, mask) = self.bit(request, index);
            let bits = &mut self.seen[connection];
            if bits.len() <= word {
                bits.resize((word + 1).next_power_of_two(), 0);
            }
            if bits[word] & mask == 0 {
                bits[word] |= mask;
                self.distinct += 1;
            } else {
                self.duplicates += 1;
            }
        }

        pub fn contains(&self, connection: usize, request: u64, index: usize) -> bool {
            let (word, mask) = self.bit(request, index);
            self.seen
                .get(connection)
                .and_then(|bits| bits.get(word))
                .is_some_and(|bits| bits & mask != 0)
        }
    }

    struct Sink {
        ledger: Arc<Mutex<Ledger>>,
    }

    #[tonic::async_trait]
    impl TraceService for Sink {
        async fn export(
            &self,
            request: Request<ExportTraceServiceRequest>,
        ) -> Result<Response<ExportTraceServiceResponse>, Status> {
            let request = request.into_inner();
            let spans = request
                .resource_spans
                .iter()
                .flat_map(|resource| &resource.scope_spans)
                .flat_map(|scope| &scope.spans);
            let mut ids = Vec::with_capacity(1024);
            let mut priced = 0;
            for span in spans {
                let id = <[u8; 8]>::try_from(span.span_id.as_slice()).map_or(0, u64::from_be_bytes);
                ids.push(id);
                priced += u64::from(span.attributes.iter().any(|kv| kv.key == COST_AMOUNT));
            }
            let mut ledger = self.ledger.lock().expect("ledger lock");
            ledger.requests += 1;
            ledger.priced += priced;
            for id in ids {
                ledger.record(id);
            }
            Ok(Response::new(ExportTraceServiceResponse::default()))
        }
    }

    #[tonic::async_trait]
    impl MetricsService for Sink {
        async fn export(
            &self,
            request: Request<ExportMetricsServiceRequest>,
        ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
            let points: usize = request
                .into_inner()
                .resource_metrics
                .iter()
                .flat_map(|resource| &resource.scope_metrics)
                .flat_map(|scope| &scope.metrics)
                .map(|metric| match &metric.data {
                    Some(Data::Gauge(data)) => data.data_points.len(),
                    Some(Data::Sum(data)) => data.data_points.len(),
                    Some(Data::Histogram(data)) => data.data_points.len(),
                    Some(Data::ExponentialHistogram(data)) => data.data_points.len(),
                    Some(Data::Summary(data)) => data.data_points.len(),
                    None => 0,
                })
                .sum();
            self.ledger.lock().expect("ledger lock").metric_points += points as u64;
            Ok(Response::new(ExportMetricsServiceResponse::default()))
        }
    }

    pub struct SinkServer {
        pub address: SocketAddr,
        stop: oneshot::Sender<()>,
        task: JoinHandle<Result<(), tonic::transport::Error>>,
    }

    impl SinkServer {
        /// Listens on 127.0.0.1, port 0. Must be called inside the runtime.
        pub async fn start(ledger: Arc<Mutex<Ledger>>) -> std::io::Result<SinkServer> {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let address = listener.local_addr()?;
            let (stop, stopped) = oneshot::channel::<()>();
            let traces = TraceServiceServer::new(Sink {
                ledger: ledger.clone(),
            })
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(256 << 20);
            let metrics = MetricsServiceServer::new(Sink { ledger })
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(256 << 20);
            let server = tonic::transport::Server::builder()
                .add_service(traces)
                .add_service(metrics)
                .serve_with_incoming_shutdown(
                    {
                        use tokio_stream::StreamExt;
                        // No Nagle: acknowledgements must not wait for delayed ACKs.
                        tokio_stream::wrappers::TcpListenerStream::new(listener).map(|accepted| {
                            accepted.inspect(|stream| {
                                let _ = stream.set_nodelay(true);
                            })
                        })
                    },
                    async {
                        let _ = stopped.await;
                    },
                );
            Ok(SinkServer {
                address,
                stop,
                task: tokio::spawn(server),
            })
        }

        pub async fn stop(self) {
            let _ = self.stop.send(());
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), self.task).await;
        }
    }
}

/// The agent as a child process: build, configure, start, observe, stop.
mod agent {
    use crate::BoxResult;
    use std::fs;
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, ExitStatus, Stdio};
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    const BINARY: &str = "genai-cost-agent";

    /// Builds the release binary (a no-op when it is fresh) and returns its path.
    pub fn build_binary() -> BoxResult<PathBuf> {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|dir| manifest_dir.join(dir))
            .unwrap_or_else(|| manifest_dir.join("target"));
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "--bin", BINARY])
            .current_dir(manifest_dir)
            .env("CARGO_TARGET_DIR", &target_dir)
            .status()
            .map_err(|err| format!("cannot run cargo build: {err}"))?;
        if !status.success() {
            return Err(format!("cargo build --release --bin {BINARY} failed: {status}").into());
        }
        Ok(target_dir.join("release").join(BINARY))
    }

    /// A port free at the time of asking, on 127.0.0.1.
    pub fn free_port() -> BoxResult<u16> {
        Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
    }

    /// A scratch directory removed on drop.
    pub struct ScratchDir(pub PathBuf);

    impl ScratchDir {
        pub fn create() -> BoxResult<ScratchDir> {
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
            let path = std::env::temp_dir().join(format!(
                "genai-cost-agent-load-{}-{nanos}",
                std::process::id()
            ));
            fs::create_dir(&path)?;
            Ok(ScratchDir(path))
        }
    }

    impl Drop for ScratchDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    pub struct Ports {
        pub grpc: u16,
        pub http: u16,
        pub telemetry: u16,
        pub sink: u16,
    }

    pub fn config_yaml(
        ports: &Ports,
        models: &[(&str, &str, [&str; 4])],
        metrics: bool,
        users: usize,
        disk_queue: Option<(&Path, &str)>,
    ) -> String {
        let queue = match disk_queue {
            Some((directory, fsync)) => format!(
                "    sending_queue:\n      storage: {}\n      fsync: {fsync}\n",
                directory.display()
            ),
            None => String::new(),
        };
        let mut prices = String::new();
        for (model, provider, [input, output, cache_read, cache_write]) in models {
            prices.push_str(&format!(
                "    - {{ id: {model}, provider: {provider}, match: [{model}], input: \"{input}\", \
                 output: \"{output}\", cache_read: \"{cache_read}\", cache_write: \"{cache_write}\" }}\n"
            ));
        }
        format!(
            "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:{grpc}\n      \
             http:\n        endpoint: 127.0.0.1:{http}\n\
             pricing:\n  currency: USD\n  models:\n{prices}\
             exporters:\n  otlp:\n    endpoint: http://127.0.0.1:{sink}\n    protocol: grpc\n    \
             compression: none\n{queue}  debug:\n    enabled: never\n\
                          metrics:\n  enabled: {metrics}\n  attribution:\n    keys: [{keys}]\n\
             service:\n  telemetry:\n    endpoint: 127.0.0.1:{telemetry}\n    logs:\n      \
             level: warn\n",
            keys = if users > 0 { "user.id" } else { "" },
            grpc = ports.grpc,
            http = ports.http,
            sink = ports.sink,
            telemetry = ports.telemetry,
        )
    }

    /// The running agent; killed on drop unless it has already exited.
    pub struct AgentProcess {
        child: Child,
        log: PathBuf,
        pub telemetry: SocketAddr,
        /// Ready when this gRPC port takes connections, for a peer without `/readyz`.
        ready_port: Option<SocketAddr>,
    }

    impl AgentProcess {
        pub fn spawn(
            binary: &Path,
            config: &Path,
            log: PathBuf,
            telemetry: u16,
        ) -> BoxResult<Self> {
            let mut command = Command::new(binary);
            command.arg("--config").arg(config);
            Self::start(command, log, telemetry, None)
        }

        /// Rotel's `rotel-agent` receiving OTLP/gRPC on `ports.grpc` and exporting to the sink.
        pub fn spawn_rotel(binary: &Path, ports: &Ports, log: PathBuf) -> BoxResult<Self> {
            let mut command = Command::new(binary);
            command
                .arg("start")
                .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{}", ports.grpc)])
                .args(["--otlp-http-endpoint", &format!("127.0.0.1:{}", ports.http)])
                .args(["--exporter", "otlp"])
                .args([
                    "--otlp-exporter-endpoint",
                    &format!("http://127.0.0.1:{}", ports.sink),
                ]);
            let grpc = SocketAddr::from(([127, 0, 0, 1], ports.grpc));
            Self::start(command, log, ports.telemetry, Some(grpc))
        }

        fn start(
            mut command: Command,
            log: PathBuf,
            telemetry: u16,
            ready_port: Option<SocketAddr>,
        ) -> BoxResult<Self> {
            command
                .stdin(Stdio::null())
                .stdout(fs::File::create(&log)?)
                .stderr(fs::File::create(&log)?);
            for (name, _) in std::env::vars_os() {
                let name_text = name.to_string_lossy();
                if name_text.starts_with("OTEL_") || name_text.starts_with("GENAI_COST_AGENT_") {
                    command.env_remove(&name);
                }
            }
            let child = command
                .spawn()
                .map_err(|err| format!("cannot start {command:?}: {err}"))?;
            Ok(AgentProcess {
                child,
                log,
                telemetry: SocketAddr::from(([127, 0, 0, 1], telemetry)),
                ready_port,
            })
        }

        pub fn pid(&self) -> u32 {
            self.child.id()
        }

        /// Waits for `GET /readyz` to answer 200.
        pub fn wait_ready(&mut self, timeout: Duration) -> BoxResult<()> {
            let deadline = Instant::now() + timeout;
            loop {
                if let Some(status) = self.child.try_wait()? {
                    return Err(format!("the agent exited during start-up: {status}").into());
                }
                let ready = match self.ready_port {
                    Some(port) => std::net::TcpStream::connect(port).is_ok(),
                    None => matches!(http_get(self.telemetry, "/readyz"), Ok((200, _))),
                };
                if ready {
                    return Ok(());
                }
                if Instant::now() >= deadline {
                    return Err("the agent did not become ready in time".into());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }

        /// SIGTERM, then waits for the exit; SIGKILL after `timeout`.
        pub fn terminate(&mut self, timeout: Duration) -> BoxResult<ExitStatus> {
            let pid = self.pid().to_string();
            Command::new("kill").args(["-TERM", &pid]).status()?;
            let deadline = Instant::now() + timeout;
            loop {
                if let Some(status) = self.child.try_wait()? {
                    return Ok(status);
                }
                if Instant::now() >= deadline {
                    self.child.kill()?;
                    return Err("the agent did not exit after SIGTERM; killed".into());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }

        /// The agent's stderr so far (warnings and errors only, at log level warn).
        pub fn log_lines(&self) -> Vec<String> {
            fs::read_to_string(&self.log)
                .map(|text| text.lines().map(strip_ansi).collect())
                .unwrap_or_default()
        }
    }

    /// A log line without terminal colour sequences (`ESC [ ... m`).
    fn strip_ansi(line: &str) -> String {
        let mut plain = String::with_capacity(line.len());
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                chars.by_ref().find(|&c| c == 'm');
            } else {
                plain.push(c);
            }
        }
        plain
    }

    impl Drop for AgentProcess {
        fn drop(&mut self) {
            if let Ok(None) = self.child.try_wait() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }

    /// User plus system CPU time of a process, from /proc/<pid>/stat.
    pub fn cpu_time(pid: u32, ticks_per_second: f64) -> BoxResult<Duration> {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // The fields after the command name, which is in parentheses: state is the first.
        let after_name = stat.rsplit_once(')').ok_or("malformed /proc/<pid>/stat")?.1;
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks = |index: usize| -> BoxResult<f64> {
            Ok(fields
                .get(index)
                .ok_or("short /proc/<pid>/stat")?
                .parse::<f64>()?)
        };
        let seconds = (ticks(11)? + ticks(12)?) / ticks_per_second;
        Ok(Duration::from_secs_f64(seconds))
    }

    /// Peak resident set size in bytes (VmHWM).
    pub fn peak_rss(pid: u32) -> BoxResult<u64> {
        let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
        let line = status
            .lines()
            .find(|line| line.starts_with("VmHWM:"))
            .ok_or("no VmHWM in /proc/<pid>/status")?;
        let kib: u64 = line
            .trim_start_matches("VmHWM:")
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?;
        Ok(kib * 1024)
    }

    /// CPU time all processors spent busy (not idle nor waiting for I/O), from /proc/stat.
    pub fn machine_busy(ticks_per_second: f64) -> BoxResult<Duration> {
        let stat = fs::read_to_string("/proc/stat")?;
        let line = stat.lines().next().ok_or("empty /proc/stat")?;
        let fields = line
            .split_whitespace()
            .skip(1)
            .map(str::parse::<f64>)
            .collect::<Result<Vec<_>, _>>()?;
        // user nice system idle iowait irq softirq steal ...
        let busy: f64 = fields
            .iter()
            .take(8)
            .enumerate()
            .filter(|(index, _)| *index != 3 && *index != 4)
            .map(|(_, ticks)| ticks)
            .sum();
        Ok(Duration::from_secs_f64(busy / ticks_per_second))
    }

    /// Clock ticks per second for /proc times: `getconf CLK_TCK`, else 100.
    pub fn clock_ticks() -> f64 {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|output| String::from_utf8(output.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    }

    /// The agent's counters from `/metrics`, without labels.
    pub fn metrics(telemetry: SocketAddr) -> BoxResult<Vec<(String, f64)>> {
        let (status, body) = http_get(telemetry, "/metrics")?;
        if status != 200 {
            return Err(format!("/metrics answered {status}").into());
        }
        Ok(body
            .lines()
            .filter(|line| line.starts_with("genai_cost_agent_") && !line.contains('{'))
            .filter_map(|line| {
                let (name, value) = line.split_once(' ')?;
                Some((name.to_owned(), value.trim().parse().ok()?))
            })
            .collect())
    }

    /// A minimal HTTP/1.1 GET: status code and body.
    fn http_get(address: SocketAddr, path: &str) -> BoxResult<(u16, String)> {
        let timeout = Duration::from_secs(2);
        let mut stream = TcpStream::connect_timeout(&address, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or("malformed HTTP response")?;
        let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        Ok((status, body.to_owned()))
    }
}

/// The clients: each connection sends one request after another until the deadline.
mod generator {
    use crate::workload::Template;
    use bytes::{Buf, BufMut, Bytes};
    use http::uri::PathAndQuery;
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
    use tonic::transport::{Channel, Endpoint};
    use tonic::{Code, Status};

    const EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    /// The pause before retrying a request the agent refused (its queue was full).
    const RETRY_PAUSE: Duration = Duration::from_millis(5);
    const ERROR_PAUSE: Duration = Duration::from_millis(50);
    const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

    /// Sends pre-encoded bytes as they are; ignores the (empty) response.
    #[derive(Clone, Copy, Default)]
    struct RawCodec;

    impl Codec for RawCodec {
        type Encode = Bytes;
        type Decode = ();
        type Encoder = RawCodec;
        type Decoder = RawCodec;
        fn encoder(&mut self) -> RawCodec {
            RawCodec
        }
        fn decoder(&mut self) -> RawCodec {
            RawCodec
        }
    }

    impl Encoder for RawCodec {
        type Item = Bytes;
        type Error = Status;
        fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
            dst.put(item);
            Ok(())
        }
    }

    impl Decoder for RawCodec {
        type Item = ();
        type Error = Status;
        fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<()>, Status> {
            src.advance(src.remaining());
            Ok(Some(()))
        }
    }

    /// What one connection did.
    #[derive(Default)]
    pub struct ConnectionReport {
        pub connection: usize,
        /// Request numbers used: 0..requests.
        pub requests: u64,
        /// Request numbers the agent did not acknowledge (given up or failed).
        pub unacked: Vec<u64>,
        pub spans_sent: u64,
        pub spans_acked: u64,
        pub llm_spans_acked: u64,
        /// UNAVAILABLE answers saying the agent's queue was full.
        pub refusals: u64,
        /// Other failures, UNAVAILABLE without the queue message included.
        pub errors: u64,
        pub last_error: Option<String>,
        pub latencies_us: Vec<u32>,
    }

    enum Outcome {
        Acked,
        NotAcked,
    }

    pub async fn connect(address: SocketAddr) -> Result<Channel, tonic::transport::Error> {
        Endpoint::from_shared(format!("http://{address}"))?
            .connect_timeout(Duration::from_secs(5))
            .timeout(REQUEST_TIMEOUT)
            .tcp_nodelay(true)
            .connect()
            .await
    }

    /// Sends requests on `channel` until `deadline`, rotating through the templates.
    pub async fn run(
        connection: usize,
        channel: Channel,
        templates: Arc<Vec<Template>>,
        spans_per_request: u64,
        users: usize,
        deadline: Instant,
    ) -> ConnectionReport {
        let mut client = tonic::client::Grpc::new(channel);
        let mut report = ConnectionReport {
            connection,
            latencies_us: Vec::with_capacity(64 * 1024),
            ..Default::default()
        };
        while Instant::now() < deadline {
            let request = report.requests;
            let template = &templates[(request as usize + connection) % templates.len()];
            let body = template.render(connection, request, users);
            report.requests += 1;
            report.spans_sent += spans_per_request;
            match send_until_answered(&mut client, body, deadline, &mut report).await {
                Outcome::Acked => {
                    report.spans_acked += spans_per_request;
                    report.llm_spans_acked += template.llm_spans;
                }
                Outcome::NotAcked => report.unacked.push(request),
            }
        }
        report
    }

    /// Sends one request, retrying after refusals until acknowledged or the deadline passes.
    async fn send_until_answered(
        client: &mut tonic::client::Grpc<Channel>,
        body: Bytes,
        deadline: Instant,
        report: &mut ConnectionReport,
    ) -> Outcome {
        loop {
            let started = Instant::now();
            match send(client, body.clone()).await {
                Ok(()) => {
                    let micros = started.elapsed().as_micros().min(u32::MAX as u128) as u32;
                    report.latencies_us.push(micros);
                    return Outcome::Acked;
                }
                Err(status) => {
                    let refused = status.code() == Code::Unavailable
                        && status.message().contains("queue is full");
                    let pause = if refused {
                        report.refusals += 1;
                        RETRY_PAUSE
                    } else {
                        report.errors += 1;
                        report.last_error =
                            Some(format!("{:?}: {}", status.code(), status.message()));
                        ERROR_PAUSE
                    };
                    let retryable = status.code() == Code::Unavailable;
                    if !retryable || Instant::now() + pause >= deadline {
                        return Outcome::NotAcked;
                    }
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    async fn send(client: &mut tonic::client::Grpc<Channel>, body: Bytes) -> Result<(), Status> {
        client
            .ready()
            .await
            .map_err(|err| Status::unavailable(format!("connection: {err}")))?;
        let path = PathAndQuery::from_static(EXPORT);
        client
            .unary(tonic::Request::new(body), path, RawCodec)
            .await
            .map(|_| ())
    }
}

/// CPU time used so far by the agent, by this process and by the whole machine.
#[derive(Clone, Copy)]
struct CpuSample {
    agent: Duration,
    bench: Duration,
    machine: Duration,
    taken: Instant,
}

/// CPU time used between two samples.
struct CpuUse {
    agent: Duration,
    /// This process: generator and sink.
    bench: Duration,
    /// Everything else running on the machine meanwhile (noise).
    others: Duration,
    window: Duration,
    cores: usize,
}

impl CpuSample {
    fn take(agent_pid: u32, ticks: f64) -> BoxResult<CpuSample> {
        Ok(CpuSample {
            agent: agent::cpu_time(agent_pid, ticks)?,
            bench: agent::cpu_time(std::process::id(), ticks)?,
            machine: agent::machine_busy(ticks)?,
            taken: Instant::now(),
        })
    }

    fn used_since(&self, earlier: &CpuSample) -> CpuUse {
        let agent = self.agent.saturating_sub(earlier.agent);
        let bench = self.bench.saturating_sub(earlier.bench);
        let machine = self.machine.saturating_sub(earlier.machine);
        CpuUse {
            agent,
            bench,
            others: machine.saturating_sub(agent + bench),
            window: self.taken - earlier.taken,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// What the sink saw, and what was acknowledged but never arrived.
struct Delivery {
    received: u64,
    distinct: u64,
    duplicates: u64,
    lost: u64,
    unacked_delivered: u64,
    foreign: u64,
    priced: u64,
    metric_points: u64,
    drain: Duration,
}

/// What the agent process reported about itself.
struct AgentReport {
    peak_rss: u64,
    metrics: Vec<(String, f64)>,
    exit: String,
    log: Vec<String>,
}

/// The figures of one run.
struct Results {
    options: options::Options,
    load: Load,
    delivery: Delivery,
    cpu: CpuUse,
    agent: AgentReport,
}

impl Results {
    fn acked(&self) -> u64 {
        self.load.sum(|report| report.spans_acked)
    }

    fn spans_per_second(&self) -> f64 {
        self.acked() as f64 / self.load.wall.as_secs_f64()
    }

    fn cpu_us_per_span(&self) -> f64 {
        self.cpu.agent.as_secs_f64() * 1e6 / self.acked().max(1) as f64
    }

    fn peak_rss_mib(&self) -> f64 {
        self.agent.peak_rss as f64 / (1024.0 * 1024.0)
    }

    fn print(&self) {
        let (o, load, d, cpu) = (&self.options, &self.load, &self.delivery, &self.cpu);
        println!("\n=== genai-cost-agent load benchmark ===");
        println!(
                        "load:      {} connections x {} spans/request, {:.0}% LLM spans, {:.1} s, derived metrics {}, {} users, queue {}",
            o.connections,
            o.spans_per_request,
            o.llm_fraction * 100.0,
            load.wall.as_secs_f64(),
            if o.metrics { "on" } else { "off" },
            o.users,
            o.disk_queue
                .as_deref()
                .map_or("in memory".to_string(), |fsync| format!("on disk (fsync {fsync})"))
        );
        println!(
            "sent:      {} requests, {} spans; acknowledged {} spans ({} LLM)",
            load.sum(|r| r.requests),
            load.sum(|r| r.spans_sent),
            self.acked(),
            load.sum(|r| r.llm_spans_acked)
        );
        println!(
            "refusals:  {} UNAVAILABLE (queue full), {} other errors",
            load.sum(|r| r.refusals),
            load.sum(|r| r.errors)
        );
        if let Some(error) = load.reports.iter().find_map(|r| r.last_error.as_ref()) {
            println!("           last error: {error}");
        }
        println!(
            "rate:      {:.0} spans/s acknowledged; request latency p50 {:.2} ms, p99 {:.2} ms",
            self.spans_per_second(),
            load.latency_percentile_ms(0.5),
            load.latency_percentile_ms(0.99)
        );
        println!(
            "agent:     {:.2} s CPU ({:.0}% of one core), {:.2} us CPU/span, peak RSS {:.1} MiB",
            cpu.agent.as_secs_f64(),
            100.0 * cpu.agent.as_secs_f64() / cpu.window.as_secs_f64(),
            self.cpu_us_per_span(),
            self.peak_rss_mib()
        );
        println!(
            "machine:   {} cores, {:.1} s window: bench (generator + sink) {:.2} s CPU, \
             other processes {:.2} s CPU",
            cpu.cores,
            cpu.window.as_secs_f64(),
            cpu.bench.as_secs_f64(),
            cpu.others.as_secs_f64()
        );
        println!(
            "sink:      {} spans received ({} distinct), {} priced, {} metric points; \
             drained in {:.2} s",
            d.received,
            d.distinct,
            d.priced,
            d.metric_points,
            d.drain.as_secs_f64()
        );
        println!(
            "delivery:  {} lost, {} duplicates, {} delivered though not acknowledged, {} foreign",
            d.lost, d.duplicates, d.unacked_delivered, d.foreign
        );
        println!("metrics:");
        for (name, value) in &self.agent.metrics {
            if *value != 0.0 && name.contains("spans") {
                println!("           {name} {value}");
            }
        }
        println!(
            "exit:      {}; {} agent log lines",
            self.agent.exit,
            self.agent.log.len()
        );
        for line in self.agent.log.iter().rev().take(10).rev() {
            println!("           | {line}");
        }
        println!("{}", self.json());
    }

    fn json(&self) -> serde_json::Value {
        let (o, load, d, cpu) = (&self.options, &self.load, &self.delivery, &self.cpu);
        let round = |value: f64, places: i32| {
            let scale = 10f64.powi(places);
            (value * scale).round() / scale
        };
        serde_json::json!({
            "bench": "load",
            "seconds": round(load.wall.as_secs_f64(), 3),
            "connections": o.connections,
            "spans_per_request": o.spans_per_request,
                        "llm_fraction": o.llm_fraction,
            "derived_metrics": o.metrics,
            "users": o.users,
            "requests": load.sum(|r| r.requests),
            "spans_sent": load.sum(|r| r.spans_sent),
            "spans_acknowledged": self.acked(),
            "llm_spans_acknowledged": load.sum(|r| r.llm_spans_acked),
            "spans_per_second": round(self.spans_per_second(), 0),
            "latency_p50_ms": load.latency_percentile_ms(0.5),
            "latency_p99_ms": load.latency_percentile_ms(0.99),
            "agent_cpu_seconds": round(cpu.agent.as_secs_f64(), 2),
            "agent_cpu_us_per_span": round(self.cpu_us_per_span(), 3),
            "agent_peak_rss_mib": round(self.peak_rss_mib(), 1),
            "bench_cpu_seconds": round(cpu.bench.as_secs_f64(), 2),
            "other_processes_cpu_seconds": round(cpu.others.as_secs_f64(), 2),
            "cores": cpu.cores,
            "spans_received": d.received,
            "spans_priced_received": d.priced,
            "metric_points_received": d.metric_points,
            "spans_lost": d.lost,
            "duplicates": d.duplicates,
            "unacknowledged_delivered": d.unacked_delivered,
            "unavailable_refusals": load.sum(|r| r.refusals),
            "errors": load.sum(|r| r.errors),
            "drain_seconds": round(d.drain.as_secs_f64(), 3),
            "agent_exit": self.agent.exit,
        })
    }
}

/// Generator totals merged over connections.
struct Load {
    wall: Duration,
    reports: Vec<generator::ConnectionReport>,
}

impl Load {
    fn sum(&self, field: impl Fn(&generator::ConnectionReport) -> u64) -> u64 {
        self.reports.iter().map(field).sum()
    }

    fn latency_percentile_ms(&self, quantile: f64) -> f64 {
        let mut all: Vec<u32> = self
            .reports
            .iter()
            .flat_map(|report| report.latencies_us.iter().copied())
            .collect();
        if all.is_empty() {
            return 0.0;
        }
        all.sort_unstable();
        let index = ((all.len() - 1) as f64 * quantile).round() as usize;
        f64::from(all[index]) / 1000.0
    }
}

/// Acknowledged spans the sink has not received.
fn missing(ledger: &sink::Ledger, load: &Load, spans_per_request: usize) -> u64 {
    let mut missing = 0;
    for report in &load.reports {
        for request in 0..report.requests {
            if report.unacked.binary_search(&request).is_ok() {
                continue;
            }
            missing += (0..spans_per_request)
                .filter(|&index| !ledger.contains(report.connection, request, index))
                .count() as u64;
        }
    }
    missing
}

/// Waits (at most [`DRAIN_TIMEOUT`]) until every acknowledged span reached the sink; returns
/// how long that took.
fn drain(ledger: &Mutex<sink::Ledger>, load: &Load, spans_per_request: usize) -> Duration {
    let started = Instant::now();
    let acked = load.sum(|report| report.spans_acked);
    loop {
        let ledger = ledger.lock().expect("ledger lock");
        let timed_out = started.elapsed() >= DRAIN_TIMEOUT;
        if (ledger.distinct >= acked && missing(&ledger, load, spans_per_request) == 0) || timed_out
        {
            return started.elapsed();
        }
        drop(ledger);
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Delivery {
    /// The sink's final figures, read once the agent has exited (so that its shutdown flush,
    /// late retries and derived metrics are included).
    fn settle(
        ledger: &sink::Ledger,
        load: &Load,
        spans_per_request: usize,
        drain: Duration,
    ) -> Self {
        let lost = missing(ledger, load, spans_per_request);
        let acked = load.sum(|report| report.spans_acked);
        Delivery {
            received: ledger.received,
            distinct: ledger.distinct,
            duplicates: ledger.duplicates,
            lost,
            unacked_delivered: (ledger.distinct + lost).saturating_sub(acked),
            foreign: ledger.foreign,
            priced: ledger.priced,
            metric_points: ledger.metric_points,
            drain,
        }
    }
}

async fn generate(
    options: &options::Options,
    agent: std::net::SocketAddr,
    templates: Arc<Vec<workload::Template>>,
) -> BoxResult<Load> {
    let mut channels = Vec::new();
    for _ in 0..options.connections {
        channels.push(generator::connect(agent).await?);
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(options.seconds);
    let tasks: Vec<_> = channels
        .into_iter()
        .enumerate()
        .map(|(connection, channel)| {
            let templates = templates.clone();
            let spans = options.spans_per_request as u64;
            tokio::spawn(generator::run(
                connection,
                channel,
                templates,
                spans,
                options.users,
                deadline,
            ))
        })
        .collect();
    let mut reports = Vec::new();
    for task in tasks {
        reports.push(task.await?);
    }
    Ok(Load {
        wall: started.elapsed(),
        reports,
    })
}

/// Builds and starts the agent, exporting to the sink on `sink_port`; returns it ready, with
/// its gRPC receiver's address. The scratch directory must outlive the process.
fn launch_agent(
    scratch: &agent::ScratchDir,
    sink_port: u16,
    options: &options::Options,
) -> BoxResult<(agent::AgentProcess, std::net::SocketAddr)> {
    let ports = agent::Ports {
        grpc: agent::free_port()?,
        http: agent::free_port()?,
        telemetry: agent::free_port()?,
        sink: sink_port,
    };
    let log = scratch.0.join("agent.log");
    if let Some(rotel) = &options.rotel {
        let mut process = agent::AgentProcess::spawn_rotel(rotel, &ports, log)?;
        process.wait_ready(PROCESS_TIMEOUT)?;
        let grpc = std::net::SocketAddr::from(([127, 0, 0, 1], ports.grpc));
        return Ok((process, grpc));
    }
    let binary = match &options.agent {
        Some(path) => path.clone(),
        None => agent::build_binary()?,
    };
    let config = scratch.0.join("config.yaml");
    std::fs::write(
        &config,
        agent::config_yaml(
            &ports,
            &workload::MODELS,
            options.metrics,
            options.users,
            options
                .disk_queue
                .as_deref()
                .map(|fsync| (scratch.0.join("queue"), fsync))
                .as_ref()
                .map(|(directory, fsync)| (directory.as_path(), *fsync)),
        ),
    )?;
    let mut process = agent::AgentProcess::spawn(&binary, &config, log, ports.telemetry)?;
    if let Err(err) = process.wait_ready(PROCESS_TIMEOUT) {
        return Err(format!("{err}\nagent log:\n{}", process.log_lines().join("\n")).into());
    }
    Ok((
        process,
        std::net::SocketAddr::from(([127, 0, 0, 1], ports.grpc)),
    ))
}

/// Reads what the agent says about itself, then stops it with SIGTERM.
fn finish_agent(mut process: agent::AgentProcess) -> BoxResult<AgentReport> {
    let peak_rss = agent::peak_rss(process.pid())?;
    let metrics = agent::metrics(process.telemetry).unwrap_or_else(|err| {
        eprintln!("warning: cannot read /metrics: {err}");
        Vec::new()
    });
    let exit = match process.terminate(PROCESS_TIMEOUT) {
        Ok(status) => status.to_string(),
        Err(err) => err.to_string(),
    };
    Ok(AgentReport {
        peak_rss,
        metrics,
        exit,
        log: process.log_lines(),
    })
}

fn run(options: options::Options) -> BoxResult<Results> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let templates: Arc<Vec<_>> = Arc::new(
        (0..workload::SERVICES.len())
            .map(|variant| {
                workload::Template::build(
                    variant,
                    options.spans_per_request,
                    options.llm_fraction,
                    options.users > 0,
                )
            })
            .collect(),
    );
    let ledger = Arc::new(Mutex::new(sink::Ledger::new(
        options.connections,
        options.spans_per_request,
    )));
    let sink = runtime.block_on(sink::SinkServer::start(ledger.clone()))?;
    let scratch = agent::ScratchDir::create()?;
    let (process, grpc) = launch_agent(&scratch, sink.address.port(), &options)?;
    eprintln!(
        "agent pid {} ready (gRPC {grpc}, sink {}); loading for {} s...",
        process.pid(),
        sink.address,
        options.seconds
    );

    let ticks = agent::clock_ticks();
    let before = CpuSample::take(process.pid(), ticks)?;
    let load = runtime.block_on(generate(&options, grpc, templates))?;
    let drain_time = drain(&ledger, &load, options.spans_per_request);
    let cpu = CpuSample::take(process.pid(), ticks)?.used_since(&before);
    let agent = finish_agent(process)?;
    runtime.block_on(sink.stop());
    let ledger = ledger.lock().expect("ledger lock");
    let delivery = Delivery::settle(&ledger, &load, options.spans_per_request, drain_time);
    Ok(Results {
        options,
        load,
        delivery,
        cpu,
        agent,
    })
}

fn main() -> ExitCode {
    let options = match options::Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    match run(options) {
        Ok(results) => {
            results.print();
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("load benchmark failed: {err}");
            ExitCode::FAILURE
        }
    }
}
