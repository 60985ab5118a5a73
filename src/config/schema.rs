//! The configuration file's schema: every key the agent accepts, with its default.
//! Unknown keys are refused (`deny_unknown_fields`), so a typo never passes silently.

use super::values::{ConfigDate, ConfigDuration, ListenAddress, MebiBytes, Multiplier, PerMillion};
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
    pub usage: UsageConfig,
    #[serde(default)]
    pub enrich: EnrichConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
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
    /// The status a sender gets when the queue is full (with `RetryInfo` either way).
    #[serde(default)]
    pub refuse_with: GrpcRefusal,
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
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingConfig {
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Use the catalog built into the binary; entries below replace built-ins of the same id.
    #[serde(default = "yes")]
    pub builtin: bool,
    /// Ids of built-in entries to turn off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Id of the entry that prices models no entry matches; none by default (`unknown_model`).
    #[serde(default)]
    pub fallback: Option<String>,
    /// Multiplier for Bedrock in-region (not `global.`) Anthropic ids.
    #[serde(default = "default_bedrock_regional")]
    pub bedrock_regional_multiplier: Multiplier,
    #[serde(default)]
    pub models: Vec<ModelPriceConfig>,
}

impl Default for PricingConfig {
    fn default() -> Self {
        Self {
            currency: default_currency(),
            builtin: true,
            disable: Vec::new(),
            fallback: None,
            bedrock_regional_multiplier: default_bedrock_regional(),
            models: Vec::new(),
        }
    }
}

/// One price entry: which model names it covers and what a million tokens of each kind cost,
/// either as one set of prices (the fields below) or as dated `versions`.
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
    /// Where the prices come from.
    #[serde(default)]
    pub source: Option<String>,
    /// Dated prices; or, for a single version, the price fields directly on the entry.
    #[serde(default)]
    pub versions: Vec<PriceVersionConfig>,
    #[serde(default)]
    pub effective_from: Option<ConfigDate>,
    #[serde(default)]
    pub input: Option<PerMillion>,
    #[serde(default)]
    pub output: Option<PerMillion>,
    #[serde(default)]
    pub cache_read: Option<PerMillion>,
    #[serde(default)]
    pub cache_write: Option<PerMillion>,
    #[serde(default)]
    pub cache_write_1h: Option<PerMillion>,
    #[serde(default)]
    pub batch_multiplier: Option<Multiplier>,
    #[serde(default)]
    pub web_search_per_1k: Option<PerMillion>,
    #[serde(default)]
    pub tiers: Vec<TierConfig>,
}

impl ModelPriceConfig {
    /// The entry's versions, whichever way they were written; `Err` names what is wrong.
    pub fn price_versions(&self) -> Result<Vec<PriceVersionConfig>, String> {
        let single = self.input.is_some() || self.output.is_some();
        match (single, self.versions.is_empty()) {
            (true, false) => {
                Err("write prices either on the entry or under `versions`, not both".into())
            }
            (false, true) => Err("needs `input` and `output` prices, or `versions`".into()),
            (false, false) => Ok(self.versions.clone()),
            (true, true) => Ok(vec![PriceVersionConfig {
                effective_from: self.effective_from,
                input: self.input.ok_or("`output` is given without `input`")?,
                output: self.output.ok_or("`input` is given without `output`")?,
                cache_read: self.cache_read,
                cache_write: self.cache_write,
                cache_write_1h: self.cache_write_1h,
                batch_multiplier: self.batch_multiplier,
                web_search_per_1k: self.web_search_per_1k,
                tiers: self.tiers.clone(),
            }]),
        }
    }
}

/// Prices in force from a date on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceVersionConfig {
    /// `YYYY-MM-DD` (UTC). The earliest version also prices spans older than its date.
    #[serde(default)]
    pub effective_from: Option<ConfigDate>,
    pub input: PerMillion,
    pub output: PerMillion,
    /// Cache reads; the input price when left out.
    #[serde(default)]
    pub cache_read: Option<PerMillion>,
    /// Cache writes (5-minute lifetime); the input price when left out.
    #[serde(default)]
    pub cache_write: Option<PerMillion>,
    /// Cache writes with a 1-hour lifetime; the 5-minute price when left out.
    #[serde(default)]
    pub cache_write_1h: Option<PerMillion>,
    /// Applied to token costs of batch requests (e.g. "0.5").
    #[serde(default)]
    pub batch_multiplier: Option<Multiplier>,
    /// Fee per 1,000 web searches.
    #[serde(default)]
    pub web_search_per_1k: Option<PerMillion>,
    /// Above a threshold of total input tokens (cache included), the whole request is billed at
    /// the tier's prices.
    #[serde(default)]
    pub tiers: Vec<TierConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    pub above_input_tokens: u64,
    pub input: PerMillion,
    pub output: PerMillion,
    #[serde(default)]
    pub cache_read: Option<PerMillion>,
    #[serde(default)]
    pub cache_write: Option<PerMillion>,
    #[serde(default)]
    pub cache_write_1h: Option<PerMillion>,
}

/// How token usage is read off spans.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageConfig {
    /// Rules deciding whether a source's input count includes cached tokens; tried before the
    /// built-in rules, first match wins.
    #[serde(default)]
    pub semantics: Vec<SemanticsRuleConfig>,
    /// Extra attribute names carrying 1-hour cache-write tokens.
    #[serde(default)]
    pub cache_write_1h_attributes: Vec<String>,
    /// Extra attribute names carrying 5-minute cache-write tokens.
    #[serde(default)]
    pub cache_write_5m_attributes: Vec<String>,
    /// Attribute names carrying the number of web searches of a call.
    #[serde(default = "default_web_search_attributes")]
    pub web_search_attributes: Vec<String>,
    /// A span is a batch request when this attribute has this value.
    #[serde(default)]
    pub batch: BatchMarkerConfig,
    #[serde(default)]
    pub duplicates: DuplicatesConfig,
}

impl Default for UsageConfig {
    fn default() -> Self {
        Self {
            semantics: Vec::new(),
            cache_write_1h_attributes: Vec::new(),
            cache_write_5m_attributes: Vec::new(),
            web_search_attributes: default_web_search_attributes(),
            batch: BatchMarkerConfig::default(),
            duplicates: DuplicatesConfig::default(),
        }
    }
}

/// Conditions on the emitting source (all given ones must hold) and the reading they imply.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SemanticsRuleConfig {
    #[serde(default)]
    pub name: Option<String>,
    /// Instrumentation scope name: exact, or a prefix ending in `*`.
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub scope_version_below: Option<String>,
    #[serde(default)]
    pub scope_version_at_least: Option<String>,
    /// `telemetry.sdk.name` of the resource.
    #[serde(default)]
    pub sdk_name: Option<String>,
    /// The dialect the input count was read from (semconv, openinference, vercel_v5, …).
    #[serde(default)]
    pub dialect: Option<String>,
    /// The call's provider (anthropic, openai, …).
    #[serde(default)]
    pub provider: Option<String>,
    pub input_includes_cache: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchMarkerConfig {
    #[serde(default = "default_batch_attribute")]
    pub attribute: String,
    #[serde(default = "default_batch_value")]
    pub value: String,
}

impl Default for BatchMarkerConfig {
    fn default() -> Self {
        Self {
            attribute: default_batch_attribute(),
            value: default_batch_value(),
        }
    }
}

/// Memory of recently priced calls, to price a call reported by two spans once.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicatesConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// How long a priced call is remembered.
    #[serde(default = "five_minutes")]
    pub window: ConfigDuration,
    /// How many priced calls are remembered at most (oldest forgotten first).
    #[serde(default = "default_duplicate_entries")]
    pub max_entries: usize,
}

impl Default for DuplicatesConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window: five_minutes(),
            max_entries: default_duplicate_entries(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ExistingCostPolicy {
    /// Compute our cost anyway; the span's own cost attributes stay as they are.
    #[default]
    Compute,
    /// Use the cost already on the span as ours (`gen_ai.usage.cost.source = provider`).
    Trust,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputDialect {
    /// `llm.cost.*` as OpenInference defines them.
    OpenInference,
    /// OpenLIT's `gen_ai.usage.cost`.
    OpenLit,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EnrichConfig {
    #[serde(default)]
    pub existing_cost: ExistingCostPolicy,
    /// Cost attributes written in other dialects too (only where the span has none).
    #[serde(default)]
    pub output_dialects: Vec<OutputDialect>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Temporality {
    #[default]
    Cumulative,
    Delta,
}

/// Metric points derived from priced spans.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// How often derived metrics are sent through the exporters.
    #[serde(default = "one_minute")]
    pub interval: ConfigDuration,
    #[serde(default)]
    pub temporality: Temporality,
    #[serde(default)]
    pub attribution: AttributionConfig,
    /// Resource attributes of the source added as dimensions (besides `service.name`).
    #[serde(default)]
    pub resource_keys: Vec<String>,
    /// Series per metric; beyond it points go to one series marked `otel.metric.overflow=true`.
    #[serde(default = "default_cardinality_limit")]
    pub cardinality_limit: usize,
    /// A series without new points for this long is forgotten.
    #[serde(default = "one_hour")]
    pub series_idle_timeout: ConfigDuration,
    /// Per-request cost thresholds (decimal strings); a span above one is marked and counted.
    #[serde(default)]
    pub cost_thresholds: Vec<PerMillion>,
    #[serde(default)]
    pub prometheus: PrometheusConfig,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval: one_minute(),
            temporality: Temporality::Cumulative,
            attribution: AttributionConfig::default(),
            resource_keys: Vec::new(),
            cardinality_limit: default_cardinality_limit(),
            series_idle_timeout: one_hour(),
            cost_thresholds: Vec::new(),
            prometheus: PrometheusConfig::default(),
        }
    }
}

/// The user's attribution dimensions (user, team, feature…): read from the span, else its
/// ancestors in the same trace, else its resource.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributionConfig {
    #[serde(default)]
    pub keys: Vec<String>,
    /// Copy keys found on an ancestor or the resource onto the priced span.
    #[serde(default = "yes")]
    pub copy_to_span: bool,
    #[serde(default)]
    pub hold: HoldConfig,
}

impl Default for AttributionConfig {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            copy_to_span: true,
            hold: HoldConfig::default(),
        }
    }
}

/// Priced spans whose ancestors have not arrived wait for them, bounded in time and memory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldConfig {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "five_seconds")]
    pub max_wait: ConfigDuration,
    #[serde(default = "default_hold_spans")]
    pub max_spans: usize,
    #[serde(default = "sixteen_mib")]
    pub max_bytes_mib: MebiBytes,
}

impl Default for HoldConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            max_wait: five_seconds(),
            max_spans: default_hold_spans(),
            max_bytes_mib: sixteen_mib(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    /// Serve derived metrics for scraping, with the usual OTLP-to-Prometheus names.
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "default_prometheus_endpoint")]
    pub endpoint: ListenAddress,
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            endpoint: default_prometheus_endpoint(),
        }
    }
}

/// The exporters: `otlp` and any number of `otlp/<name>` (each with its own queue, retries and
/// signals), and `debug`.
#[derive(Debug, Clone)]
pub struct ExportersConfig {
    /// By name: `otlp`, `otlp/<name>`.
    pub otlp: std::collections::BTreeMap<String, OtlpExporterConfig>,
    pub debug: DebugExporterConfig,
}

impl Default for ExportersConfig {
    fn default() -> Self {
        Self {
            otlp: [("otlp".to_string(), OtlpExporterConfig::default())].into(),
            debug: DebugExporterConfig::default(),
        }
    }
}

impl<'de> Deserialize<'de> for ExportersConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExportersVisitor;
        impl<'de> serde::de::Visitor<'de> for ExportersVisitor {
            type Value = ExportersConfig;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a map of exporters: otlp, otlp/<name>, debug")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ExportersConfig, A::Error> {
                let mut exporters = ExportersConfig {
                    otlp: Default::default(),
                    debug: DebugExporterConfig::default(),
                };
                while let Some(name) = map.next_key::<String>()? {
                    let otlp_name = name == "otlp"
                        || name
                            .strip_prefix("otlp/")
                            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'));
                    if name == "debug" {
                        exporters.debug = map.next_value()?;
                    } else if otlp_name {
                        let config = map
                            .next_value::<Option<OtlpExporterConfig>>()?
                            .unwrap_or_default();
                        exporters.otlp.insert(name, config);
                    } else {
                        return Err(serde::de::Error::custom(format!(
                            "unknown exporter `{name}`: use otlp, otlp/<name> or debug"
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
            sending_queue: SendingQueueConfig::default(),
            batch: BatchConfig::default(),
            retry_on_failure: RetryConfig::default(),
            signals: all_signals(),
        }
    }
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
            num_consumers: default_consumers(),
            retry_after: one_second(),
            enqueue_timeout: zero_seconds(),
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
fn default_bedrock_regional() -> Multiplier {
    Multiplier(rust_decimal::Decimal::new(11, 1))
}
fn default_web_search_attributes() -> Vec<String> {
    vec![
        "gen_ai.usage.web_search_requests".into(),
        "anthropic.usage.server_tool_use.web_search_requests".into(),
    ]
}
fn default_batch_attribute() -> String {
    "gen_ai.request.batch".into()
}
fn default_batch_value() -> String {
    "true".into()
}
fn default_duplicate_entries() -> usize {
    100_000
}
fn five_minutes() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(300))
}
fn zero_seconds() -> ConfigDuration {
    ConfigDuration(Duration::ZERO)
}
fn thirty_seconds() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(30))
}
fn default_multiplier() -> f64 {
    1.5
}
fn one_minute() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(60))
}
fn one_hour() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(3600))
}
fn five_seconds() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(5))
}
fn default_cardinality_limit() -> usize {
    2000
}
fn default_hold_spans() -> usize {
    10_000
}
fn sixteen_mib() -> MebiBytes {
    MebiBytes(16 << 20)
}
fn default_prometheus_endpoint() -> ListenAddress {
    ListenAddress("localhost:9464".into())
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
