//! Receiver settings: OTLP over gRPC and HTTP, limits and refusal statuses.

use super::auth::AuthConfig;
use super::defaults::*;
use super::server_tls::ServerTlsConfig;
use crate::config::values::{ListenAddress, MebiBytes};
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
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProtocolsConfig {
    #[serde(default)]
    pub grpc: GrpcReceiverConfig,
    #[serde(default)]
    pub http: HttpReceiverConfig,
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
        }
    }
}
