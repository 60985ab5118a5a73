//! Receiver settings: OTLP over gRPC and HTTP, message and connection limits, timeouts, the
//! in-flight byte budget (`admission`) and refusal statuses.

use super::auth::AuthConfig;
use super::defaults::*;
use super::server_tls::ServerTlsConfig;
use crate::config::values::{ConfigDuration, ListenAddress, MebiBytes};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReceiversConfig {
    #[serde(default)]
    pub otlp: OtlpReceiverConfig,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OtlpReceiverConfig {
    /// Who may send, for both protocols unless one has its own `auth`.
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub protocols: ProtocolsConfig,
    /// The bytes of requests being received, shared by both protocols.
    #[serde(default)]
    pub admission: AdmissionConfig,
}

/// The bearer-token settings each receiver uses: its own `auth`, else the shared one.
pub struct ReceiverAuth<'a> {
    /// `grpc`, `http`.
    pub protocol: &'static str,
    /// The key of the settings in use (`receivers.otlp.protocols.grpc.auth`, `receivers.otlp.auth`).
    pub key: String,
    pub auth: &'a AuthConfig,
    pub enabled: bool,
    pub tls: bool,
}

impl OtlpReceiverConfig {
    /// The bearer-token settings of the gRPC and the HTTP receiver.
    pub fn auths(&self) -> [ReceiverAuth<'_>; 2] {
        let (grpc, http) = (&self.protocols.grpc, &self.protocols.http);
        [
            self.auth_of("grpc", grpc.auth.as_ref(), grpc.enabled, grpc.tls.is_some()),
            self.auth_of("http", http.auth.as_ref(), http.enabled, http.tls.is_some()),
        ]
    }

    fn auth_of<'a>(
        &'a self,
        protocol: &'static str,
        own: Option<&'a AuthConfig>,
        enabled: bool,
        tls: bool,
    ) -> ReceiverAuth<'a> {
        let (auth, key) = match own {
            Some(auth) => (auth, format!("receivers.otlp.protocols.{protocol}.auth")),
            None => (&self.auth, "receivers.otlp.auth".to_string()),
        };
        ReceiverAuth {
            protocol,
            key,
            auth,
            enabled,
            tls,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProtocolsConfig {
    #[serde(default)]
    pub grpc: GrpcReceiverConfig,
    #[serde(default)]
    pub http: HttpReceiverConfig,
}

/// The process-wide budget of request bytes being received (as sent and after decompression),
/// after the otelarrow receiver's `admission` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmissionConfig {
    /// Bytes of requests in flight, all connections together.
    #[serde(default = "default_request_limit")]
    pub request_limit_mib: MebiBytes,
    /// The part of the budget kept for small requests (at most a sixteenth of it each), so
    /// stalled large bodies cannot starve ordinary exports.
    #[serde(default = "default_small_request_reserve")]
    pub small_request_reserve_mib: MebiBytes,
    /// Bytes of requests waiting for room in the budget; beyond it a sender is refused at once.
    #[serde(default = "default_waiting_limit")]
    pub waiting_limit_mib: MebiBytes,
    /// Bytes one connection may hold, so a few connections cannot take the whole budget.
    #[serde(default = "default_connection_limit")]
    pub per_connection_limit_mib: MebiBytes,
    /// How long a request waits for room before it is refused with a retryable status.
    #[serde(default = "one_second")]
    pub wait_timeout: ConfigDuration,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        Self {
            request_limit_mib: default_request_limit(),
            small_request_reserve_mib: default_small_request_reserve(),
            waiting_limit_mib: default_waiting_limit(),
            per_connection_limit_mib: default_connection_limit(),
            wait_timeout: one_second(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcReceiverConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "default_grpc_endpoint")]
    pub endpoint: ListenAddress,
    /// Largest accepted request, after decompression.
    #[serde(default = "four_mib")]
    pub max_recv_msg_size_mib: MebiBytes,
    /// The status a sender gets when the queue is full (with `RetryInfo` either way).
    #[serde(default)]
    pub refuse_with: GrpcRefusal,
    /// Replaces `receivers.otlp.auth` for gRPC.
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// TLS (HTTP/2 with ALPN `h2`); plain text (h2c) without it.
    #[serde(default)]
    pub tls: Option<ServerTlsConfig>,
    /// Streams (calls) one HTTP/2 connection may have open, advertised in SETTINGS.
    #[serde(default = "default_concurrent_streams")]
    pub max_concurrent_streams: u32,
    /// Connections served at once; by default derived from the file-descriptor limit.
    #[serde(default)]
    pub max_connections: Option<usize>,
    /// How long a call may take to send its request message.
    #[serde(default = "thirty_seconds")]
    pub read_timeout: ConfigDuration,
    #[serde(default)]
    pub keepalive: KeepaliveConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GrpcRefusal {
    #[default]
    Unavailable,
    ResourceExhausted,
}

impl Default for GrpcReceiverConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            endpoint: default_grpc_endpoint(),
            max_recv_msg_size_mib: four_mib(),
            refuse_with: GrpcRefusal::Unavailable,
            auth: None,
            tls: None,
            max_concurrent_streams: default_concurrent_streams(),
            max_connections: None,
            read_timeout: thirty_seconds(),
            keepalive: KeepaliveConfig::default(),
        }
    }
}

/// gRPC keepalive, with grpc-go's words (`keepalive.ServerParameters`, `EnforcementPolicy`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct KeepaliveConfig {
    #[serde(default)]
    pub server_parameters: ServerParameters,
    #[serde(default)]
    pub enforcement_policy: EnforcementPolicy,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerParameters {
    /// A connection without calls for this long is closed (GOAWAY); `0s`: never.
    #[serde(default = "five_minutes")]
    pub max_connection_idle: ConfigDuration,
    /// A connection older than this is asked to go away (GOAWAY); `0s`: never.
    #[serde(default = "zero_seconds")]
    pub max_connection_age: ConfigDuration,
    /// After `max_connection_age`, how long calls may finish before the connection is cut; `0s`: no limit.
    #[serde(default = "zero_seconds")]
    pub max_connection_age_grace: ConfigDuration,
    /// The server pings an idle connection this often; `0s`: never.
    #[serde(default = "two_hours")]
    pub time: ConfigDuration,
    /// How long to wait for a ping's answer before closing the connection.
    #[serde(default = "twenty_seconds")]
    pub timeout: ConfigDuration,
}

impl Default for ServerParameters {
    fn default() -> Self {
        Self {
            max_connection_idle: five_minutes(),
            max_connection_age: zero_seconds(),
            max_connection_age_grace: zero_seconds(),
            time: two_hours(),
            timeout: twenty_seconds(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnforcementPolicy {
    /// Clients pinging more often than this are cut off after a few warnings.
    #[serde(default = "five_minutes")]
    pub min_time: ConfigDuration,
    /// Whether clients may ping a connection without calls.
    #[serde(default)]
    pub permit_without_stream: bool,
}

impl Default for EnforcementPolicy {
    fn default() -> Self {
        Self {
            min_time: five_minutes(),
            permit_without_stream: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpReceiverConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "default_http_endpoint")]
    pub endpoint: ListenAddress,
    /// Largest accepted request body, both as sent and after decompression.
    #[serde(default = "four_mib")]
    pub max_request_body_size_mib: MebiBytes,
    /// The status a sender gets when the queue is full (with `Retry-After` either way).
    #[serde(default)]
    pub refuse_with: HttpRefusal,
    /// Replaces `receivers.otlp.auth` for HTTP.
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// TLS (HTTP/1.1 and HTTP/2 by ALPN); plain text without it.
    #[serde(default)]
    pub tls: Option<ServerTlsConfig>,
    /// How long a client may take to send a request's headers once it started.
    #[serde(default = "ten_seconds")]
    pub read_header_timeout: ConfigDuration,
    /// How long a request's body may take to arrive (answered 408 after).
    #[serde(default = "thirty_seconds")]
    pub read_timeout: ConfigDuration,
    /// A keep-alive connection waiting this long for its next request is closed.
    #[serde(default = "two_minutes")]
    pub idle_timeout: ConfigDuration,
    /// Connections served at once; by default derived from the file-descriptor limit.
    #[serde(default)]
    pub max_connections: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HttpRefusal {
    /// 503 Service Unavailable.
    #[default]
    ServiceUnavailable,
    /// 429 Too Many Requests.
    TooManyRequests,
}

impl Default for HttpReceiverConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            endpoint: default_http_endpoint(),
            max_request_body_size_mib: four_mib(),
            refuse_with: HttpRefusal::ServiceUnavailable,
            auth: None,
            tls: None,
            read_header_timeout: ten_seconds(),
            read_timeout: thirty_seconds(),
            idle_timeout: two_minutes(),
            max_connections: None,
        }
    }
}
