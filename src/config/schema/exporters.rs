//! Exporter settings: named OTLP exporters, the debug exporter, queues, batching, retries.

use super::defaults::*;
use crate::config::values::{ConfigDuration, MebiBytes};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The exporters: `otlp` and any number of `otlp/<name>` (each with its own queue, retries and
/// signals), and `debug`.
#[derive(Debug, Clone)]
pub struct ExportersConfig {
    /// By name: `otlp`, `otlp/<name>`.
    pub otlp: std::collections::BTreeMap<String, OtlpExporterConfig>,
    pub debug: DebugExporterConfig,
    /// The cost ledger: one record per model call, in files; off unless configured.
    pub ledger: Option<LedgerConfig>,
}

impl Default for ExportersConfig {
    fn default() -> Self {
        Self {
            otlp: [("otlp".to_string(), OtlpExporterConfig::default())].into(),
            debug: DebugExporterConfig::default(),
            ledger: None,
        }
    }
}

impl<'de> Deserialize<'de> for ExportersConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExportersVisitor;
        impl<'de> serde::de::Visitor<'de> for ExportersVisitor {
            type Value = ExportersConfig;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a map of exporters: otlp, otlp/<name>, debug, ledger")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ExportersConfig, A::Error> {
                let mut exporters = ExportersConfig {
                    otlp: Default::default(),
                    debug: DebugExporterConfig::default(),
                    ledger: None,
                };
                while let Some(name) = map.next_key::<String>()? {
                    let otlp_name = name == "otlp"
                        || name
                            .strip_prefix("otlp/")
                            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'));
                    if name == "debug" {
                        exporters.debug = map.next_value()?;
                    } else if name == "ledger" {
                        exporters.ledger = Some(map.next_value()?);
                    } else if otlp_name {
                        let config = map
                            .next_value::<Option<OtlpExporterConfig>>()?
                            .unwrap_or_default();
                        exporters.otlp.insert(name, config);
                    } else {
                        return Err(serde::de::Error::custom(format!(
                            "unknown exporter `{name}`: use otlp, otlp/<name>, debug or ledger"
                        )));
                    }
                }
                Ok(exporters)
            }
        }
        deserializer.deserialize_map(ExportersVisitor)
    }
}

/// One of the three OTLP signals, as configuration names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalName {
    Traces,
    Metrics,
    Logs,
}

fn all_signals() -> Vec<SignalName> {
    vec![SignalName::Traces, SignalName::Metrics, SignalName::Logs]
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
    Zstd,
    None,
}

/// Fields left out fall back to the standard `OTEL_EXPORTER_OTLP_*` variables, then defaults.
#[derive(Debug, Clone, Deserialize)]
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
    /// TLS to an `https://` endpoint (or to one without a scheme).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    #[serde(default)]
    pub sending_queue: SendingQueueConfig,
    #[serde(default)]
    pub batch: BatchConfig,
    #[serde(default)]
    pub retry_on_failure: RetryConfig,
    /// The signals this exporter gets (derived metrics count as metrics).
    #[serde(default = "all_signals")]
    pub signals: Vec<SignalName>,
}

impl Default for OtlpExporterConfig {
    fn default() -> Self {
        Self {
            endpoint: None,
            protocol: None,
            headers: Default::default(),
            compression: None,
            timeout: None,
            tls: None,
            sending_queue: SendingQueueConfig::default(),
            batch: BatchConfig::default(),
            retry_on_failure: RetryConfig::default(),
            signals: all_signals(),
        }
    }
}

/// TLS to the backend, named as the Collector's `configtls` client settings. Fields left out
/// fall back to the standard `OTEL_EXPORTER_OTLP_*` TLS variables.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM bundle of the CAs to trust instead of the built-in roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM chain) for mutual TLS; needs `key_file`.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The name the server's certificate is checked against (and sent as SNI) instead of the
    /// endpoint's host.
    #[serde(default, alias = "server_name_override")]
    pub server_name: Option<String>,
    /// `true`: plain text (h2c, HTTP) for an endpoint without a scheme, and a `tls` section is
    /// allowed with an `http://` endpoint.
    #[serde(default)]
    pub insecure: Option<bool>,
    /// Accept any server certificate. For tests only.
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// Retries of retryable failures, as the Collector's `retry_on_failure`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "five_seconds")]
    pub initial_interval: ConfigDuration,
    #[serde(default = "thirty_seconds")]
    pub max_interval: ConfigDuration,
    /// 0 retries forever.
    #[serde(default = "five_minutes")]
    pub max_elapsed_time: ConfigDuration,
    #[serde(default = "default_multiplier")]
    pub multiplier: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            initial_interval: five_seconds(),
            max_interval: thirty_seconds(),
            max_elapsed_time: five_minutes(),
            multiplier: default_multiplier(),
        }
    }
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
    /// Capacity in MiB of encoded data, counting batches in flight; whichever of the two limits
    /// is reached first makes the queue full.
    #[serde(default = "default_queue_mib")]
    pub queue_size_mib: u64,
    /// A directory for a persistent queue: data is written there before the sender is
    /// answered, and what was not delivered is sent after a restart. Absent: kept in memory.
    #[serde(default)]
    pub storage: Option<std::path::PathBuf>,
    /// When a persistent queue forces its writes to disk.
    #[serde(default)]
    pub fsync: FsyncPolicy,
    /// With `fsync: interval`, how often.
    #[serde(default = "one_second")]
    pub fsync_interval: ConfigDuration,
    /// Exports that may run at once.
    #[serde(default = "default_consumers")]
    pub num_consumers: usize,
    /// What a refused sender is told to wait before retrying (`Retry-After`, `RetryInfo`).
    #[serde(default = "one_second")]
    pub retry_after: ConfigDuration,
    /// How long a sender waits for room in a full queue before it is refused (0: refused at once).
    #[serde(default = "zero_seconds")]
    pub enqueue_timeout: ConfigDuration,
}

impl Default for SendingQueueConfig {
    fn default() -> Self {
        Self {
            queue_size: default_queue_items(),
            queue_size_mib: default_queue_mib(),
            storage: None,
            fsync: FsyncPolicy::default(),
            fsync_interval: one_second(),
            num_consumers: default_consumers(),
            retry_after: one_second(),
            enqueue_timeout: zero_seconds(),
        }
    }
}

/// When a persistent queue's writes are forced to disk (`fsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FsyncPolicy {
    /// Before the sender is answered (group commit): survives power loss.
    #[default]
    Always,
    /// Every `fsync_interval`: survives the agent being killed; power loss may lose the last
    /// interval.
    Interval,
    /// When the operating system decides.
    Never,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    /// A batch is sent once it holds this many items…
    #[serde(default = "default_batch_items")]
    pub send_batch_size: usize,
    /// …or once it holds this many encoded bytes (a larger request is sent alone)…
    #[serde(default = "one_mib")]
    pub max_size_mib: MebiBytes,
    /// …or once its oldest item has waited this long.
    #[serde(default = "two_hundred_ms")]
    pub timeout: ConfigDuration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            send_batch_size: default_batch_items(),
            max_size_mib: one_mib(),
            timeout: two_hundred_ms(),
        }
    }
}

/// A format the ledger writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerFormat {
    /// One JSON object per model call and line.
    Jsonl,
    /// FinOps FOCUS 1.2 columns, one row per charged token kind of each priced call.
    FocusCsv,
}

/// Where and how the cost ledger is written: to files, as OTLP log records, or both.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// The directory of the ledger files (created when missing); none: no files.
    #[serde(default)]
    pub directory: Option<PathBuf>,
    /// Each record also goes out as an OTLP log record through the exporters that take logs.
    #[serde(default)]
    pub otlp_logs: bool,
    #[serde(default = "default_ledger_formats")]
    pub formats: Vec<LedgerFormat>,
    /// A file is closed and the next one begun when it would pass this size; files also turn
    /// over at midnight UTC.
    #[serde(default = "default_ledger_file_size")]
    pub max_file_size_mib: MebiBytes,
    /// Files whose day is older than this many days are deleted.
    #[serde(default = "default_ledger_retention_days")]
    pub retention_days: u32,
    /// Records waiting for the writer; beyond it they are dropped and counted, never waited for.
    #[serde(default = "default_ledger_queue_records")]
    pub queue_records: usize,
}

fn default_ledger_formats() -> Vec<LedgerFormat> {
    vec![LedgerFormat::Jsonl]
}

fn default_ledger_file_size() -> MebiBytes {
    MebiBytes(100 << 20)
}

fn default_ledger_retention_days() -> u32 {
    31
}

fn default_ledger_queue_records() -> usize {
    100_000
}
