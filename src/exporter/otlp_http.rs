//! OTLP over HTTP/protobuf with hyper: `POST <endpoint>/v1/<signal>`, gzip, headers, timeout.

use super::{ExportError, Payload};
use crate::config::{Compression, OtlpExporterSettings};
use bytes::Bytes;
use flate2::write::GzEncoder;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prost::Message;
use std::io::Write;
use std::time::Duration;

/// The shape shared by the three OTLP export responses: field 1 is the partial success, whose
/// field 1 counts rejected items and field 2 says why.
#[derive(Clone, PartialEq, prost::Message)]
struct ExportResponse {
    #[prost(message, optional, tag = "1")]
    partial_success: Option<PartialSuccess>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PartialSuccess {
    #[prost(int64, tag = "1")]
    rejected: i64,
    #[prost(string, tag = "2")]
    error_message: String,
}

pub struct HttpExporter {
    client: Client<HttpConnector, Full<Bytes>>,
    endpoint: String,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    gzip: bool,
    timeout: Duration,
}

impl HttpExporter {
    pub fn new(settings: &OtlpExporterSettings) -> Result<Self, ExportError> {
        let mut headers = Vec::new();
        for (name, value) in &settings.headers {
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ExportError::Setup(format!("header name `{name}`")))?;
            let value = http::HeaderValue::from_str(value)
                .map_err(|_| ExportError::Setup(format!("value of header `{name}`")))?;
            headers.push((name, value));
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(settings.timeout));
        connector.set_nodelay(true);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            endpoint: settings.endpoint.clone(),
            headers,
            gzip: settings.compression == Compression::Gzip,
            timeout: settings.timeout,
        })
    }

    /// Sends one batch; returns how many items the backend rejected.
    pub async fn export(&self, payload: Payload) -> Result<u64, ExportError> {
        let url = format!("{}{}", self.endpoint, payload.signal().path());
        let encoded = match &payload {
            Payload::Traces(message) => message.encode_to_vec(),
            Payload::Metrics(message) => message.encode_to_vec(),
            Payload::Logs(message) => message.encode_to_vec(),
        };
        let mut builder =
            http::Request::post(url).header(http::header::CONTENT_TYPE, "application/x-protobuf");
        let body = if self.gzip {
            builder = builder.header(http::header::CONTENT_ENCODING, "gzip");
            gzip(&encoded).map_err(|err| ExportError::Transport(format!("gzip: {err}")))?
        } else {
            encoded
        };
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|err| ExportError::Setup(err.to_string()))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|err| ExportError::Transport(err.to_string()))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|err| ExportError::Transport(err.to_string()))?
                .to_bytes();
            if !status.is_success() {
                let text = String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned();
                return Err(ExportError::Http {
                    status: status.as_u16(),
                    body: text,
                });
            }
            let rejected = ExportResponse::decode(body)
                .ok()
                .and_then(|response| response.partial_success)
                .map_or(0, |partial| partial.rejected.max(0) as u64);
            Ok(rejected)
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| ExportError::Timeout(self.timeout))?
    }
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(data.len() / 4),
        flate2::Compression::fast(),
    );
    encoder.write_all(data)?;
    encoder.finish()
}
