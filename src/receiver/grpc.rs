//! OTLP/gRPC receiver (tonic): the trace, metrics and logs services, gzip and zstd accepted, a maximum
//! decoded message size, UNAVAILABLE when the queue is full.

use super::{Intake, SignalRequest};
use crate::config::GrpcRefusal;
use crate::exporter::status_with_retry_info;
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
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

#[derive(Clone)]
struct OtlpGrpc {
    intake: Arc<Intake>,
    refuse_with: GrpcRefusal,
}

impl OtlpGrpc {
    async fn accept<R: SignalRequest>(
        &self,
        request: Request<R>,
    ) -> Result<Response<R::Response>, Status> {
        let request = request.into_inner();
        if let Err(invalid) = request.check() {
            self.intake.rejected("gRPC", &invalid.to_string());
            return Err(Status::invalid_argument(invalid.to_string()));
        }
        match self.intake.accept(request.into_payload()).await {
            Ok(()) => Ok(Response::new(R::Response::default())),
            Err(refused) => {
                let message = format!(
                    "the agent's export queue is full; retry in {:.1}s",
                    refused.retry_after.as_secs_f64()
                );
                let code = match self.refuse_with {
                    GrpcRefusal::Unavailable => tonic::Code::Unavailable,
                    GrpcRefusal::ResourceExhausted => tonic::Code::ResourceExhausted,
                };
                Err(status_with_retry_info(code, &message, refused.retry_after))
            }
        }
    }
}

#[tonic::async_trait]
impl TraceService for OtlpGrpc {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.accept(request).await
    }
}

#[tonic::async_trait]
impl MetricsService for OtlpGrpc {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.accept(request).await
    }
}

#[tonic::async_trait]
impl LogsService for OtlpGrpc {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        self.accept(request).await
    }
}

/// Serves OTLP/gRPC on `listener` until `shutdown` completes, then finishes in-flight calls.
pub async fn serve_grpc(
    listener: TcpListener,
    intake: Arc<Intake>,
    max_message_bytes: usize,
    refuse_with: GrpcRefusal,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let service = OtlpGrpc {
        intake,
        refuse_with,
    };
    tonic::transport::Server::builder()
        .add_service(
            TraceServiceServer::new(service.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd)
                .max_decoding_message_size(max_message_bytes),
        )
        .add_service(
            MetricsServiceServer::new(service.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd)
                .max_decoding_message_size(max_message_bytes),
        )
        .add_service(
            LogsServiceServer::new(service)
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd)
                .max_decoding_message_size(max_message_bytes),
        )
        .serve_with_incoming_shutdown(incoming_without_delay(listener), shutdown)
        .await
}

/// Accepted connections with Nagle's algorithm off: small OTLP answers must not wait for
/// delayed ACKs (a 40 ms stall per request otherwise, for some request sizes).
fn incoming_without_delay(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt;
    tokio_stream::wrappers::TcpListenerStream::new(listener).map(|accepted| {
        accepted.inspect(|stream| {
            let _ = stream.set_nodelay(true);
        })
    })
}
