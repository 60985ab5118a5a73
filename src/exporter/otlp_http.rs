//! OTLP over HTTP/protobuf with hyper: `POST <endpoint>/v1/<signal>` with the batch's encoded
//! bytes, gzip or zstd, headers and a timeout; `Retry-After` is read for the retry.

use super::raw_codec::ExportResponse;
use super::{ExportError, Prepared};
use crate::config::{Compression, OtlpExporterSettings};
use crate::telemetry::Signal;
use bytes::Bytes;
use flate2::write::GzEncoder;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prost::Message;
use std::io::Write;
use std::time::Duration;

pub struct HttpExporter {
    client: Client<HttpConnector, Full<Bytes>>,
    /// By signal: the URL batches of traces, metrics and logs are posted to.
    urls: [Option<String>; 3],
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    compression: Compression,
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
            urls: [Signal::Traces, Signal::Metrics, Signal::Logs]
                .map(|signal| settings.target(signal as usize, signal.path())),
            headers,
            compression: settings.compression,
            timeout: settings.timeout,
        })
    }

    /// The body of a batch: its encoded bytes, compressed when configured (once, before
    /// retries), and the `Content-Encoding` that says how.
    pub fn body(&self, encoded: Bytes) -> (Bytes, Option<&'static str>) {
        let compressed = match self.compression {
            Compression::None => return (encoded, None),
            Compression::Gzip => gzip(&encoded).map(|body| (body, "gzip")),
            Compression::Zstd => zstd::bulk::compress(&encoded, 1).map(|body| (body, "zstd")),
        };
        match compressed {
            Ok((body, encoding)) => (Bytes::from(body), Some(encoding)),
            Err(_) => (encoded, None),
        }
    }

    /// Sends one batch; returns how many items the backend rejected.
    pub async fn send(&self, prepared: &Prepared) -> Result<u64, ExportError> {
        let Prepared::Encoded {
            signal,
            bytes,
            content_encoding,
        } = prepared
        else {
            return Err(ExportError::Setup(
                "the HTTP exporter sends encoded batches".into(),
            ));
        };
        let url = self.urls[*signal as usize]
            .clone()
            .ok_or_else(|| ExportError::Setup(format!("no endpoint for {}", signal.item())))?;
        let mut builder =
            http::Request::post(url).header(http::header::CONTENT_TYPE, "application/x-protobuf");
        if let Some(encoding) = content_encoding {
            builder = builder.header(http::header::CONTENT_ENCODING, *encoding);
        }
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(Full::new(bytes.clone()))
            .map_err(|err| ExportError::Setup(err.to_string()))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|err| ExportError::Transport(err.to_string()))?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(parse_retry_after);
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
                    retry_after,
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

/// `Retry-After` as delay seconds (the HTTP-date form is not honoured; backoff applies then).
fn parse_retry_after(value: &http::HeaderValue) -> Option<Duration> {
    value
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(data.len() / 4),
        flate2::Compression::fast(),
    );
    encoder.write_all(data)?;
    encoder.finish()
}
