//! Pricing settings: the catalog switches and price entries with versions and tiers.

use super::defaults::*;
use crate::config::values::{ConfigDate, ConfigDuration, Multiplier, PerMillion};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingConfig {
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Use the catalogs built into the binary (the agent's own entries, then the embedded
    /// genai-prices snapshot); entries below replace built-ins of the same id.
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
    /// Files of genai-prices' v2 price data (its `data.json`) read at start: a provider in a
    /// file replaces the embedded snapshot's provider of the same id.
    #[serde(default)]
    pub catalog_files: Vec<String>,
    /// How often `catalog_files` are checked for changes (a changed file reloads the catalog;
    /// SIGHUP reloads at once).
    #[serde(default = "ten_seconds")]
    pub reload_interval: ConfigDuration,
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
            catalog_files: Vec::new(),
            reload_interval: ten_seconds(),
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
    pub fn price_versions(&self) -> Result<Vec<PriceVersionConfig>, PricesShapeError> {
        let single = self.input.is_some() || self.output.is_some();
        match (single, self.versions.is_empty()) {
            (true, false) => Err(PricesShapeError::Both),
            (false, true) => Err(PricesShapeError::Neither),
            (false, false) => Ok(self.versions.clone()),
            (true, true) => Ok(vec![PriceVersionConfig {
                effective_from: self.effective_from,
                input: self.input.ok_or(PricesShapeError::OutputOnly)?,
                output: self.output.ok_or(PricesShapeError::InputOnly)?,
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

/// How an entry's prices are written wrongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PricesShapeError {
    #[error("write prices either on the entry or under `versions`, not both")]
    Both,
    #[error("needs `input` and `output` prices, or `versions`")]
    Neither,
    #[error("`output` is given without `input`")]
    OutputOnly,
    #[error("`input` is given without `output`")]
    InputOnly,
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
