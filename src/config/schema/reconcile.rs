//! Reconciling with the bill: which providers' usage and cost reports are polled, how often,
//! over how many days, and how far apart the two sides may be and still match.

use super::defaults::*;
use crate::config::values::{ConfigDuration, Multiplier};
use serde::Deserialize;

/// The providers' admin reports against the agent's own spend; off unless configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileConfig {
    /// How often the reports are read again (late-arriving data replaces what was read).
    #[serde(default = "one_hour")]
    pub interval: ConfigDuration,
    /// How many UTC days, today included, are compared.
    #[serde(default = "default_reconcile_days")]
    pub days: u32,
    /// Each request to a provider's admin API, retries after a 429 included.
    #[serde(default = "thirty_seconds")]
    pub timeout: ConfigDuration,
    #[serde(default)]
    pub tolerance: ReconcileTolerance,
    #[serde(default)]
    pub anthropic: Option<ProviderReports>,
    #[serde(default)]
    pub openai: Option<ProviderReports>,
}

/// How far apart the two sides may be and still match, as fractions (`"0.02"`: 2%).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileTolerance {
    #[serde(default = "two_percent")]
    pub tokens: Multiplier,
    #[serde(default = "two_percent")]
    pub cost: Multiplier,
}

impl Default for ReconcileTolerance {
    fn default() -> Self {
        Self {
            tokens: two_percent(),
            cost: two_percent(),
        }
    }
}

/// One provider's admin API.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProviderReports {
    /// The environment variable holding the admin key (never the key itself); by default
    /// `ANTHROPIC_ADMIN_KEY` or `OPENAI_ADMIN_KEY`.
    #[serde(default)]
    pub admin_key_env: Option<String>,
    /// The API's base URL, for a proxy; by default the provider's own.
    #[serde(default)]
    pub base_url: Option<String>,
}

fn default_reconcile_days() -> u32 {
    7
}

fn two_percent() -> Multiplier {
    Multiplier(rust_decimal::Decimal::new(2, 2))
}
