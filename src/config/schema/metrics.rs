//! Derived-metric settings: interval, temporality, attribution and its hold, limits, Prometheus.

use super::defaults::*;
use crate::config::values::{ConfigDuration, ListenAddress, MebiBytes, PerMillion};
use serde::Deserialize;

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
    /// Dimension values (model names, attribution values…) are cut to this many bytes, on a
    /// UTF-8 character boundary, before they become metric labels; spans keep theirs whole.
    #[serde(default = "default_max_label_value_length")]
    pub max_label_value_length: usize,
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
            max_label_value_length: default_max_label_value_length(),
            series_idle_timeout: one_hour(),
            cost_thresholds: Vec::new(),
            prometheus: PrometheusConfig::default(),
        }
    }
}

fn default_max_label_value_length() -> usize {
    256
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
