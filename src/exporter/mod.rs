//! The export stage: a bounded queue per exporter, a worker that batches and sends, and the
//! exporters themselves (OTLP over gRPC or HTTP/protobuf, and the debug printer).

mod debug;
mod otlp_grpc;
mod otlp_http;
mod payload;
mod queue;
mod worker;

pub use debug::DebugExporter;
pub use otlp_grpc::GrpcExporter;
pub use otlp_http::HttpExporter;
pub use payload::Payload;
pub use queue::{ExportQueue, Queued, Reservation};
pub use worker::{ExportWorker, WorkerLimits};

use crate::config::{OtlpExporterSettings, OtlpProtocol};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("gRPC status {code:?}: {message}", code = .0.code(), message = .0.message())]
    Grpc(tonic::Status),
    #[error("HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("transport: {0}")]
    Transport(String),
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("invalid exporter setting: {0}")]
    Setup(String),
}

/// One configured destination.
pub enum Exporter {
    Grpc(GrpcExporter),
    Http(Box<HttpExporter>),
    Debug(DebugExporter),
}

impl Exporter {
    /// The OTLP exporter for `settings`. Connects lazily: a backend that is down at start does
    /// not stop the agent from starting.
    pub fn otlp(settings: &OtlpExporterSettings) -> Result<Self, ExportError> {
        Ok(match settings.protocol {
            OtlpProtocol::Grpc => Exporter::Grpc(GrpcExporter::new(settings)?),
            OtlpProtocol::HttpProtobuf => Exporter::Http(Box::new(HttpExporter::new(settings)?)),
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Exporter::Grpc(_) => "otlp/grpc",
            Exporter::Http(_) => "otlp/http",
            Exporter::Debug(_) => "debug",
        }
    }

    /// Sends one batch; `Ok` carries how many items the backend rejected (partial success).
    pub async fn export(&self, payload: Payload) -> Result<u64, ExportError> {
        match self {
            Exporter::Grpc(exporter) => exporter.export(payload).await,
            Exporter::Http(exporter) => exporter.export(payload).await,
            Exporter::Debug(exporter) => {
                exporter.export(&payload);
                Ok(0)
            }
        }
    }
}
