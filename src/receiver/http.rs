//! OTLP/HTTP receiver (axum): `/v1/traces`, `/v1/metrics`, `/v1/logs`; protobuf or JSON bodies,
//! gzip or zstd, a size limit before and after decompression; answers in the request's encoding, with
//! the status codes the OTLP specification names for each failure.

use super::{Intake, SignalRequest};
use crate::config::HttpRefusal;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::Router;
use bytes::Bytes;
use flate2::read::MultiGzDecoder;
use http_body_util::{BodyExt, Limited};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use std::future::Future;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long a client may take to send its body before the request is dropped with 408.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct HttpState {
    intake: Arc<Intake>,
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
}

impl Failure {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

/// Serves OTLP/HTTP on `listener` until `shutdown` completes.
pub async fn serve_http(
    listener: TcpListener,
    intake: Arc<Intake>,
    max_body_bytes: usize,
    refuse_with: HttpRefusal,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let refuse_status = match refuse_with {
        HttpRefusal::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        HttpRefusal::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
    };
    let router = Router::new()
        .route("/v1/traces", post(export::<ExportTraceServiceRequest>))
        .route("/v1/metrics", post(export::<ExportMetricsServiceRequest>))
        .route("/v1/logs", post(export::<ExportLogsServiceRequest>))
        .with_state(HttpState {
            intake,
            max_body_bytes,
            refuse_status,
        });
    let listener = listener.tap_io(|stream| {
        // No Nagle: answers must not wait for delayed ACKs.
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn export<R: SignalRequest>(
    State(state): State<HttpState>,
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
        state.intake.rejected("HTTP", &message);
        return failure_response(
            Encoding::Json,
            Failure::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message),
        );
    };
    match decode::<R>(&state, &headers, body, encoding).await {
        Ok(request) => match state.intake.accept(request.into_payload()).await {
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
            state.intake.rejected("HTTP", &failure.message);
            failure_response(encoding, failure)
        }
    }
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
) -> Result<R, Failure> {
    let raw = read_body(body, state.max_body_bytes).await?;
    let bytes = decompress(headers, raw, state.max_body_bytes)?;
    let request: R = match encoding {
        Encoding::Protobuf => R::decode(bytes).map_err(|err| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                format!("the body is not a valid OTLP protobuf message: {err}"),
            )
        }),
        Encoding::Json => serde_json::from_slice(&bytes).map_err(|err| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                format!("the body is not valid OTLP JSON: {err}"),
            )
        }),
    }?;
    request
        .check()
        .map_err(|invalid| Failure::new(StatusCode::BAD_REQUEST, invalid.to_string()))?;
    Ok(request)
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, Failure> {
    let collected = tokio::time::timeout(BODY_READ_TIMEOUT, Limited::new(body, limit).collect())
        .await
        .map_err(|_| {
            Failure::new(
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time",
            )
        })?;
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err)
            if err
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_large(limit))
        }
        Err(err) => Err(Failure::new(
            StatusCode::BAD_REQUEST,
            format!("reading the body failed: {err}"),
        )),
    }
}

fn too_large(limit: usize) -> Failure {
    Failure::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body exceeds the limit of {limit} bytes"),
    )
}

fn decompress(headers: &HeaderMap, raw: Bytes, limit: usize) -> Result<Bytes, Failure> {
    let coding = headers
        .get(header::CONTENT_ENCODING)
        .map(|value| value.to_str().unwrap_or("?").trim().to_ascii_lowercase())
        .unwrap_or_default();
    match coding.as_str() {
        "" | "identity" => Ok(raw),
        "gzip" | "x-gzip" => inflate(MultiGzDecoder::new(&raw[..]), raw.len(), limit, "gzip"),
        "zstd" => {
            let decoder = zstd::stream::read::Decoder::new(&raw[..]).map_err(|err| {
                Failure::new(
                    StatusCode::BAD_REQUEST,
                    format!("the body is not valid zstd: {err}"),
                )
            })?;
            inflate(decoder, raw.len(), limit, "zstd")
        }
        other => Err(Failure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported content encoding `{other}`: send gzip, zstd or none"),
        )),
    }
}

/// Reads a decompressing `reader` to the end, refusing more than `limit` bytes.
fn inflate(
    reader: impl Read,
    compressed_len: usize,
    limit: usize,
    coding: &str,
) -> Result<Bytes, Failure> {
    let mut inflated = Vec::with_capacity(compressed_len.saturating_mul(4).min(limit));
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut inflated)
        .map_err(|err| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                format!("the body is not valid {coding}: {err}"),
            )
        })?;
    if inflated.len() > limit {
        return Err(too_large(limit));
    }
    Ok(Bytes::from(inflated))
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
    let code = match failure.status {
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => 14, // UNAVAILABLE
        StatusCode::PAYLOAD_TOO_LARGE => 8,                                    // RESOURCE_EXHAUSTED
        StatusCode::REQUEST_TIMEOUT => 4,                                      // DEADLINE_EXCEEDED
        _ => 3,                                                                // INVALID_ARGUMENT
    };
    encoded_response(
        failure.status,
        encoding,
        &RpcStatus {
            code,
            message: failure.message,
        },
    )
}
