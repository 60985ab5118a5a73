//! genai-prices' v2 price data as written (a JSON array of providers), read with every price
//! taken exactly from its JSON text into `Decimal` (never through `f64`).

use super::rule::RuleText;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
pub(super) struct ProviderText {
    pub id: String,
    pub api_pattern: String,
    #[serde(default)]
    pub model_match: Option<RuleText>,
    #[serde(default)]
    pub provider_match: Option<RuleText>,
    #[serde(default)]
    pub fallback_model_providers: Vec<String>,
    pub models: Vec<ModelText>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ModelText {
    pub id: String,
    #[serde(rename = "match")]
    pub rule: RuleText,
    /// A price set, or a list of conditional price sets.
    pub prices: Box<RawValue>,
    #[serde(default)]
    pub price_variants: Vec<VariantText>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ConditionalText {
    #[serde(default)]
    pub constraint: Option<ConstraintText>,
    pub prices: BTreeMap<String, Box<RawValue>>,
}

/// When a conditional price or a variant applies.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum ConstraintText {
    StartDate {
        start_date: String,
    },
    TimeOfDay {
        start_time: String,
        end_time: String,
    },
}

#[derive(Debug, Deserialize)]
pub(super) struct VariantText {
    pub when: BTreeMap<String, String>,
    pub prices: BTreeMap<String, Box<RawValue>>,
    #[serde(default)]
    pub constraint: Option<ConstraintText>,
}

#[derive(Debug, Deserialize)]
struct TieredText {
    base: Box<RawValue>,
    tiers: Vec<TierText>,
}

#[derive(Debug, Deserialize)]
struct TierText {
    start: u64,
    price: Box<RawValue>,
}

/// One price: a flat rate, or a base rate and rates above input-token thresholds (the whole
/// count at the highest threshold the request's total input is above).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tiered {
    pub base: Decimal,
    /// Ascending starts.
    pub tiers: Vec<(u64, Decimal)>,
}

impl Tiered {
    pub fn flat(rate: Decimal) -> Self {
        Tiered {
            base: rate,
            tiers: Vec::new(),
        }
    }

    /// The rate for a request of `total_input` tokens.
    pub fn at(&self, total_input: u64) -> Decimal {
        self.tiers
            .iter()
            .rev()
            .find(|(start, _)| total_input > *start)
            .map_or(self.base, |(_, rate)| *rate)
    }
}

/// What is wrong with a number in the data.
#[derive(Debug, thiserror::Error)]
pub enum NumberError {
    #[error("`{0}` is not a decimal number")]
    NotDecimal(String),
    #[error("`{0}` is negative")]
    Negative(String),
    #[error(transparent)]
    Shape(#[from] serde_json::Error),
}

/// A price value exactly as written: a number, or `{"base": …, "tiers": [{"start", "price"}]}`.
pub(super) fn tiered(raw: &RawValue) -> Result<Tiered, NumberError> {
    let text = raw.get().trim();
    if !text.starts_with('{') {
        return Ok(Tiered::flat(decimal(raw)?));
    }
    let written: TieredText = serde_json::from_str(text)?;
    let mut tiers = written
        .tiers
        .iter()
        .map(|tier| Ok((tier.start, decimal(&tier.price)?)))
        .collect::<Result<Vec<_>, NumberError>>()?;
    tiers.sort_by_key(|(start, _)| *start);
    Ok(Tiered {
        base: decimal(&written.base)?,
        tiers,
    })
}

/// A JSON number read exactly from its text (`2.5`, `0.18000000000000002`, `9.7e-7`).
pub(super) fn decimal(raw: &RawValue) -> Result<Decimal, NumberError> {
    let text = raw.get().trim();
    let value = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str_exact(text)
    }
    .map_err(|_| NumberError::NotDecimal(text.chars().take(40).collect()))?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(NumberError::Negative(text.to_string()));
    }
    Ok(value)
}
