//! OTLP/HTTP receiver (axum on the shared connection code): `/v1/traces`, `/v1/metrics`,
//! `/v1/logs`; protobuf or JSON bodies, gzip or zstd, a size limit before and after
//! decompression, the body's bytes admitted against the budget as they arrive; answers in the
//! request's encoding, with the status codes the OTLP specification names for each failure.

use super::admission::{Admission, AdmittedBody, BodyError, Overload, Ticket};
use super::connection::Connection;
use super::rejection::Rejections;
use super::serve::{serve, Handler, Responding};
use super::{BearerAuth, ReceiverCommon, SignalRequest};
use crate::config::HttpRefusal;
use crate::otlp::scan::ScanError;
use crate::pipeline::{Intake, Request};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use bytes::{Bytes, BytesMut};
use flate2::read::MultiGzDecoder;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use std::future::Future;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Inflated bytes are read and admitted this much at a time.
const INFLATE_CHUNK: usize = 64 << 10;
/// Deflate's largest ratio: a declared inflated size beyond this many times the body is not
/// believed when sizing the buffer.
const MAX_RATIO: usize = 1032;

/// What the HTTP receiver needs besides its listener.
pub struct HttpReceiver {
    pub common: ReceiverCommon,
    pub max_body_bytes: usize,
    pub refuse_with: HttpRefusal,
}

/// The request's admission ticket, for the bytes decompression adds.
#[derive(Clone)]
struct Admitted(Arc<Ticket>);

/// Admits each request's bytes, then hands it to the router.
#[derive(Clone)]
struct HttpHandler {
    router: Router,
    admission: Arc<Admission>,
    rejections: Arc<Rejections>,
    refuse_status: StatusCode,
    max_body_bytes: usize,
    read_timeout: Duration,
    auth: Option<Arc<BearerAuth>>,
}

#[derive(Clone)]
struct HttpState {
    intake: Arc<Intake>,
    rejections: Arc<Rejections>,
    max_body_bytes: usize,
    /// 503 or 429, with `Retry-After`, when the queue is full.
    refuse_status: StatusCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// `google.rpc.Status`, the body of every OTLP/HTTP error response.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// A failed request: HTTP status, gRPC-style code for the body, and what was wrong.
struct Failure {
    status: StatusCode,
    message: String,
    /// Set for retryable refusals, sent as `Retry-After`.
    retry_after: Option<Duration>,
}

impl Failure {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    fn refused(status: StatusCode, message: impl Into<String>, retry_after: Duration) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(status, message)
        }
    }

    fn overload(status: StatusCode, overload: Overload) -> Self {
        Self::refused(status, overload.to_string(), overload.retry_after())
    }
}

/// Serves OTLP/HTTP on `listener` until `shutdown` completes.
pub async fn serve_http(
    listener: TcpListener,
    receiver: HttpReceiver,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let refuse_status = match receiver.refuse_with {
        HttpRefusal::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        HttpRefusal::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
    };
    let common = receiver.common;
    let rejections = Rejections::new(common.counters.clone());
    let router = Router::new()
        .route("/v1/traces", post(export::<ExportTraceServiceRequest>))
        .route("/v1/metrics", post(export::<ExportMetricsServiceRequest>))
        .route("/v1/logs", post(export::<ExportLogsServiceRequest>))
        .with_state(HttpState {
            intake: common.intake,
            rejections: rejections.clone(),
            max_body_bytes: receiver.max_body_bytes,
            refuse_status,
        });
    let handler = HttpHandler {
        router,
        admission: common.admission,
        rejections,
        refuse_status,
        max_body_bytes: receiver.max_body_bytes,
        read_timeout: common.read_timeout,
        auth: common.auth,
    };
    serve(listener, common.limits, handler, common.counters, shutdown).await
}

impl Handler for HttpHandler {
    type Body = Body;

    fn handle(
        &self,
        request: http::Request<Incoming>,
        connection: Arc<Connection>,
    ) -> Responding<Body> {
        let handler = self.clone();
        Box::pin(async move {
            let encoding = request_encoding(request.headers()).unwrap_or(Encoding::Json);
            if !handler.authenticated(&request) {
                return unauthenticated(encoding);
            }
            match handler.admit(request, &connection).await {
                Ok(request) => match handler.router.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                },
                Err(failure) => failure_response(encoding, failure),
            }
        })
    }
}

impl HttpHandler {
    /// Whether the request carries an accepted token (always, without `auth`). Checked before
    /// any of its body is read or admitted.
    fn authenticated<B>(&self, request: &http::Request<B>) -> bool {
        self.auth.as_ref().is_none_or(|auth| {
            let header = request.headers().get(header::AUTHORIZATION);
            auth.admit(header.map(|value| value.as_bytes()), "HTTP", None)
        })
    }

    /// Reserves the declared body in the budget (a body over the size limit is refused at once)
    /// and wraps the body so that what arrives beyond it is reserved too.
    async fn admit(
        &self,
        mut request: http::Request<Incoming>,
        connection: &Connection,
    ) -> Result<http::Request<Body>, Failure> {
        let declared = content_length(request.headers()).unwrap_or(0);
        if declared > self.max_body_bytes {
            let failure = too_large(self.max_body_bytes);
            self.rejections.reject("HTTP", &failure.message);
            return Err(failure);
        }
        let overload = |overload| Failure::overload(self.refuse_status, overload);
        let ticket = self
            .admission
            .admit(&connection.budget_share)
            .map_err(overload)?;
        ticket.clone().reserve(declared).await.map_err(overload)?;
        request.extensions_mut().insert(Admitted(ticket.clone()));
        let read_timeout = self.read_timeout;
        Ok(
            request
                .map(|body| Body::new(AdmittedBody::plain(body, ticket, declared, read_timeout))),
        )
    }
}

fn content_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

async fn export<R: SignalRequest>(
    State(state): State<HttpState>,
    admitted: Option<Extension<Admitted>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(encoding) = request_encoding(&headers) else {
        let message = format!(
            "unsupported content type {:?}: send application/x-protobuf or application/json",
            headers
                .get(header::CONTENT_TYPE)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
                .unwrap_or_default()
        );
        state.rejections.reject("HTTP", &message);
        return failure_response(
            Encoding::Json,
            Failure::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message),
        );
    };
    let ticket = admitted.map(|Extension(Admitted(ticket))| ticket);
    match decode::<R>(&state, &headers, body, encoding, ticket.as_deref()).await {
        Ok(request) => match state.intake.accept(request).await {
            Ok(()) => encoded_response(StatusCode::OK, encoding, &R::Response::default()),
            Err(refused) => {
                let seconds = refused.retry_after.as_secs().max(1);
                let mut response = failure_response(
                    encoding,
                    Failure::new(
                        state.refuse_status,
                        format!("the agent's export queue is full; retry in {seconds}s"),
                    ),
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                response
            }
        },
        Err(failure) => {
            if failure.retry_after.is_none() {
                state.rejections.reject("HTTP", &failure.message);
            }
            failure_response(encoding, failure)
        }
    }
}

/// 401 with `WWW-Authenticate: Bearer` and a status saying nothing of the valid tokens.
fn unauthenticated(encoding: Encoding) -> Response {
    let mut response = failure_response(
        encoding,
        Failure::new(StatusCode::UNAUTHORIZED, "missing or invalid bearer token"),
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn request_encoding(headers: &HeaderMap) -> Option<Encoding> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
        "application/json" => Some(Encoding::Json),
        _ => None,
    }
}

async fn decode<R: SignalRequest>(
    state: &HttpState,
    headers: &HeaderMap,
    body: Body,
    encoding: Encoding,
    ticket: Option<&Ticket>,
) -> Result<Request, Failure> {
    let expected = content_length(headers);
    let raw = read_body(body, state.max_body_bytes, expected, state.refuse_status).await?;
    // The raw body is dropped as soon as it is inflated, the inflated one once decoded.
    let bytes = decompress(
        headers,
        raw,
        state.max_body_bytes,
        ticket,
        state.refuse_status,
    )?;
    match encoding {
        Encoding::Protobuf => R::scan(bytes).map_err(|error| {
            let message = match error {
                ScanError::Invalid(invalid) => invalid.to_string(),
                malformed => format!("the body is not a valid OTLP protobuf message: {malformed}"),
            };
            Failure::new(StatusCode::BAD_REQUEST, message)
        }),
        // OTLP/JSON is decoded into structs: the views' decoded backend reads it.
        Encoding::Json => {
            let request: R = serde_json::from_slice(&bytes).map_err(|err| {
                Failure::new(
                    StatusCode::BAD_REQUEST,
                    format!("the body is not valid OTLP JSON: {err}"),
                )
            })?;
            request
                .check()
                .map_err(|invalid| Failure::new(StatusCode::BAD_REQUEST, invalid.to_string()))?;
            Ok(Request::Decoded(request.into_payload()))
        }
    }
}

/// Reads the body into one buffer sized from `Content-Length` (no regrowing, no second copy).
async fn read_body(
    mut body: Body,
    limit: usize,
    expected: Option<usize>,
    refuse_status: StatusCode,
) -> Result<Bytes, Failure> {
    let mut buffer = BytesMut::with_capacity(expected.unwrap_or(0).min(limit));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| body_failure(error, refuse_status))?;
        if let Ok(data) = frame.into_data() {
            if buffer.len() + data.len() > limit {
                return Err(too_large(limit));
            }
            if buffer.is_empty() && expected == Some(data.len()) {
                // The whole body in one chunk: no copy.
                return Ok(data);
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(buffer.freeze())
}

/// The failure of a body that could not be read: refused by the budget, too slow, or broken.
fn body_failure(error: axum::Error, refuse_status: StatusCode) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(cause) = source {
        match cause.downcast_ref::<BodyError>() {
            Some(BodyError::Overload(overload)) => {
                return Failure::overload(refuse_status, *overload)
            }
            Some(timed_out @ BodyError::TimedOut(_)) => {
                return Failure::new(StatusCode::REQUEST_TIMEOUT, timed_out.to_string())
            }
            _ => source = cause.source(),
        }
    }
    Failure::new(
        StatusCode::BAD_REQUEST,
        format!("reading the body failed: {error}"),
    )
}

fn too_large(limit: usize) -> Failure {
    Failure::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body exceeds the limit of {limit} bytes"),
    )
}

fn decompress(
    headers: &HeaderMap,
    raw: Bytes,
    limit: usize,
    ticket: Option<&Ticket>,
    refuse_status: StatusCode,
) -> Result<Bytes, Failure> {
    let coding = headers
        .get(header::CONTENT_ENCODING)
        .map(|value| value.to_str().unwrap_or("?").trim().to_ascii_lowercase())
        .unwrap_or_default();
    let inflating = Inflating {
        limit,
        ticket,
        refuse_status,
    };
    match coding.as_str() {
        "" | "identity" => Ok(raw),
        "gzip" | "x-gzip" => {
            let size = gzip_size(&raw);
            inflating.read(MultiGzDecoder::new(&raw[..]), size, raw.len(), "gzip")
        }
        "zstd" => {
            let decoder = zstd::stream::read::Decoder::new(&raw[..]).map_err(|err| {
                Failure::new(
                    StatusCode::BAD_REQUEST,
                    format!("the body is not valid zstd: {err}"),
                )
            })?;
            let size = zstd::zstd_safe::get_frame_content_size(&raw).ok().flatten();
            inflating.read(decoder, size, raw.len(), "zstd")
        }
        other => Err(Failure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported content encoding `{other}`: send gzip, zstd or none"),
        )),
    }
}

/// The inflated size a gzip body declares (its last member's `ISIZE`, the size modulo 2^32).
fn gzip_size(raw: &[u8]) -> Option<u64> {
    let trailer: [u8; 4] = raw.get(raw.len().checked_sub(4)?..)?.try_into().ok()?;
    Some(u64::from(u32::from_le_bytes(trailer)))
}

/// Decompression within the size limit, each inflated chunk admitted before it is kept.
struct Inflating<'a> {
    limit: usize,
    ticket: Option<&'a Ticket>,
    refuse_status: StatusCode,
}

impl Inflating<'_> {
    /// Inflates what `reader` gives into one buffer sized from `size` (the size the body of
    /// `raw_len` bytes declares, believed up to the limit and deflate's largest ratio), so that
    /// a large body is not copied from buffer to doubled buffer as it grows.
    fn read(
        &self,
        mut reader: impl Read,
        size: Option<u64>,
        raw_len: usize,
        coding: &str,
    ) -> Result<Bytes, Failure> {
        let invalid = |err: std::io::Error| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                format!("the body is not valid {coding}: {err}"),
            )
        };
        let expected = size.map_or(0, |size| usize::try_from(size).unwrap_or(usize::MAX));
        let believable = raw_len.saturating_mul(MAX_RATIO).min(self.limit);
        let mut inflated = BytesMut::with_capacity(expected.min(believable));
        let mut chunk = vec![0; INFLATE_CHUNK];
        loop {
            let read = reader.read(&mut chunk).map_err(invalid)?;
            if read == 0 {
                return Ok(inflated.freeze());
            }
            if inflated.len() + read > self.limit {
                return Err(too_large(self.limit));
            }
            if let Some(ticket) = self.ticket {
                ticket
                    .try_reserve(read)
                    .map_err(|overload| Failure::overload(self.refuse_status, overload))?;
            }
            inflated.extend_from_slice(&chunk[..read]);
        }
    }
}

fn encoded_response<M: prost::Message + serde::Serialize>(
    status: StatusCode,
    encoding: Encoding,
    message: &M,
) -> Response {
    let body = match encoding {
        Encoding::Protobuf => message.encode_to_vec(),
        Encoding::Json => json_without_nulls(message),
    };
    (
        status,
        [(header::CONTENT_TYPE, encoding.content_type())],
        body,
    )
        .into_response()
}

/// Proto3 JSON leaves unset fields out; serde writes them as `null`.
fn json_without_nulls<M: serde::Serialize>(message: &M) -> Vec<u8> {
    let mut value = serde_json::to_value(message).unwrap_or_default();
    if let serde_json::Value::Object(fields) = &mut value {
        fields.retain(|_, field| !field.is_null());
    }
    serde_json::to_vec(&value).unwrap_or_else(|_| b"{}".to_vec())
}

fn failure_response(encoding: Encoding, failure: Failure) -> Response {
    let retry_after = failure
        .retry_after
        .map(|delay| HeaderValue::from(delay.as_secs().max(1)));
    let code = match failure.status {
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => 14, // UNAVAILABLE
        StatusCode::PAYLOAD_TOO_LARGE => 8,                                    // RESOURCE_EXHAUSTED
        StatusCode::REQUEST_TIMEOUT => 4,                                      // DEADLINE_EXCEEDED
        StatusCode::UNAUTHORIZED => 16,                                        // UNAUTHENTICATED
        _ => 3,                                                                // INVALID_ARGUMENT
    };
    let mut response = encoded_response(
        failure.status,
        encoding,
        &RpcStatus {
            code,
            message: failure.message,
        },
    );
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, seconds);
    }
    response
}
