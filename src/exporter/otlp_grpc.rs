//! OTLP over gRPC with tonic: gzip, headers as metadata, a per-request timeout.

use super::{ExportError, Payload};
use crate::config::{Compression, OtlpExporterSettings};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use std::time::Duration;
use tonic::codec::CompressionEncoding;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};

pub struct GrpcExporter {
    channel: Channel,
    metadata: MetadataMap,
    gzip: bool,
    timeout: Duration,
}

impl GrpcExporter {
    pub fn new(settings: &OtlpExporterSettings) -> Result<Self, ExportError> {
        let channel = Endpoint::from_shared(settings.endpoint.clone())
            .map_err(|err| ExportError::Setup(format!("{}: {err}", settings.endpoint)))?
            .connect_timeout(settings.timeout)
            .timeout(settings.timeout)
            .connect_lazy();
        let mut metadata = MetadataMap::new();
        for (name, value) in &settings.headers {
            let key = MetadataKey::from_bytes(name.as_bytes())
                .map_err(|_| ExportError::Setup(format!("header name `{name}`")))?;
            let value = MetadataValue::try_from(value.as_str())
                .map_err(|_| ExportError::Setup(format!("value of header `{name}`")))?;
            metadata.insert(key, value);
        }
        Ok(Self {
            channel,
            metadata,
            gzip: settings.compression == Compression::Gzip,
            timeout: settings.timeout,
        })
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        *request.metadata_mut() = self.metadata.clone();
        request.set_timeout(self.timeout);
        request
    }

    fn encoding(&self) -> Option<CompressionEncoding> {
        self.gzip.then_some(CompressionEncoding::Gzip)
    }

    /// Sends one batch; returns how many items the backend rejected.
    pub async fn export(&self, payload: Payload) -> Result<u64, ExportError> {
        let channel = self.channel.clone();
        // The three services differ only in their client and response types.
        macro_rules! call {
            ($client:ident, $message:expr, $rejected:ident) => {{
                let mut client = $client::new(channel).max_encoding_message_size(usize::MAX);
                if let Some(encoding) = self.encoding() {
                    client = client.send_compressed(encoding);
                }
                let response = client.export(self.request($message)).await?.into_inner();
                Ok::<i64, tonic::Status>(
                    response
                        .partial_success
                        .map_or(0, |partial| partial.$rejected),
                )
            }};
        }
        let call = async {
            match payload {
                Payload::Traces(message) => call!(TraceServiceClient, message, rejected_spans),
                Payload::Metrics(message) => {
                    call!(MetricsServiceClient, message, rejected_data_points)
                }
                Payload::Logs(message) => call!(LogsServiceClient, message, rejected_log_records),
            }
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(rejected)) => Ok(rejected.max(0) as u64),
            Ok(Err(status)) => Err(ExportError::Grpc(status)),
            Err(_) => Err(ExportError::Timeout(self.timeout)),
        }
    }
}
