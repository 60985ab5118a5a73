//! OTLP over gRPC with tonic: the batch goes out as the bytes it was encoded to once — not
//! copied when uncompressed ([`MessageBody`]), compressed once before it is sent otherwise
//! ([`super::compress`]) — with headers as metadata and a per-request timeout, over TLS to
//! `https://` endpoints; a refusal's `RetryInfo` is read for the retry
//! ([`crate::otlp::retry_info`]).

use super::export_response::{ExportResponse, ResponseDecoder};
use super::grpc_message::{MessageBody, TooLong};
use super::{error_chain, route, ExportError, LoadedTls, Shared};
use crate::config::{Compression, OtlpExporterSettings, SignalSettings};
use crate::otlp::{retry_delay, Signal};
use bytes::Bytes;
use http::uri::PathAndQuery;
use std::time::Duration;
use tonic::codec::{CompressionEncoding, Streaming};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tower::{Service, ServiceExt};

pub struct GrpcExporter {
    /// By signal: traces, metrics, logs; `None` for a signal without an endpoint.
    routes: [Option<Route>; 3],
    compression: Compression,
}

/// How one signal is sent.
struct Route {
    channel: Channel,
    metadata: MetadataMap,
    timeout: Duration,
}

fn method(signal: Signal) -> PathAndQuery {
    PathAndQuery::from_static(match signal {
        Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    })
}

impl GrpcExporter {
    pub fn new(settings: &OtlpExporterSettings, tls: &LoadedTls) -> Result<Self, ExportError> {
        // Signals with the same endpoint, TLS and timeout share a channel.
        let mut channels = Shared::new();
        let mut routes = [None, None, None];
        for (route, signal) in routes.iter_mut().zip(&settings.signals) {
            let Some(target) = &signal.target else {
                continue;
            };
            let key = (target, &signal.tls, signal.timeout);
            *route = Some(Route {
                channel: channels.get_or_build(key, || channel(target, signal, tls))?,
                metadata: metadata(&signal.headers)?,
                timeout: signal.timeout,
            });
        }
        Ok(Self {
            routes,
            compression: settings.compression,
        })
    }

    /// How batches are compressed before they are sent.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Sends one uncompressed batch (its requests' bytes, in order); returns how many items
    /// the backend rejected.
    pub async fn send(&self, signal: Signal, parts: &[Bytes]) -> Result<u64, ExportError> {
        let body = MessageBody::new(parts.to_vec());
        self.send_body(signal, body, None).await
    }

    /// Sends one batch compressed as `encoding` says (`None`: the batch as one request, not
    /// compressed); returns how many items the backend rejected.
    pub async fn send_compressed(
        &self,
        signal: Signal,
        message: &Bytes,
        encoding: Option<&'static str>,
    ) -> Result<u64, ExportError> {
        let body = match encoding {
            Some(_) => MessageBody::compressed(message.clone()),
            None => MessageBody::new(vec![message.clone()]),
        };
        self.send_body(signal, body, encoding).await
    }

    async fn send_body(
        &self,
        signal: Signal,
        body: Result<MessageBody, TooLong>,
        encoding: Option<&'static str>,
    ) -> Result<u64, ExportError> {
        let route = route(&self.routes, signal)?;
        let call = Self::call(route, signal, body, encoding);
        match tokio::time::timeout(route.timeout, call).await {
            Ok(Ok(rejected)) => Ok(rejected),
            Ok(Err(status)) => Err(match transport_failure(&status) {
                Some(failure) => ExportError::Transport(failure),
                None => ExportError::Grpc {
                    retry_after: retry_delay(&status),
                    status,
                },
            }),
            Err(_) => Err(ExportError::Timeout(route.timeout)),
        }
    }

    async fn call(
        route: &Route,
        signal: Signal,
        body: Result<MessageBody, TooLong>,
        encoding: Option<&'static str>,
    ) -> Result<u64, tonic::Status> {
        let body = body.map_err(|err| tonic::Status::resource_exhausted(err.to_string()))?;
        let response = Self::call_with(route, signal, body, encoding).await?;
        Ok(response
            .partial_success
            .map_or(0, |partial| partial.rejected.max(0) as u64))
    }

    /// The message goes out as the body's frames, as tonic's unary call would send it but
    /// without writing the queued buffers into one first; the answer is read as tonic reads it
    /// (a trailers-only refusal, the message, then the status in the trailers).
    async fn call_with(
        route: &Route,
        signal: Signal,
        body: MessageBody,
        encoding: Option<&'static str>,
    ) -> Result<ExportResponse, tonic::Status> {
        let mut request = grpc_request(route, signal, tonic::body::Body::new(body))?;
        if let Some(encoding) = encoding {
            // A server may answer in the request's encoding whether asked or not (grpc-go
            // does), so the answer is read in it too.
            for header in ["grpc-encoding", "grpc-accept-encoding"] {
                request
                    .headers_mut()
                    .insert(header, http::HeaderValue::from_static(encoding));
            }
        }
        let mut channel = route.channel.clone();
        let ready = channel.ready().await.map_err(|err| {
            tonic::Status::unavailable(format!("connection: {}", error_chain(&err)))
        })?;
        let response = ready
            .call(request)
            .await
            .map_err(|err| tonic::Status::from_error(err.into()))?;
        if let Some(status) = tonic::Status::from_header_map(response.headers()) {
            if status.code() != tonic::Code::Ok {
                return Err(status);
            }
        }
        let status_code = response.status();
        let answer_encoding = response_encoding(response.headers())?;
        let mut answer = Streaming::new_response(
            ResponseDecoder,
            response.into_body(),
            status_code,
            answer_encoding,
            None,
        );
        let message = answer
            .message()
            .await?
            .ok_or_else(|| tonic::Status::internal("Missing response message."))?;
        answer.trailers().await?;
        Ok(message)
    }
}

/// The HTTP/2 request of one unary gRPC call to `signal`'s method, with the route's metadata
/// and timeout; the channel adds the origin and the user agent.
fn grpc_request(
    route: &Route,
    signal: Signal,
    body: tonic::body::Body,
) -> Result<http::Request<tonic::body::Body>, tonic::Status> {
    let mut metadata = tonic::Request::new(());
    *metadata.metadata_mut() = route.metadata.clone();
    metadata.set_timeout(route.timeout);
    let mut uri = http::uri::Parts::default();
    uri.path_and_query = Some(method(signal));
    let mut request = http::Request::new(body);
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = http::Uri::from_parts(uri)
        .map_err(|err| tonic::Status::internal(format!("request path: {err}")))?;
    let headers = request.headers_mut();
    *headers = metadata.into_parts().0.into_headers();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    headers.insert(http::header::TE, http::HeaderValue::from_static("trailers"));
    Ok(request)
}

/// How the server compressed its answer (`grpc-encoding`).
fn response_encoding(
    headers: &http::HeaderMap,
) -> Result<Option<CompressionEncoding>, tonic::Status> {
    match headers
        .get("grpc-encoding")
        .map(http::HeaderValue::as_bytes)
    {
        None | Some(b"identity") => Ok(None),
        Some(b"gzip") => Ok(Some(CompressionEncoding::Gzip)),
        Some(b"zstd") => Ok(Some(CompressionEncoding::Zstd)),
        Some(other) => Err(tonic::Status::unimplemented(format!(
            "the answer is compressed with `{}`, which the agent does not read",
            String::from_utf8_lossy(other)
        ))),
    }
}

/// A lazily connecting channel to `target`, over TLS when the signal has TLS settings.
fn channel(
    target: &str,
    signal: &SignalSettings,
    loaded: &LoadedTls,
) -> Result<Channel, ExportError> {
    let setup = |err: &dyn std::fmt::Display| ExportError::Setup(format!("{target}: {err}"));
    let mut endpoint = Endpoint::from_shared(target.to_string())
        .map_err(|err| setup(&err))?
        .connect_timeout(signal.timeout)
        .timeout(signal.timeout);
    if let Some(tls) = &signal.tls {
        let tls = loaded
            .get(tls)
            .ok_or_else(|| setup(&"its TLS settings were not loaded"))?;
        endpoint = tls
            .grpc(endpoint)
            .map_err(|err| setup(&error_chain(&err)))?;
    }
    Ok(endpoint.connect_lazy())
}

/// The connection's failure, when tonic reports one under a call as `Unknown` (a reset, a
/// client certificate the server refused): the backend never answered, so it is retried as any
/// transport failure, not dropped as the backend's own `Unknown` would be.
fn transport_failure(status: &tonic::Status) -> Option<String> {
    let source = std::error::Error::source(status)?;
    let transport = source.downcast_ref::<tonic::transport::Error>()?;
    (status.code() == tonic::Code::Unknown).then(|| error_chain(transport))
}

fn metadata(headers: &[(String, String)]) -> Result<MetadataMap, ExportError> {
    let mut metadata = MetadataMap::new();
    for (name, value) in headers {
        let key = MetadataKey::from_bytes(name.as_bytes())
            .map_err(|_| ExportError::Setup(format!("header name `{name}`")))?;
        let value = MetadataValue::try_from(value.as_str())
            .map_err(|_| ExportError::Setup(format!("value of header `{name}`")))?;
        metadata.insert(key, value);
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_read_in_the_encoding_it_names_and_an_unknown_one_is_refused() {
        let headers = |value: Option<&'static str>| {
            let mut headers = http::HeaderMap::new();
            if let Some(value) = value {
                headers.insert("grpc-encoding", http::HeaderValue::from_static(value));
            }
            headers
        };
        let read = |value| response_encoding(&headers(value));
        assert_eq!(read(None).unwrap(), None);
        assert_eq!(read(Some("identity")).unwrap(), None);
        assert_eq!(read(Some("gzip")).unwrap(), Some(CompressionEncoding::Gzip));
        assert_eq!(read(Some("zstd")).unwrap(), Some(CompressionEncoding::Zstd));
        let refused = read(Some("snappy")).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::Unimplemented);
        assert!(refused.message().contains("`snappy`"));
    }
}
