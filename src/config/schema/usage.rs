//! How usage is read off spans (dialect names, semantics rules, batch marker, duplicates)
//! and what enrichment writes.

use super::defaults::*;
use crate::config::values::ConfigDuration;
use serde::Deserialize;

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
    /// A token count above this (any kind, or the input or output of one call in total) is not
    /// believed: the span is `invalid_usage`.
    #[serde(default = "default_max_tokens_per_call")]
    pub max_tokens_per_call: u64,
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
            max_tokens_per_call: default_max_tokens_per_call(),
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
