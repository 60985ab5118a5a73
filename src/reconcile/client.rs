//! GET requests to the providers' admin APIs: over TLS with the built-in roots to `https://`
//! URLs (plain to an `http://` proxy or test server), each with a timeout. A 429 is answered by
//! waiting its `Retry-After` and trying again, and so is a 5xx (after a growing pause), a few
//! times; then the poll of that provider fails and the next one tries again. The timeout is of
//! each attempt; answers over 64 MiB are refused.

use crate::config::TlsSettings;
use crate::exporter::{error_chain, parse_retry_after, ClientTls};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// How many times a refused (429) or failed (5xx) request is tried again.
const RETRIES: u32 = 4;
/// The longest wait a `Retry-After` gets; a longer one fails the poll until the next.
const MAX_WAIT: Duration = Duration::from_secs(120);
/// The first pause after a 5xx, doubled at each retry.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// How much of an error body a message repeats.
const BODY_SHOWN: usize = 300;
/// The largest page read; a bigger answer fails the poll.
const MAX_BODY: usize = 64 << 20;

/// Why a report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("rate limited (429) after {RETRIES} retries")]
    RateLimited,
    #[error("HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Transport(String),
}

/// A client of the admin APIs, with its own connections.
pub struct AdminClient {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
}

impl AdminClient {
    pub fn new(timeout: Duration) -> Result<Self, crate::config::ConfigError> {
        let tls = ClientTls::load(&TlsSettings::default())?;
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(timeout));
        http.enforce_http(false);
        let client = Client::builder(TokioExecutor::new()).build(tls.https_or_http_connector(http));
        Ok(Self { client, timeout })
    }

    /// The body of a successful GET of `url`, retrying a 429 after its `Retry-After` and a 5xx
    /// after a pause. An error repeats the start of the server's answer, passed through `clean`
    /// first (which takes the admin key out of it).
    pub async fn get(
        &self,
        url: &str,
        headers: &[(http::HeaderName, http::HeaderValue)],
        clean: impl Fn(&str) -> String,
    ) -> Result<Bytes, FetchError> {
        let mut pause = FIRST_PAUSE;
        for attempt in 0..=RETRIES {
            let last = attempt == RETRIES;
            match self.get_once(url, headers, &clean).await? {
                Answer::Body(body) => return Ok(body),
                Answer::RateLimited(_) if last => return Err(FetchError::RateLimited),
                Answer::RateLimited(wait) => {
                    let wait = wait.unwrap_or(pause);
                    if wait > MAX_WAIT {
                        return Err(FetchError::RateLimited);
                    }
                    tokio::time::sleep(wait).await;
                }
                Answer::Failed(error) if last => return Err(error),
                Answer::Failed(_) => tokio::time::sleep(pause).await,
            }
            pause = pause.saturating_mul(2);
        }
        Err(FetchError::RateLimited)
    }

    async fn get_once(
        &self,
        url: &str,
        headers: &[(http::HeaderName, http::HeaderValue)],
        clean: &impl Fn(&str) -> String,
    ) -> Result<Answer, FetchError> {
        let mut request = http::Request::get(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Empty::new())
            .map_err(|err| FetchError::Transport(err.to_string()))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|err| FetchError::Transport(error_chain(&err)))?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(parse_retry_after);
            let body = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|err| FetchError::Transport(err.to_string()))?
                .to_bytes();
            Ok(match status.as_u16() {
                200..=299 => Answer::Body(body),
                429 => Answer::RateLimited(retry_after),
                code => {
                    let error = FetchError::Status {
                        status: code,
                        body: shown(&clean(&String::from_utf8_lossy(&body))),
                    };
                    if status.is_server_error() {
                        Answer::Failed(error)
                    } else {
                        return Err(error);
                    }
                }
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| FetchError::Timeout(self.timeout))?
    }
}

/// What one request came back with.
enum Answer {
    Body(Bytes),
    RateLimited(Option<Duration>),
    /// A server error, worth trying again.
    Failed(FetchError),
}

/// The start of an error body, as text on one line.
fn shown(text: &str) -> String {
    let mut shown: String = text
        .chars()
        .take(BODY_SHOWN)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > BODY_SHOWN {
        shown.push('…');
    }
    shown
}
