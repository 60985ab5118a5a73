//! The providers' usage and cost reports, one page at a time, as [`ProviderDay`] rows:
//! Anthropic's `GET /v1/organizations/usage_report/messages` (daily buckets grouped by model;
//! uncached input, cache reads, 5-minute and 1-hour cache writes, output) and
//! `GET /v1/organizations/cost_report` (grouped by description: amounts in cents as decimal
//! strings, with the model of each token charge); OpenAI's
//! `GET /v1/organization/usage/completions` (daily buckets grouped by model; input including
//! the cached tokens, cached input, output) and `GET /v1/organization/costs` (grouped by line
//! item, `<model>, <kind>`; amounts as numbers in dollars). Counts become the convention's
//! reading: input includes cache reads and writes. Charges tied to no model (web search, code
//! execution) are left out: the comparison is of token charges.

use super::{ProviderDay, Spend};
use crate::config::ConfigDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::str::FromStr;

/// One page of a report and the token of the next, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub days: Vec<ProviderDay>,
    pub next_page: Option<String>,
}

/// Why a page cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportPageError {
    #[error("not a usage report page: {0}")]
    Shape(#[from] serde_json::Error),
    #[error("a bucket starts at `{0}`, not a UTC time")]
    Time(String),
    #[error("an amount `{0}` is not a decimal number")]
    Amount(String),
    #[error("the page says there is more but gives no next page")]
    NoNextPage,
}

#[derive(Deserialize)]
struct AnthropicBucket {
    starting_at: String,
    results: Vec<AnthropicResult>,
}

#[derive(Deserialize)]
struct AnthropicResult {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    uncached_input_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: u64,
    /// The 5m/1h split as an object…
    #[serde(default)]
    cache_creation: Option<CacheCreation>,
    /// …or as fields of their own (both forms are documented).
    #[serde(default)]
    cache_creation_5m_input_tokens: u64,
    #[serde(default)]
    cache_creation_1h_input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

#[derive(Deserialize, Default)]
struct CacheCreation {
    #[serde(default)]
    ephemeral_5m_input_tokens: u64,
    #[serde(default)]
    ephemeral_1h_input_tokens: u64,
}

/// A page of Anthropic's messages usage report (grouped by model, daily buckets).
pub fn anthropic_usage(body: &[u8]) -> Result<Page, ReportPageError> {
    let page: Paged<AnthropicBucket> = serde_json::from_slice(body)?;
    let next_page = page.next()?;
    let mut days = Vec::new();
    for bucket in page.data {
        let day = day_of(&bucket.starting_at)?;
        for result in bucket.results {
            let split = result.cache_creation.unwrap_or_default();
            let writes = split
                .ephemeral_5m_input_tokens
                .saturating_add(split.ephemeral_1h_input_tokens)
                .saturating_add(result.cache_creation_5m_input_tokens)
                .saturating_add(result.cache_creation_1h_input_tokens);
            days.push(ProviderDay {
                provider: "anthropic".into(),
                model: result.model.unwrap_or_default(),
                day: day.clone(),
                usage: Spend {
                    input: result
                        .uncached_input_tokens
                        .saturating_add(result.cache_read_input_tokens)
                        .saturating_add(writes),
                    output: result.output_tokens,
                    cache_read: result.cache_read_input_tokens,
                    cache_creation: writes,
                    cost: None,
                },
                currency: None,
            });
        }
    }
    Ok(Page { days, next_page })
}

#[derive(Deserialize)]
struct OpenAiBucket {
    start_time: u64,
    results: Vec<OpenAiResult>,
}

#[derive(Deserialize)]
struct OpenAiResult {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    input_cached_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

/// A page of OpenAI's completions usage report (grouped by model, daily buckets).
pub fn openai_usage(body: &[u8]) -> Result<Page, ReportPageError> {
    let page: Paged<OpenAiBucket> = serde_json::from_slice(body)?;
    let next_page = page.next()?;
    let mut days = Vec::new();
    for bucket in page.data {
        let day = unix_day(bucket.start_time);
        for result in bucket.results {
            days.push(ProviderDay {
                provider: "openai".into(),
                model: result.model.unwrap_or_default(),
                day: day.clone(),
                usage: Spend {
                    input: result.input_tokens,
                    output: result.output_tokens,
                    cache_read: result.input_cached_tokens,
                    cache_creation: 0,
                    cost: None,
                },
                currency: None,
            });
        }
    }
    Ok(Page { days, next_page })
}

#[derive(Deserialize)]
struct AnthropicCostBucket {
    starting_at: String,
    results: Vec<AnthropicCost>,
}

#[derive(Deserialize)]
struct AnthropicCost {
    /// In the currency's lowest unit (cents), as a decimal string.
    amount: String,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    model: Option<String>,
}

/// A page of Anthropic's cost report (grouped by description, daily buckets): each model's
/// token charges, in dollars.
pub fn anthropic_costs(body: &[u8]) -> Result<Page, ReportPageError> {
    let page: Paged<AnthropicCostBucket> = serde_json::from_slice(body)?;
    let next_page = page.next()?;
    let mut days = Vec::new();
    for bucket in page.data {
        let day = day_of(&bucket.starting_at)?;
        for result in bucket.results {
            let Some(model) = result.model else {
                continue;
            };
            let cents = Decimal::from_str(result.amount.trim())
                .map_err(|_| ReportPageError::Amount(result.amount.clone()))?;
            let currency = result.currency.unwrap_or_else(|| "USD".into());
            days.push(cost_day(
                "anthropic",
                model,
                &day,
                cents / Decimal::ONE_HUNDRED,
                currency.to_uppercase(),
            ));
        }
    }
    Ok(Page { days, next_page })
}

#[derive(Deserialize)]
struct OpenAiCostBucket {
    start_time: u64,
    results: Vec<OpenAiCost>,
}

#[derive(Deserialize)]
struct OpenAiCost {
    amount: OpenAiAmount,
    #[serde(default)]
    line_item: Option<String>,
}

#[derive(Deserialize)]
struct OpenAiAmount {
    /// A JSON number, read from its text (never through a double).
    value: Box<serde_json::value::RawValue>,
    #[serde(default)]
    currency: Option<String>,
}

/// A page of OpenAI's costs (grouped by line item, daily buckets): each model's charges, in
/// dollars, from line items such as `gpt-4o-mini-2024-07-18, input`. A line item that names no
/// model (`web search tool calls`) is left out.
pub fn openai_costs(body: &[u8]) -> Result<Page, ReportPageError> {
    let page: Paged<OpenAiCostBucket> = serde_json::from_slice(body)?;
    let next_page = page.next()?;
    let mut days = Vec::new();
    for bucket in page.data {
        let day = unix_day(bucket.start_time);
        for result in bucket.results {
            let Some((model, _)) = result
                .line_item
                .as_deref()
                .and_then(|item| item.split_once(", "))
            else {
                continue;
            };
            let text = result.amount.value.get().trim();
            let dollars = Decimal::from_str(text)
                .or_else(|_| Decimal::from_scientific(text))
                .map_err(|_| ReportPageError::Amount(text.to_string()))?;
            let currency = result.amount.currency.as_deref().unwrap_or("usd");
            days.push(cost_day(
                "openai",
                model.trim().to_string(),
                &day,
                dollars,
                currency.to_uppercase(),
            ));
        }
    }
    Ok(Page { days, next_page })
}

/// A report page's envelope.
#[derive(Deserialize)]
struct Paged<Bucket> {
    data: Vec<Bucket>,
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    next_page: Option<String>,
}

impl<Bucket> Paged<Bucket> {
    /// The next page's token; a page that says there is more without one is refused rather
    /// than read as the last.
    fn next(&self) -> Result<Option<String>, ReportPageError> {
        match (self.has_more, &self.next_page) {
            (false, _) => Ok(None),
            (true, Some(token)) if !token.is_empty() => Ok(Some(token.clone())),
            (true, _) => Err(ReportPageError::NoNextPage),
        }
    }
}

/// A charge with no tokens: the cost side of a provider, model and day.
fn cost_day(
    provider: &str,
    model: String,
    day: &str,
    cost: Decimal,
    currency: String,
) -> ProviderDay {
    ProviderDay {
        provider: provider.into(),
        model,
        day: day.to_string(),
        usage: Spend {
            cost: Some(cost),
            ..Spend::default()
        },
        currency: Some(currency),
    }
}

/// The UTC day of a bucket starting `seconds` after the Unix epoch.
fn unix_day(seconds: u64) -> String {
    ConfigDate::from_unix_nanos(seconds.saturating_mul(1_000_000_000)).to_iso()
}

/// The UTC day of an RFC 3339 time such as `2026-12-05T00:00:00Z`.
fn day_of(time: &str) -> Result<String, ReportPageError> {
    let day = time.get(..10).unwrap_or(time);
    ConfigDate::parse(day)
        .map(ConfigDate::to_iso)
        .map_err(|_| ReportPageError::Time(time.to_string()))
}
