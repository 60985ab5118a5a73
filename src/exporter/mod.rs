//! The export stage: a bounded queue per exporter, a worker that batches and sends, and the
//! exporters themselves (OTLP over gRPC or HTTP/protobuf, and the debug printer).

mod batch;
mod compress;
mod debug;
mod export_response;
mod grpc_message;
mod otlp_grpc;
mod otlp_http;
mod queue;
pub mod retry;
mod tls;
mod worker;

pub use batch::Batch;
pub use debug::DebugExporter;
pub use otlp_grpc::GrpcExporter;
pub use otlp_http::{parse_retry_after, HttpExporter};
pub use queue::{disk, Amount, ExportQueue, QueueLimits, QueueReceiver, Reservation, Stored};
pub use tls::{ClientTls, LoadedTls};
pub use worker::{ExportWorker, WorkerLimits};

use crate::config::{Compression, OtlpExporterSettings, OtlpProtocol};
use crate::otlp::{Payload, Signal};
use bytes::Bytes;

/// The route of `signal`, or a setup error when the exporter has no endpoint for it.
fn route<R>(routes: &[Option<R>; 3], signal: Signal) -> Result<&R, ExportError> {
    routes[signal as usize]
        .as_ref()
        .ok_or_else(|| ExportError::Setup(format!("no endpoint for {}", signal.item())))
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("gRPC status {code:?}: {message}", code = status.code(), message = status.message())]
    Grpc {
        status: tonic::Status,
        retry_after: Option<std::time::Duration>,
    },
    #[error("HTTP {status}: {body}")]
    Http {
        status: u16,
        body: String,
        retry_after: Option<std::time::Duration>,
    },
    #[error("transport: {0}")]
    Transport(String),
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("invalid exporter setting: {0}")]
    Setup(String),
    #[error("undecodable batch: {0}")]
    Undecodable(String),
}

/// A batch ready to send, possibly more than once: OTLP exporters send it as bytes encoded once.
pub enum Prepared {
    /// The encoded requests of a batch, sent one after the other as one message.
    Parts {
        signal: Signal,
        parts: Vec<Bytes>,
    },
    Encoded {
        signal: Signal,
        bytes: Bytes,
        content_encoding: Option<&'static str>,
    },
    Decoded(Payload),
    /// A batch the debug printer could not decode (damaged on disk after its checksum passed).
    Undecodable(String),
}

/// One configured destination.
pub enum Exporter {
    Grpc(Box<GrpcExporter>),
    Http(Box<HttpExporter>),
    Debug(DebugExporter),
}

impl Exporter {
    /// The OTLP exporter for `settings`. Connects lazily: a backend that is down at start does
    /// not stop the agent from starting.
    pub fn otlp(settings: &OtlpExporterSettings, tls: &LoadedTls) -> Result<Self, ExportError> {
        Ok(match settings.protocol {
            OtlpProtocol::Grpc => Exporter::Grpc(Box::new(GrpcExporter::new(settings, tls)?)),
            OtlpProtocol::HttpProtobuf => {
                Exporter::Http(Box::new(HttpExporter::new(settings, tls)?))
            }
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Exporter::Grpc(_) => "otlp/grpc",
            Exporter::Http(_) => "otlp/http",
            Exporter::Debug(_) => "debug",
        }
    }

    /// How batches are compressed on the wire.
    fn compression(&self) -> Compression {
        match self {
            Exporter::Grpc(exporter) => exporter.compression(),
            Exporter::Http(exporter) => exporter.compression(),
            Exporter::Debug(_) => Compression::None,
        }
    }

    /// Readies a batch for sending: its parts as they are for uncompressed gRPC, one
    /// compressed body otherwise (compressed off the runtime's threads), decoded for the debug
    /// printer.
    pub async fn prepare(&self, batch: &Batch) -> Prepared {
        let signal = batch.signal();
        let compression = self.compression();
        match self {
            Exporter::Grpc(_) if compression == Compression::None => Prepared::Parts {
                signal,
                parts: batch.parts(),
            },
            Exporter::Grpc(_) | Exporter::Http(_) => {
                let (bytes, content_encoding) =
                    compress::compressed(compression, batch.request().bytes).await;
                Prepared::Encoded {
                    signal,
                    bytes,
                    content_encoding,
                }
            }
            Exporter::Debug(_) => match batch.request().decode() {
                Ok(payload) => Prepared::Decoded(payload),
                Err(error) => Prepared::Undecodable(error.to_string()),
            },
        }
    }

    /// Sends one prepared batch; `Ok` carries how many items the backend rejected.
    pub async fn send(&self, prepared: &Prepared) -> Result<u64, ExportError> {
        match (self, prepared) {
            (Exporter::Grpc(exporter), Prepared::Parts { signal, parts }) => {
                exporter.send(*signal, parts).await
            }
            (
                Exporter::Grpc(exporter),
                Prepared::Encoded {
                    signal,
                    bytes,
                    content_encoding,
                },
            ) => {
                exporter
                    .send_compressed(*signal, bytes, *content_encoding)
                    .await
            }
            (
                Exporter::Http(exporter),
                Prepared::Encoded {
                    signal,
                    bytes,
                    content_encoding,
                },
            ) => exporter.send(*signal, bytes, *content_encoding).await,
            (Exporter::Debug(exporter), Prepared::Decoded(payload)) => {
                exporter.export(payload);
                Ok(0)
            }
            (Exporter::Debug(_), Prepared::Undecodable(error)) => {
                Err(ExportError::Undecodable(error.clone()))
            }
            (exporter, _) => Err(ExportError::Setup(format!(
                "the {} exporter got a batch prepared for another exporter",
                exporter.name()
            ))),
        }
    }
}

/// What signals can share (a channel, a client), built once per distinct key.
struct Shared<K, T>(Vec<(K, T)>);

impl<K: PartialEq, T: Clone> Shared<K, T> {
    fn new() -> Self {
        Self(Vec::new())
    }

    fn get_or_build(
        &mut self,
        key: K,
        build: impl FnOnce() -> Result<T, ExportError>,
    ) -> Result<T, ExportError> {
        if let Some((_, value)) = self.0.iter().find(|(existing, _)| *existing == key) {
            return Ok(value.clone());
        }
        let value = build()?;
        self.0.push((key, value.clone()));
        Ok(value)
    }
}

/// An error with its sources, where hyper's and tonic's errors keep the detail (a refused
/// connection, a certificate the server did not accept).
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
