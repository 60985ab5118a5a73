//! OTLP/gRPC receiver: the trace, metrics and logs export calls served on the shared connection
//! code (limits, keepalive, timeouts), gzip and zstd accepted, a maximum decoded message size,
//! request bytes admitted against the budget, malformed messages answered `INVALID_ARGUMENT`,
//! UNAVAILABLE (or RESOURCE_EXHAUSTED) with `RetryInfo` when the queue or the budget is full.

use super::admission::{Admission, AdmittedBody, BodyError, Overload};
use super::codec::{DecodeContext, OtlpCodec};
use super::connection::Connection;
use super::rejection::Rejections;
use super::serve::{serve, Handler, Responding};
use super::{BearerAuth, ReceiverCommon, SignalRequest};
use crate::config::GrpcRefusal;
use crate::otlp::status_with_retry_info;
use crate::pipeline::{Intake, Request};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tonic::codec::CompressionEncoding;
use tonic::server::{Grpc, UnaryService};
use tonic::{Code, Status};

const TRACES: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const METRICS: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
const LOGS: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// What the gRPC receiver needs besides its listener.
pub struct GrpcReceiver {
    pub common: ReceiverCommon,
    pub max_message_bytes: usize,
    pub refuse_with: GrpcRefusal,
}

#[derive(Clone)]
struct GrpcHandler {
    intake: Arc<Intake>,
    admission: Arc<Admission>,
    rejections: Arc<Rejections>,
    max_message_bytes: usize,
    refuse_with: Code,
    read_timeout: Duration,
    auth: Option<Arc<BearerAuth>>,
}

/// Serves OTLP/gRPC on `listener` until `shutdown` completes, then finishes in-flight calls.
pub async fn serve_grpc(
    listener: TcpListener,
    receiver: GrpcReceiver,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let common = receiver.common;
    let handler = GrpcHandler {
        rejections: Rejections::new(common.counters.clone()),
        intake: common.intake,
        admission: common.admission,
        max_message_bytes: receiver.max_message_bytes,
        refuse_with: match receiver.refuse_with {
            GrpcRefusal::Unavailable => Code::Unavailable,
            GrpcRefusal::ResourceExhausted => Code::ResourceExhausted,
        },
        read_timeout: common.read_timeout,
        auth: common.auth,
    };
    serve(listener, common.limits, handler, common.counters, shutdown).await
}

impl Handler for GrpcHandler {
    type Body = tonic::body::Body;

    fn handle(
        &self,
        request: http::Request<Incoming>,
        connection: Arc<Connection>,
    ) -> Responding<tonic::body::Body> {
        let handler = self.clone();
        Box::pin(async move {
            if !handler.authenticated(&request) {
                return Status::unauthenticated("missing or invalid bearer token").into_http();
            }
            let ticket = match handler.admission.admit(&connection.budget_share) {
                Ok(ticket) => ticket,
                Err(overload) => return handler.refusal(overload).into_http(),
            };
            let compressed = request
                .headers()
                .get("grpc-encoding")
                .is_some_and(|coding| coding.as_bytes() != b"identity");
            let context = DecodeContext {
                ticket: ticket.clone(),
                compressed,
                rejections: handler.rejections.clone(),
                refuse_with: handler.refuse_with,
            };
            let refuse_with = handler.refuse_with;
            let read_timeout = handler.read_timeout;
            let request = request.map(move |body| {
                AdmittedBody::grpc(body, ticket, read_timeout)
                    .map_err(move |error| body_status(error, refuse_with))
            });
            let response = match request.uri().path() {
                TRACES => {
                    handler
                        .unary::<ExportTraceServiceRequest, _>(request, context)
                        .await
                }
                METRICS => {
                    handler
                        .unary::<ExportMetricsServiceRequest, _>(request, context)
                        .await
                }
                LOGS => {
                    handler
                        .unary::<ExportLogsServiceRequest, _>(request, context)
                        .await
                }
                path => Status::unimplemented(format!("no service at {path}")).into_http(),
            };
            let mut response = response;
            handler.note_rejection(&mut response);
            response
        })
    }
}

impl GrpcHandler {
    /// Whether the call carries an accepted token (always, without `auth`).
    fn authenticated<B>(&self, request: &http::Request<B>) -> bool {
        self.auth.as_ref().is_none_or(|auth| {
            let header = request.headers().get(http::header::AUTHORIZATION);
            auth.admit(header.map(|value| value.as_bytes()), "gRPC", None)
        })
    }

    async fn unary<R: SignalRequest, B>(
        &self,
        request: http::Request<B>,
        context: DecodeContext,
    ) -> http::Response<tonic::body::Body>
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<super::BoxError> + Send,
    {
        let export = Export::<R> {
            intake: self.intake.clone(),
            refuse_with: self.refuse_with,
            request: PhantomData,
        };
        Grpc::new(OtlpCodec::<R>::new(context))
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd)
            .max_decoding_message_size(self.max_message_bytes)
            .unary(export, request)
            .await
    }

    fn refusal(&self, overload: Overload) -> Status {
        status_with_retry_info(
            self.refuse_with,
            &overload.to_string(),
            overload.retry_after(),
        )
    }

    /// Refusals tonic makes before the codec sees the message are the client's fault too, and
    /// counted and logged as such: a message over the size limit (`OUT_OF_RANGE`, or
    /// `RESOURCE_EXHAUSTED` when found while decompressing) and one that does not decompress
    /// (tonic says `INTERNAL`; answered `INVALID_ARGUMENT`).
    fn note_rejection(&self, response: &mut http::Response<tonic::body::Body>) {
        let Some(status) = Status::from_header_map(response.headers()) else {
            return;
        };
        let undecompressable =
            status.code() == Code::Internal && status.message().starts_with(DECOMPRESSION_FAILED);
        if undecompressable {
            let invalid = Status::invalid_argument(status.message());
            let _ = invalid.add_header(response.headers_mut());
        }
        let too_large = status.code() == Code::OutOfRange
            || (status.code() == Code::ResourceExhausted
                && status.message().starts_with(DECOMPRESSION_FAILED));
        if undecompressable || too_large {
            self.rejections.reject("gRPC", status.message());
        }
    }
}

/// How tonic's message starts when a request message does not decompress.
const DECOMPRESSION_FAILED: &str = "Error decompressing";

/// The status a failed request body becomes.
fn body_status(error: BodyError, refuse_with: Code) -> Status {
    match error {
        BodyError::Overload(overload) => {
            status_with_retry_info(refuse_with, &overload.to_string(), overload.retry_after())
        }
        BodyError::TimedOut(_) => Status::deadline_exceeded(error.to_string()),
        BodyError::Read(source) => Status::from_error(source),
    }
}

/// One export call: the validated request goes to the intake.
struct Export<R> {
    intake: Arc<Intake>,
    refuse_with: Code,
    request: PhantomData<fn(R)>,
}

impl<R: SignalRequest> UnaryService<Request> for Export<R> {
    type Response = R::Response;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<tonic::Response<R::Response>, Status>> + Send>,
    >;

    fn call(&mut self, request: tonic::Request<Request>) -> Self::Future {
        let intake = self.intake.clone();
        let code = self.refuse_with;
        Box::pin(async move {
            match intake.accept(request.into_inner()).await {
                Ok(()) => Ok(tonic::Response::new(R::Response::default())),
                Err(refused) => {
                    let message = format!(
                        "the agent's export queue is full; retry in {:.1}s",
                        refused.retry_after.as_secs_f64()
                    );
                    Err(status_with_retry_info(code, &message, refused.retry_after))
                }
            }
        })
    }
}
