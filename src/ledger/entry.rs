//! One ledger record: a model call as the JSON-lines ledger writes it and `report` reads it
//! back. Money stays exact: amounts are decimal strings, never doubles.

use crate::config::ConfigDate;
use crate::metrics::CallRecord;
use crate::otlp::validate::hex;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The dimensions every call may have, written as fields of their own; any other dimension
/// (resource and attribution keys) goes into `attributes`.
pub(super) const OPERATION: &str = "gen_ai.operation.name";
pub(super) const PROVIDER: &str = "gen_ai.provider.name";
pub(super) const REQUEST_MODEL: &str = "gen_ai.request.model";
pub(super) const RESPONSE_MODEL: &str = "gen_ai.response.model";
const ERROR_TYPE: &str = "error.type";
const SERVICE: &str = "service.name";

/// A model call: when, which span, what it was, what it used and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// When the call ended, RFC 3339 UTC with nanoseconds.
    pub time: String,
    pub start_time: String,
    pub trace_id: String,
    pub span_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_model: Option<String>,
    /// `ok`, or `error` when the call failed.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Tokens>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_id: Option<String>,
    pub currency: String,
    /// Absent when the call was not priced (`unpriced_reason` says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Costs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unpriced_reason: Option<String>,
    /// Resource and attribution keys (`user.id`, `team`, `feature`…).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// Token counts in the convention's reading: input includes cache reads and writes, output
/// includes reasoning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    /// 5-minute and 1-hour writes together.
    pub cache_creation: u64,
    #[serde(default)]
    pub cache_creation_1h: u64,
    #[serde(default)]
    pub reasoning: u64,
    #[serde(default)]
    pub web_searches: u64,
}

impl Tokens {
    /// Input neither read from nor written to the cache.
    pub fn uncached_input(&self) -> u64 {
        self.input
            .saturating_sub(self.cache_read)
            .saturating_sub(self.cache_creation)
    }
}

/// What a call cost, by kind, with the cache's effect.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Costs {
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub input: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub output: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub cache_read: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub cache_creation: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tools: Decimal,
    /// All input at the input price minus what input and the cache cost.
    #[serde(with = "rust_decimal::serde::str")]
    pub cache_savings: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub cache_hit_ratio: Decimal,
}

impl LedgerEntry {
    /// The entry of `record`, priced in `currency`.
    pub fn of(record: &CallRecord, currency: &str) -> LedgerEntry {
        let mut entry = LedgerEntry {
            time: rfc3339(record.span.end_unix_nano),
            start_time: rfc3339(record.span.start_unix_nano),
            trace_id: hex(&record.span.trace_id),
            span_id: hex(&record.span.span_id),
            service: None,
            provider: None,
            operation: None,
            request_model: None,
            response_model: None,
            status: if record.span.failed { "error" } else { "ok" }.to_string(),
            error_type: None,
            tokens: record.usage.map(|usage| Tokens {
                input: usage.input,
                output: usage.output,
                cache_read: usage.cache_read,
                cache_creation: usage.cache_write(),
                cache_creation_1h: usage.cache_write_1h,
                reasoning: usage.reasoning,
                web_searches: usage.web_searches,
            }),
            price_id: record.price_id.clone(),
            currency: currency.to_string(),
            cost: record.cost.map(|cost| Costs {
                total: cost.total.normalize(),
                input: cost.input.normalize(),
                output: cost.output.normalize(),
                cache_read: cost.cache_read.normalize(),
                cache_creation: cost.cache_creation.normalize(),
                tools: cost.tools.normalize(),
                cache_savings: cost.savings.normalize(),
                cache_hit_ratio: cost.hit_ratio.normalize(),
            }),
            unpriced_reason: record.unpriced.map(|reason| reason.as_str().to_string()),
            attributes: BTreeMap::new(),
        };
        for (key, value) in &record.dimensions {
            let field = match &**key {
                OPERATION => &mut entry.operation,
                PROVIDER => &mut entry.provider,
                REQUEST_MODEL => &mut entry.request_model,
                RESPONSE_MODEL => &mut entry.response_model,
                ERROR_TYPE => &mut entry.error_type,
                SERVICE => &mut entry.service,
                other => {
                    entry.attributes.insert(other.to_string(), value.clone());
                    continue;
                }
            };
            *field = Some(value.clone());
        }
        if entry.error_type.is_some() {
            entry.status = "error".to_string();
        }
        entry
    }

    /// The billed model: the response's, else the request's.
    pub fn model(&self) -> &str {
        self.response_model
            .as_deref()
            .or(self.request_model.as_deref())
            .unwrap_or("unknown")
    }

    /// The UTC day the call ended, `YYYY-MM-DD`.
    pub fn day(&self) -> &str {
        self.time.get(..10).unwrap_or(&self.time)
    }

    /// Whether the provider refused the call for its rate.
    pub fn throttled(&self) -> bool {
        self.error_type.as_deref().is_some_and(throttled)
    }
}

/// Whether an `error.type` says the provider refused for its rate: HTTP 429, Anthropic's
/// `rate_limit_error`, the SDKs' `RateLimitError`.
pub fn throttled(error_type: &str) -> bool {
    let error = error_type.to_ascii_lowercase();
    error == "429" || error.contains("rate_limit") || error.contains("ratelimit")
}

/// `nanos` since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
pub fn rfc3339(nanos: u64) -> String {
    let seconds = nanos / 1_000_000_000;
    let of_day = seconds % 86_400;
    let mut text = ConfigDate::from_unix_nanos(nanos).to_iso();
    let _ = write!(
        text,
        "T{:02}:{:02}:{:02}.{:09}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        nanos % 1_000_000_000
    );
    text
}
