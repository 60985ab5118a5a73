//! The providers' usage reports, one page at a time, as [`ProviderDay`] rows: Anthropic's
//! `GET /v1/organizations/usage_report/messages` (daily buckets grouped by model; uncached
//! input, cache reads, 5-minute and 1-hour cache writes, output) and OpenAI's
//! `GET /v1/organization/usage/completions` (daily buckets grouped by model; input including
//! the cached tokens, cached input, output). Counts become the convention's reading: input
//! includes cache reads and writes.

use super::{ProviderDay, Usage};
use crate::config::ConfigDate;
use serde::Deserialize;

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
}

#[derive(Deserialize)]
struct AnthropicPage {
    data: Vec<AnthropicBucket>,
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    next_page: Option<String>,
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
    let page: AnthropicPage = serde_json::from_slice(body)?;
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
                usage: Usage {
                    input: result
                        .uncached_input_tokens
                        .saturating_add(result.cache_read_input_tokens)
                        .saturating_add(writes),
                    output: result.output_tokens,
                    cache_read: result.cache_read_input_tokens,
                    cache_creation: writes,
                    cost: None,
                },
            });
        }
    }
    Ok(Page {
        days,
        next_page: page.next_page.filter(|_| page.has_more),
    })
}

#[derive(Deserialize)]
struct OpenAiPage {
    data: Vec<OpenAiBucket>,
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    next_page: Option<String>,
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
    let page: OpenAiPage = serde_json::from_slice(body)?;
    let mut days = Vec::new();
    for bucket in page.data {
        let day =
            ConfigDate::from_unix_nanos(bucket.start_time.saturating_mul(1_000_000_000)).to_iso();
        for result in bucket.results {
            days.push(ProviderDay {
                provider: "openai".into(),
                model: result.model.unwrap_or_default(),
                day: day.clone(),
                usage: Usage {
                    input: result.input_tokens,
                    output: result.output_tokens,
                    cache_read: result.input_cached_tokens,
                    cache_creation: 0,
                    cost: None,
                },
            });
        }
    }
    Ok(Page {
        days,
        next_page: page.next_page.filter(|_| page.has_more),
    })
}

/// The UTC day of an RFC 3339 time such as `2026-12-05T00:00:00Z`.
fn day_of(time: &str) -> Result<String, ReportPageError> {
    let day = time.get(..10).unwrap_or(time);
    ConfigDate::parse(day)
        .map(ConfigDate::to_iso)
        .map_err(|_| ReportPageError::Time(time.to_string()))
}
