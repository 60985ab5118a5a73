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
//!
//! With `--rotel PATH` Rotel's `rotel-agent` (a plain OTLP pass-through collector) takes the
//! agent's place; with `--pairs N` as well, the agent and Rotel alternate for N pairs of runs under
//! the same load, and a summary gives each side's medians and the ratios between them.

use std::error::Error;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type BoxResult<T> = Result<T, Box<dyn Error>>;

/// How long the sink may take to receive everything the agent acknowledged.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the agent may take to start, and to exit after SIGTERM.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(30);

mod options {
    /// The command line: `--seconds`, `--connections`, `--spans-per-request`, `--llm-fraction`,
    /// `--metrics`, `--page`, `--users`, `--rate`, `--queue`, `--agent`, `--rotel`, `--pairs`.
    #[derive(Debug, Clone)]
    pub struct Options {
        pub seconds: f64,
        pub connections: usize,
        pub spans_per_request: usize,
        pub llm_fraction: f64,
        /// Derived metrics on (default) or off.
        pub metrics: bool,
        /// The live page on, or off (default).
        pub page: bool,
        /// Distinct `user.id` values on LLM spans (0: no attribution attributes). With users, LLM
        /// spans also carry `team` and `feature`, and the three are the agent's attribution keys.
        pub users: usize,
        /// Spans per second offered, spread evenly over the connections; `None`: each connection
        /// sends its next request as soon as the last is acknowledged (the most the subject
        /// takes). A fixed rate offers two subjects the very same load.
        pub rate: Option<f64>,
        /// The exporter's queue on disk, with this fsync policy (`always`, `interval`, `never`);
        /// `None`: in memory.
        pub disk_queue: Option<String>,
        /// An agent binary to run instead of this tree's release build (an A/B against an
        /// earlier build, in the same run).
        pub agent: Option<std::path::PathBuf>,
        /// Run Rotel's `rotel-agent` (a plain OTLP pass-through) at this path instead, as the
        /// baseline a collector of the same family costs.
        pub rotel: Option<std::path::PathBuf>,
        /// Alternate the agent and Rotel (`--rotel` required) for this many pairs of runs.
        pub pairs: Option<usize>,
    }

    const USAGE: &str = "usage: load [--seconds S] [--connections N] \
                         [--spans-per-request M] [--llm-fraction F] [--metrics on|off] [--page on|off] [--users N] \
                         [--rate SPANS_PER_SECOND] [--queue memory|disk-always|disk-interval|disk-never] [--agent PATH] \
                         [--rotel PATH [--pairs N]]";

    impl Options {
        pub fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
            let mut options = Options {
                seconds: 10.0,
                connections: 4,
                spans_per_request: 100,
                llm_fraction: 0.2,
                metrics: true,
                page: false,
                users: 0,
                rate: None,
                disk_queue: None,
                agent: None,
                rotel: None,
                pairs: None,
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
                    "--page" => {
                        options.page = match value.as_str() {
                            "on" => true,
                            "off" => false,
                            _ => return Err(bad()),
                        }
                    }
                    "--users" => options.users = value.parse().map_err(|_| bad())?,
                    "--rate" => options.rate = Some(value.parse().map_err(|_| bad())?),
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
                    "--pairs" => options.pairs = Some(value.parse().map_err(|_| bad())?),
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
            if self.rate.is_some_and(|rate| !(1.0..=1e8).contains(&rate)) {
                return Err("--rate must be in [1, 1e8] spans per second".into());
            }
            if self.users > 99_999 {
                return Err("--users must be at most 99999".into());
            }
            if let Some(pairs) = self.pairs {
                if !(1..=100).contains(&pairs) {
                    return Err("--pairs must be in 1..=100".into());
                }
                if self.rotel.is_none() {
                    return Err("--pairs needs --rotel PATH".into());
                }
            }
            Ok(())
        }
    }
}

/// Span ids and the pre-encoded requests the generator sends.
///
/// Every send gets fresh ids: a span id encodes connection, request number and position, and a
/// trace id begins with its root span's id, so no two requests share a trace.
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

    /// Distinct `team` values on LLM spans; a user always belongs to the same team.
    pub const TEAMS: usize = 20;
    /// Distinct `feature` values on LLM spans.
    pub const FEATURES: usize = 50;
    /// The attribution attributes of LLM spans, in their order on the span, each with the value
    /// it has in a template: a placeholder whose last [`DIGITS`] digits are set per request.
    const ATTRIBUTION: [(&str, &str); 3] = [
        ("user.id", "user-00000"),
        ("team", "team-00000"),
        ("feature", "feature-00000"),
    ];
    /// Digits of an attribution value that change per request.
    const DIGITS: usize = 5;

    /// The attribution keys LLM spans carry (when there are users).
    pub fn attribution_keys() -> Vec<&'static str> {
        ATTRIBUTION.iter().map(|(key, _)| *key).collect()
    }

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
        /// Per LLM span, byte offsets of the digits of its `user.id`, `team` and `feature`.
        attribution_patches: Vec<[usize; 3]>,
        pub llm_spans: u64,
    }

    impl Template {
        pub fn build(
            variant: usize,
            spans: usize,
            llm_fraction: f64,
            with_attribution: bool,
        ) -> Template {
            let mut llm_spans = 0;
            let spans: Vec<Span> = (0..spans)
                .map(|index| {
                    if is_llm(index + variant * 7, llm_fraction) {
                        llm_spans += 1;
                        let mut span = llm_span(index);
                        if with_attribution {
                            let attribution = ATTRIBUTION.iter();
                            span.attributes
                                .extend(attribution.map(|(key, value)| text(key, value)));
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
            let attribution_patches = attribution_offsets(&bytes);
            assert_eq!(
                attribution_patches.len(),
                if with_attribution { llm_spans } else { 0 } as usize,
                "placeholder attribution values not found in the encoding"
            );
            Template {
                bytes: bytes.into(),
                patches,
                attribution_patches,
                llm_spans,
            }
        }

        /// The request with the real ids of `connection`'s request number `request`, and its
        /// LLM spans' attribution values drawn from `users` users.
        pub fn render(&self, connection: usize, request: u64, users: usize) -> Bytes {
            let mut bytes = BytesMut::from(&self.bytes[..]);
            for &(offset, index) in &self.patches {
                let id = span_id(connection, request, index).to_be_bytes();
                bytes[offset..offset + 8].copy_from_slice(&id);
            }
            if users > 0 {
                for (position, offsets) in self.attribution_patches.iter().enumerate() {
                    let values = attribution_values(users, connection, request, position);
                    for (&offset, value) in offsets.iter().zip(values) {
                        write_digits(&mut bytes[offset..offset + DIGITS], value);
                    }
                }
            }
            bytes.freeze()
        }
    }

    /// The user, team and feature numbers of the `position`th LLM span of a request: users
    /// spread over requests and connections, a user's team fixed, the feature varying per call.
    fn attribution_values(
        users: usize,
        connection: usize,
        request: u64,
        position: usize,
    ) -> [usize; 3] {
        let request = request as usize;
        let user = (request * 131 + position * 17 + connection * 7919) % users;
        let feature = (request * 7 + position * 3 + user) % FEATURES;
        [user, user % TEAMS, feature]
    }

    /// `value` in decimal, zero-padded to fill `digits` (the high digits dropped if it is longer).
    fn write_digits(digits: &mut [u8], mut value: usize) {
        for digit in digits.iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }

    /// Per LLM span (in encoding order), the offsets of the changing digits of its attribution
    /// values.
    fn attribution_offsets(bytes: &[u8]) -> Vec<[usize; 3]> {
        let [users, teams, features] =
            ATTRIBUTION.map(|(_, placeholder)| digit_offsets(bytes, placeholder));
        assert!(
            users.len() == teams.len() && teams.len() == features.len(),
            "every LLM span carries all attribution attributes"
        );
        users
            .into_iter()
            .zip(teams)
            .zip(features)
            .map(|((user, team), feature)| [user, team, feature])
            .collect()
    }

    /// Offsets of the last [`DIGITS`] bytes of every occurrence of `placeholder`.
    fn digit_offsets(bytes: &[u8], placeholder: &str) -> Vec<usize> {
        bytes
            .windows(placeholder.len())
            .enumerate()
            .filter(|(_, window)| *window == placeholder.as_bytes())
            .map(|(offset, _)| offset + placeholder.len() - DIGITS)
            .collect()
    }

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
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
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

    /// The fields of a trace export request the sink reads: span ids and attribute keys.
    /// prost skips every other field, so the sink's own CPU stays small beside the process
    /// under test (a full decode of every enriched span made the sink the slowest part of the
    /// machine, and the subject's queue filled behind it).
    mod lean {
        use bytes::Bytes;

        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Request {
            #[prost(message, repeated, tag = "1")]
            pub resource_spans: Vec<ResourceSpans>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct ResourceSpans {
            #[prost(message, repeated, tag = "2")]
            pub scope_spans: Vec<ScopeSpans>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct ScopeSpans {
            #[prost(message, repeated, tag = "2")]
            pub spans: Vec<Span>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Span {
            #[prost(bytes = "bytes", tag = "2")]
            pub span_id: Bytes,
            #[prost(message, repeated, tag = "9")]
            pub attributes: Vec<KeyValue>,
        }
        /// The key only (a string on the wire; read as bytes, without a copy).
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct KeyValue {
            #[prost(bytes = "bytes", tag = "1")]
            pub key: Bytes,
        }
    }

    /// `TraceService/Export`, decoding requests as [`lean::Request`].
    #[derive(Clone)]
    struct TraceSink {
        ledger: Arc<Mutex<Ledger>>,
    }

    impl tonic::server::NamedService for TraceSink {
        const NAME: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
    }

    impl<B> tower::Service<http::Request<B>> for TraceSink
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
    {
        type Response = http::Response<tonic::body::Body>;
        type Error = std::convert::Infallible;
        type Future = std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
        >;

        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Self::Error>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: http::Request<B>) -> Self::Future {
            let export = Export(self.ledger.clone());
            Box::pin(async move {
                let codec =
                    tonic_prost::ProstCodec::<ExportTraceServiceResponse, lean::Request>::default();
                let mut grpc = tonic::server::Grpc::new(codec)
                    .accept_compressed(CompressionEncoding::Gzip)
                    .max_decoding_message_size(256 << 20);
                Ok(grpc.unary(export, request).await)
            })
        }
    }

    struct Export(Arc<Mutex<Ledger>>);

    impl tonic::server::UnaryService<lean::Request> for Export {
        type Response = ExportTraceServiceResponse;
        type Future = std::future::Ready<Result<Response<Self::Response>, Status>>;

        fn call(&mut self, request: Request<lean::Request>) -> Self::Future {
            let request = request.into_inner();
            let spans = request
                .resource_spans
                .iter()
                .flat_map(|resource| &resource.scope_spans)
                .flat_map(|scope| &scope.spans);
            let mut ids = Vec::with_capacity(1024);
            let mut priced = 0;
            for span in spans {
                let id = <[u8; 8]>::try_from(&span.span_id[..]).map_or(0, u64::from_be_bytes);
                ids.push(id);
                priced += u64::from(
                    span.attributes
                        .iter()
                        .any(|kv| kv.key == COST_AMOUNT.as_bytes()),
                );
            }
            let mut ledger = self.0.lock().expect("ledger lock");
            ledger.requests += 1;
            ledger.priced += priced;
            for id in ids {
                ledger.record(id);
            }
            std::future::ready(Ok(Response::new(ExportTraceServiceResponse::default())))
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
            let traces = TraceSink {
                ledger: ledger.clone(),
            };
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

    /// The first line `binary --version` prints, else `version unknown`.
    pub fn version(binary: &Path) -> String {
        Command::new(binary)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .ok()
            .and_then(|output| String::from_utf8(output.stdout).ok())
            .and_then(|text| text.lines().next().map(str::to_owned))
            .unwrap_or_else(|| "version unknown".into())
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

    /// The agent's config: receivers on `ports`, the `models`' prices, derived metrics with these
    /// attribution keys (or off), the live page on or off, the exporter to the sink with its
    /// queue in memory or on disk.
    pub fn config_yaml(
        ports: &Ports,
        models: &[(&str, &str, [&str; 4])],
        metrics: bool,
        page: bool,
        attribution_keys: &[&str],
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
             level: warn\n    page:\n      enabled: {page}\n",
            keys = attribution_keys.join(", "),
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
                let configures = ["OTEL_", "GENAI_COST_AGENT_", "ROTEL_"];
                if configures
                    .iter()
                    .any(|prefix| name_text.starts_with(prefix))
                {
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
        pace: Option<Duration>,
        deadline: Instant,
    ) -> ConnectionReport {
        let mut client = tonic::client::Grpc::new(channel);
        let mut report = ConnectionReport {
            connection,
            latencies_us: Vec::with_capacity(64 * 1024),
            ..Default::default()
        };
        let started = tokio::time::Instant::now();
        while Instant::now() < deadline {
            let request = report.requests;
            if let Some(pace) = pace {
                // On schedule whatever the last answer took: a late request goes at once.
                tokio::time::sleep_until(started + pace * request as u32).await;
                if Instant::now() >= deadline {
                    break;
                }
            }
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
    subject: Subject,
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

    /// The figures the pairs' summary compares.
    fn figures(&self) -> Figures {
        Figures {
            cpu_us_per_span: self.cpu_us_per_span(),
            spans_per_cpu_second: self.acked() as f64 / self.cpu.agent.as_secs_f64().max(1e-9),
            peak_rss_mib: self.peak_rss_mib(),
            p50_ms: self.load.latency_percentile_ms(0.5),
            p99_ms: self.load.latency_percentile_ms(0.99),
            spans_per_second: self.spans_per_second(),
            lost: self.delivery.lost,
            duplicates: self.delivery.duplicates,
        }
    }

    fn print(&self) {
        let (o, load, d, cpu) = (&self.options, &self.load, &self.delivery, &self.cpu);
        let queue = match o.disk_queue.as_deref() {
            Some(fsync) => format!("on disk (fsync {fsync})"),
            None => "in memory".into(),
        };
        println!("\n=== load benchmark: {} ===", self.subject.name());
        println!(
            "load:      {} connections x {} spans/request ({}), {:.0}% LLM spans, {:.1} s, \
             derived metrics {}, live page {}, {} users, queue {}",
            o.connections,
            o.spans_per_request,
            offered(o),
            o.llm_fraction * 100.0,
            load.wall.as_secs_f64(),
            if o.metrics { "on" } else { "off" },
            if o.page { "on" } else { "off" },
            o.users,
            queue
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
        serde_json::json!({
            "bench": "load",
            "subject": self.subject.name(),
            "seconds": round(load.wall.as_secs_f64(), 3),
            "connections": o.connections,
            "spans_per_request": o.spans_per_request,
            "llm_fraction": o.llm_fraction,
            "offered_spans_per_second": o.rate,
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

/// One run's figures, as the pairs' summary takes medians of them.
#[derive(Clone, Copy)]
struct Figures {
    cpu_us_per_span: f64,
    spans_per_cpu_second: f64,
    peak_rss_mib: f64,
    p50_ms: f64,
    p99_ms: f64,
    spans_per_second: f64,
    lost: u64,
    duplicates: u64,
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
    // Each connection's interval between requests at the offered rate.
    let pace = options.rate.map(|rate| {
        Duration::from_secs_f64(
            options.spans_per_request as f64 * options.connections as f64 / rate,
        )
    });
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
                pace,
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

/// The offered load in words: a fixed rate, or as fast as acknowledged.
fn offered(options: &options::Options) -> String {
    match options.rate {
        Some(rate) => format!("{rate:.0} spans/s offered"),
        None => "each sent when the last is acknowledged".into(),
    }
}

/// The process under test, between the generator and the sink.
#[derive(Debug, Clone)]
enum Subject {
    /// genai-cost-agent: this binary, with a generated config.
    Agent(PathBuf),
    /// Rotel's `rotel-agent`: a plain OTLP pass-through, the baseline.
    Rotel(PathBuf),
}

impl Subject {
    /// `--agent PATH`, else this tree's release build (built when stale).
    fn agent(options: &options::Options) -> BoxResult<Subject> {
        let binary = match &options.agent {
            Some(path) => path.clone(),
            None => agent::build_binary()?,
        };
        Ok(Subject::Agent(binary))
    }

    /// The one process a run without `--pairs` measures: Rotel when given, else the agent.
    fn single(options: &options::Options) -> BoxResult<Subject> {
        match &options.rotel {
            Some(path) => Ok(Subject::Rotel(path.clone())),
            None => Subject::agent(options),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Subject::Agent(_) => "genai-cost-agent",
            Subject::Rotel(_) => "rotel",
        }
    }

    fn binary(&self) -> &Path {
        match self {
            Subject::Agent(binary) | Subject::Rotel(binary) => binary,
        }
    }

    /// Starts the process, exporting to the sink on `sink_port`; returns it ready, with its
    /// gRPC receiver's address. The scratch directory must outlive the process.
    fn launch(
        &self,
        scratch: &agent::ScratchDir,
        sink_port: u16,
        options: &options::Options,
    ) -> BoxResult<(agent::AgentProcess, SocketAddr)> {
        let ports = agent::Ports {
            grpc: agent::free_port()?,
            http: agent::free_port()?,
            telemetry: agent::free_port()?,
            sink: sink_port,
        };
        let log = scratch.0.join("agent.log");
        let mut process = match self {
            Subject::Rotel(binary) => agent::AgentProcess::spawn_rotel(binary, &ports, log)?,
            Subject::Agent(binary) => {
                let config = write_config(scratch, &ports, options)?;
                agent::AgentProcess::spawn(binary, &config, log, ports.telemetry)?
            }
        };
        if let Err(err) = process.wait_ready(PROCESS_TIMEOUT) {
            let log = process.log_lines().join("\n");
            return Err(format!("{}: {err}\nlog:\n{log}", self.name()).into());
        }
        Ok((process, SocketAddr::from(([127, 0, 0, 1], ports.grpc))))
    }

    /// Reads what the process says about itself (the agent's `/metrics`), then stops it with
    /// SIGTERM.
    fn finish(&self, mut process: agent::AgentProcess) -> BoxResult<AgentReport> {
        let peak_rss = agent::peak_rss(process.pid())?;
        let metrics = match self {
            Subject::Rotel(_) => Vec::new(),
            Subject::Agent(_) => agent::metrics(process.telemetry).unwrap_or_else(|err| {
                eprintln!("warning: cannot read /metrics: {err}");
                Vec::new()
            }),
        };
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
}

/// Writes the agent's config for this run into the scratch directory; returns its path.
fn write_config(
    scratch: &agent::ScratchDir,
    ports: &agent::Ports,
    options: &options::Options,
) -> BoxResult<PathBuf> {
    let keys = if options.users > 0 {
        workload::attribution_keys()
    } else {
        Vec::new()
    };
    let queue = options
        .disk_queue
        .as_deref()
        .map(|fsync| (scratch.0.join("queue"), fsync));
    let yaml = agent::config_yaml(
        ports,
        &workload::MODELS,
        options.metrics,
        options.page,
        &keys,
        queue
            .as_ref()
            .map(|(directory, fsync)| (directory.as_path(), *fsync)),
    );
    let path = scratch.0.join("config.yaml");
    std::fs::write(&path, yaml)?;
    Ok(path)
}

/// What every run shares: the options, the runtime the generator and the sink run on, and the
/// request templates.
struct Bench {
    options: options::Options,
    runtime: tokio::runtime::Runtime,
    templates: Arc<Vec<workload::Template>>,
}

impl Bench {
    fn new(options: options::Options) -> BoxResult<Bench> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let templates = (0..workload::SERVICES.len())
            .map(|variant| {
                workload::Template::build(
                    variant,
                    options.spans_per_request,
                    options.llm_fraction,
                    options.users > 0,
                )
            })
            .collect();
        Ok(Bench {
            options,
            runtime,
            templates: Arc::new(templates),
        })
    }

    /// One run: a fresh sink and a fresh `subject` process, the load, the drain, the figures.
    fn run(&self, subject: &Subject) -> BoxResult<Results> {
        let options = &self.options;
        let ledger = Arc::new(Mutex::new(sink::Ledger::new(
            options.connections,
            options.spans_per_request,
        )));
        let sink = self
            .runtime
            .block_on(sink::SinkServer::start(ledger.clone()))?;
        let scratch = agent::ScratchDir::create()?;
        let (process, grpc) = subject.launch(&scratch, sink.address.port(), options)?;
        eprintln!(
            "{} pid {} ready (gRPC {grpc}, sink {}); loading for {} s...",
            subject.name(),
            process.pid(),
            sink.address,
            options.seconds
        );

        let ticks = agent::clock_ticks();
        let before = CpuSample::take(process.pid(), ticks)?;
        let load = self
            .runtime
            .block_on(generate(options, grpc, self.templates.clone()))?;
        let drain_time = drain(&ledger, &load, options.spans_per_request);
        let cpu = CpuSample::take(process.pid(), ticks)?.used_since(&before);
        let agent = subject.finish(process)?;
        self.runtime.block_on(sink.stop());
        let ledger = ledger.lock().expect("ledger lock");
        let delivery = Delivery::settle(&ledger, &load, options.spans_per_request, drain_time);
        Ok(Results {
            subject: subject.clone(),
            options: options.clone(),
            load,
            delivery,
            cpu,
            agent,
        })
    }
}

/// `--pairs N`: the agent and Rotel alternating under the same load, then each side's medians
/// and the ratios agent ÷ Rotel.
mod pairs {
    use crate::{median, round, Bench, BoxResult, Figures, Results, Subject};

    /// Runs agent, Rotel, agent, Rotel… for `pairs` pairs, printing each run's line as it ends,
    /// then the summary table and its JSON line.
    pub fn run(bench: &Bench, pairs: usize, agent: Subject, rotel: Subject) -> BoxResult<()> {
        let mut figures = Vec::with_capacity(pairs);
        for pair in 1..=pairs {
            let ours = run_one(bench, &agent, pair, pairs)?;
            let theirs = run_one(bench, &rotel, pair, pairs)?;
            figures.push((ours, theirs));
        }
        let summary = Summary::of(&figures);
        summary.print(bench, &agent, &rotel);
        println!("{}", summary.json(bench));
        Ok(())
    }

    fn run_one(bench: &Bench, subject: &Subject, pair: usize, pairs: usize) -> BoxResult<Figures> {
        let results = bench.run(subject)?;
        print_run(pair, pairs, &results);
        Ok(results.figures())
    }

    /// One line for a run of a pair, then the run's JSON line (with `pair`).
    fn print_run(pair: usize, pairs: usize, results: &Results) {
        let f = results.figures();
        println!(
            "pair {pair}/{pairs} {:<16} {:.2} us CPU/span ({:.0} spans/CPU-s), {:.0} spans/s, \
             peak RSS {:.1} MiB, p50 {:.2} ms, p99 {:.2} ms, {} lost, {} duplicated, \
             {} refusals, {} errors, other processes {:.2} s CPU; {}",
            results.subject.name(),
            f.cpu_us_per_span,
            f.spans_per_cpu_second,
            f.spans_per_second,
            f.peak_rss_mib,
            f.p50_ms,
            f.p99_ms,
            f.lost,
            f.duplicates,
            results.load.sum(|r| r.refusals),
            results.load.sum(|r| r.errors),
            results.cpu.others.as_secs_f64(),
            results.agent.exit,
        );
        let mut json = results.json();
        json["pair"] = pair.into();
        println!("{json}");
    }

    /// One side's medians over its runs, and its delivery totals.
    struct Side {
        cpu_us_per_span: f64,
        spans_per_cpu_second: f64,
        peak_rss_mib: f64,
        p50_ms: f64,
        p99_ms: f64,
        spans_per_second: f64,
        lost: u64,
        duplicates: u64,
    }

    impl Side {
        fn of(runs: &[Figures]) -> Side {
            let median_of = |field: fn(&Figures) -> f64| median(runs.iter().map(field).collect());
            Side {
                cpu_us_per_span: median_of(|f| f.cpu_us_per_span),
                spans_per_cpu_second: median_of(|f| f.spans_per_cpu_second),
                peak_rss_mib: median_of(|f| f.peak_rss_mib),
                p50_ms: median_of(|f| f.p50_ms),
                p99_ms: median_of(|f| f.p99_ms),
                spans_per_second: median_of(|f| f.spans_per_second),
                lost: runs.iter().map(|f| f.lost).sum(),
                duplicates: runs.iter().map(|f| f.duplicates).sum(),
            }
        }

        fn print_row(&self, name: &str) {
            println!(
                "{name:<18} {:>11.2} {:>12.0} {:>13.1} {:>8.2} {:>8.2} {:>9.0} {:>6} {:>10}",
                self.cpu_us_per_span,
                self.spans_per_cpu_second,
                self.peak_rss_mib,
                self.p50_ms,
                self.p99_ms,
                self.spans_per_second,
                self.lost,
                self.duplicates
            );
        }

        fn json(&self) -> serde_json::Value {
            serde_json::json!({
                "cpu_us_per_span": round(self.cpu_us_per_span, 3),
                "spans_per_cpu_second": round(self.spans_per_cpu_second, 0),
                "peak_rss_mib": round(self.peak_rss_mib, 1),
                "latency_p50_ms": round(self.p50_ms, 3),
                "latency_p99_ms": round(self.p99_ms, 3),
                "spans_per_second": round(self.spans_per_second, 0),
                "spans_lost": self.lost,
                "duplicates": self.duplicates,
            })
        }
    }

    /// Both sides, and how the agent compares.
    struct Summary {
        pairs: usize,
        agent: Side,
        rotel: Side,
        /// Agent ÷ Rotel CPU per span, pair by pair.
        pair_cpu_ratios: Vec<f64>,
    }

    impl Summary {
        fn of(figures: &[(Figures, Figures)]) -> Summary {
            let (agent, rotel): (Vec<Figures>, Vec<Figures>) = figures.iter().copied().unzip();
            Summary {
                pairs: figures.len(),
                agent: Side::of(&agent),
                rotel: Side::of(&rotel),
                pair_cpu_ratios: figures
                    .iter()
                    .map(|(agent, rotel)| agent.cpu_us_per_span / rotel.cpu_us_per_span)
                    .collect(),
            }
        }

        /// Agent ÷ Rotel of the medians: CPU per span, peak RSS, p99 latency.
        fn ratios(&self) -> [f64; 3] {
            let (a, r) = (&self.agent, &self.rotel);
            [
                a.cpu_us_per_span / r.cpu_us_per_span,
                a.peak_rss_mib / r.peak_rss_mib,
                a.p99_ms / r.p99_ms,
            ]
        }

        fn print(&self, bench: &Bench, agent: &Subject, rotel: &Subject) {
            let o = &bench.options;
            println!(
                "\n=== genai-cost-agent vs Rotel: medians of {} alternating pairs ===",
                self.pairs
            );
            println!(
                "{:<18} {} connections x {} spans/request ({}), {:.0}% LLM spans, {} s a run, \
                 derived metrics {}, live page {}, {} users",
                "load:",
                o.connections,
                o.spans_per_request,
                crate::offered(o),
                o.llm_fraction * 100.0,
                o.seconds,
                if o.metrics { "on" } else { "off" },
                if o.page { "on" } else { "off" },
                o.users
            );
            for subject in [agent, rotel] {
                println!(
                    "{:<18} {} ({})",
                    format!("{}:", subject.name()),
                    subject.binary().display(),
                    crate::agent::version(subject.binary())
                );
            }
            println!(
                "{:<18} {:>11} {:>12} {:>13} {:>8} {:>8} {:>9} {:>6} {:>10}",
                "",
                "CPU us/span",
                "spans/CPU-s",
                "peak RSS MiB",
                "p50 ms",
                "p99 ms",
                "spans/s",
                "lost",
                "duplicated"
            );
            self.agent.print_row(agent.name());
            self.rotel.print_row(rotel.name());
            let [cpu, rss, p99] = self.ratios();
            println!(
                "{:<18} {:>10.2}x {:>12} {:>12.2}x {:>8} {:>7.2}x",
                "agent / rotel", cpu, "", rss, "", p99
            );
            let per_pair: Vec<String> = self
                .pair_cpu_ratios
                .iter()
                .map(|ratio| format!("{ratio:.2}"))
                .collect();
            println!(
                "CPU/span agent / rotel, pair by pair: {}",
                per_pair.join(", ")
            );
        }

        fn json(&self, bench: &Bench) -> serde_json::Value {
            let o = &bench.options;
            let [cpu, rss, p99] = self.ratios();
            serde_json::json!({
                "bench": "load-pairs",
                "pairs": self.pairs,
                "seconds_per_run": o.seconds,
                "connections": o.connections,
                "spans_per_request": o.spans_per_request,
                "llm_fraction": o.llm_fraction,
            "offered_spans_per_second": o.rate,
                "derived_metrics": o.metrics,
                "users": o.users,
                "genai_cost_agent": self.agent.json(),
                "rotel": self.rotel.json(),
                "ratios_agent_over_rotel": {
                    "cpu_us_per_span": round(cpu, 3),
                    "peak_rss": round(rss, 3),
                    "latency_p99": round(p99, 3),
                },
                "pair_cpu_ratios": self.pair_cpu_ratios.iter().map(|ratio| round(*ratio, 3))
                    .collect::<Vec<_>>(),
            })
        }
    }
}

/// The median (the mean of the two middle values for an even count); 0 for none.
fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

/// `value` rounded to `places` decimal places, for the JSON lines.
fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

fn execute(options: options::Options) -> BoxResult<()> {
    let pairs = options.pairs;
    let bench = Bench::new(options)?;
    match (pairs, &bench.options.rotel) {
        (Some(pairs), Some(rotel)) => {
            let agent = Subject::agent(&bench.options)?;
            pairs::run(&bench, pairs, agent, Subject::Rotel(rotel.clone()))
        }
        _ => {
            let results = bench.run(&Subject::single(&bench.options)?)?;
            results.print();
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let options = match options::Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    match execute(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("load benchmark failed: {err}");
            ExitCode::FAILURE
        }
    }
}
