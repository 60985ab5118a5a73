//! The configuration file's schema: every key the agent accepts, with its default.
//! Unknown keys are refused (`deny_unknown_fields`), so a typo never passes silently.

use super::values::{ConfigDuration, ListenAddress, MebiBytes, PerMillion};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub receivers: ReceiversConfig,
    #[serde(default)]
    pub pricing: PricingConfig,
    #[serde(default)]
    pub exporters: ExportersConfig,
    #[serde(default)]
    pub service: ServiceConfig,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReceiversConfig {
    #[serde(default)]
    pub otlp: OtlpReceiverConfig,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OtlpReceiverConfig {
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
}

impl Default for GrpcReceiverConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            endpoint: default_grpc_endpoint(),
            max_recv_msg_size_mib: four_mib(),
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
}

impl Default for HttpReceiverConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            endpoint: default_http_endpoint(),
            max_request_body_size_mib: four_mib(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingConfig {
    #[serde(default = "default_currency")]
    pub currency: String,
    #[serde(default)]
    pub models: Vec<ModelPriceConfig>,
}

impl Default for PricingConfig {
    fn default() -> Self {
        Self {
            currency: default_currency(),
            models: Vec::new(),
        }
    }
}

/// One price entry: which model names it covers and what a million tokens of each kind cost.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPriceConfig {
    /// Names the entry on priced spans (`gen_ai.usage.cost.price_id`).
    pub id: String,
    #[serde(default)]
    pub provider: Option<String>,
    /// Model names, case-insensitive: exact, or a prefix ending in `*`.
    #[serde(rename = "match")]
    pub patterns: Vec<String>,
    pub input: PerMillion,
    pub output: PerMillion,
    #[serde(default)]
    pub cache_read: Option<PerMillion>,
    #[serde(default)]
    pub cache_write: Option<PerMillion>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ExportersConfig {
    #[serde(default)]
    pub otlp: OtlpExporterConfig,
    #[serde(default)]
    pub debug: DebugExporterConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum OtlpProtocol {
    #[default]
    #[serde(rename = "grpc")]
    Grpc,
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    Gzip,
    None,
}

/// Fields left out fall back to the standard `OTEL_EXPORTER_OTLP_*` variables, then defaults.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OtlpExporterConfig {
    /// Empty: no OTLP exporter. gRPC: `http://host:4317`; HTTP: base URL, `/v1/<signal>` appended.
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub protocol: Option<OtlpProtocol>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub compression: Option<Compression>,
    #[serde(default)]
    pub timeout: Option<ConfigDuration>,
    #[serde(default)]
    pub sending_queue: SendingQueueConfig,
    #[serde(default)]
    pub batch: BatchConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DebugMode {
    /// On when no OTLP endpoint is configured.
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebugExporterConfig {
    #[serde(default)]
    pub enabled: DebugMode,
    /// How often the one-line summary of unpriced traffic is printed.
    #[serde(default = "ten_seconds")]
    pub summary_interval: ConfigDuration,
    #[serde(default)]
    pub sending_queue: SendingQueueConfig,
    #[serde(default)]
    pub batch: BatchConfig,
}

impl Default for DebugExporterConfig {
    fn default() -> Self {
        Self {
            enabled: DebugMode::Auto,
            summary_interval: ten_seconds(),
            sending_queue: SendingQueueConfig::default(),
            batch: BatchConfig::default(),
        }
    }
}

/// The bounded queue between the receivers and one exporter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendingQueueConfig {
    /// Capacity in items (spans, metric data points, log records), counting batches in flight.
    #[serde(default = "default_queue_items")]
    pub queue_size: usize,
    /// Exports that may run at once.
    #[serde(default = "default_consumers")]
    pub num_consumers: usize,
    /// What a refused sender is told to wait before retrying (`Retry-After`).
    #[serde(default = "one_second")]
    pub retry_after: ConfigDuration,
}

impl Default for SendingQueueConfig {
    fn default() -> Self {
        Self {
            queue_size: default_queue_items(),
            num_consumers: default_consumers(),
            retry_after: one_second(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    /// A batch is sent once it holds this many items…
    #[serde(default = "default_batch_items")]
    pub send_batch_size: usize,
    /// …or once its oldest item has waited this long.
    #[serde(default = "two_hundred_ms")]
    pub timeout: ConfigDuration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            send_batch_size: default_batch_items(),
            timeout: two_hundred_ms(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// How long SIGTERM may spend flushing queued data before the agent exits.
    #[serde(default = "ten_seconds")]
    pub shutdown_timeout: ConfigDuration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            telemetry: TelemetryConfig::default(),
            shutdown_timeout: ten_seconds(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Serves `/healthz`, `/readyz` and `/metrics`.
    #[serde(default = "default_telemetry_endpoint")]
    pub endpoint: ListenAddress,
    #[serde(default)]
    pub logs: LogsConfig,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            endpoint: default_telemetry_endpoint(),
            logs: LogsConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LogsConfig {
    #[serde(default)]
    pub level: LogLevel,
    #[serde(default)]
    pub format: LogFormat,
}

fn yes() -> bool {
    true
}
fn four_mib() -> MebiBytes {
    MebiBytes(4 << 20)
}
fn default_grpc_endpoint() -> ListenAddress {
    ListenAddress("localhost:4317".into())
}
fn default_http_endpoint() -> ListenAddress {
    ListenAddress("localhost:4318".into())
}
fn default_telemetry_endpoint() -> ListenAddress {
    ListenAddress("localhost:13133".into())
}
fn default_currency() -> String {
    "USD".into()
}
fn default_queue_items() -> usize {
    100_000
}
fn default_consumers() -> usize {
    4
}
fn default_batch_items() -> usize {
    8192
}
fn one_second() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(1))
}
fn ten_seconds() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(10))
}
fn two_hundred_ms() -> ConfigDuration {
    ConfigDuration(Duration::from_millis(200))
}
