//! OTLP over HTTP/protobuf with hyper: `POST <endpoint>/v1/<signal>` with the batch's encoded
//! bytes, gzip or zstd, headers and a timeout, over TLS to `https://` URLs; `Retry-After` is read
//! for the retry.

use super::export_response::ExportResponse;
use super::{error_chain, route, ExportError, LoadedTls, Shared};
use crate::config::{Compression, OtlpExporterSettings, SignalSettings};
use crate::otlp::Signal;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{Client, ResponseFuture};
use hyper_util::rt::TokioExecutor;
use prost::Message;
use std::time::Duration;

pub struct HttpExporter {
    /// By signal: traces, metrics, logs; `None` for a signal without an endpoint.
    routes: [Option<Route>; 3],
    compression: Compression,
}

/// How one signal is sent.
struct Route {
    client: HttpClient,
    url: String,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    timeout: Duration,
}

/// A client for `http://` or for `https://` URLs: only the connector differs.
#[derive(Clone)]
enum HttpClient {
    Plain(Client<HttpConnector, Full<Bytes>>),
    Tls(Client<HttpsConnector<HttpConnector>, Full<Bytes>>),
}

impl HttpClient {
    /// A client with its own connection pool, over TLS when the signal has TLS settings.
    fn new(signal: &SignalSettings, loaded: &LoadedTls) -> Result<Self, ExportError> {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(signal.timeout));
        connector.set_nodelay(true);
        let builder = Client::builder(TokioExecutor::new());
        Ok(match &signal.tls {
            None => HttpClient::Plain(builder.build(connector)),
            Some(tls) => {
                let tls = loaded
                    .get(tls)
                    .ok_or_else(|| ExportError::Setup("its TLS settings were not loaded".into()))?;
                connector.enforce_http(false);
                HttpClient::Tls(builder.build(tls.https_connector(connector)))
            }
        })
    }

    fn request(&self, request: http::Request<Full<Bytes>>) -> ResponseFuture {
        match self {
            HttpClient::Plain(client) => client.request(request),
            HttpClient::Tls(client) => client.request(request),
        }
    }
}

impl HttpExporter {
    pub fn new(settings: &OtlpExporterSettings, tls: &LoadedTls) -> Result<Self, ExportError> {
        // Signals with the same TLS and timeout share a client and its connections.
        let mut clients = Shared::new();
        let mut routes = [None, None, None];
        for (route, signal) in routes.iter_mut().zip(&settings.signals) {
            let Some(url) = &signal.target else {
                continue;
            };
            *route = Some(Route {
                client: clients.get_or_build((&signal.tls, signal.timeout), || {
                    HttpClient::new(signal, tls)
                })?,
                url: url.clone(),
                headers: headers(&signal.headers)?,
                timeout: signal.timeout,
            });
        }
        Ok(Self {
            routes,
            compression: settings.compression,
        })
    }

    /// How a batch's body is compressed (once, before retries).
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Sends one batch; returns how many items the backend rejected.
    pub async fn send(
        &self,
        signal: Signal,
        bytes: &Bytes,
        content_encoding: Option<&'static str>,
    ) -> Result<u64, ExportError> {
        let route = route(&self.routes, signal)?;
        let mut builder = http::Request::post(&route.url)
            .header(http::header::CONTENT_TYPE, "application/x-protobuf");
        if let Some(encoding) = content_encoding {
            builder = builder.header(http::header::CONTENT_ENCODING, encoding);
        }
        for (name, value) in &route.headers {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(Full::new(bytes.clone()))
            .map_err(|err| ExportError::Setup(err.to_string()))?;
        let exchange = async {
            let response = route
                .client
                .request(request)
                .await
                .map_err(|err| ExportError::Transport(error_chain(&err)))?;
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
        tokio::time::timeout(route.timeout, exchange)
            .await
            .map_err(|_| ExportError::Timeout(route.timeout))?
    }
}

fn headers(
    headers: &[(String, String)],
) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, ExportError> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ExportError::Setup(format!("header name `{name}`")))?;
            let value = http::HeaderValue::from_str(value)
                .map_err(|_| ExportError::Setup(format!("value of header `{name}`")))?;
            Ok((name, value))
        })
        .collect()
}

/// `Retry-After` as delay seconds (the HTTP-date form is not honoured; backoff applies then).
/// A `Retry-After` of whole seconds.
pub fn parse_retry_after(value: &http::HeaderValue) -> Option<Duration> {
    value
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}
