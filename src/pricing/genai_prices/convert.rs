//! One genai-prices model's prices turned into the catalog's versions: per-token-kind tiers
//! become whole-rate tiers at every threshold any kind has, dated and time-of-day prices become
//! versions with the same selection rule, and the batch variant becomes the version's own batch
//! prices (split into versions where the variant starts at another date).

use super::data::{
    decimal, tiered, ConditionalText, ConstraintText, ModelText, NumberError, Tiered,
};
use crate::config::ConfigDate;
use crate::pricing::catalog::{second_of_day, BatchPrice, PriceVersion, Rates, Tier, TimeOfDay};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// The price keys the agent prices; a model's other keys (audio and image tokens, characters…)
/// are listed by [`ConvertedModel::unsupported`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct PriceKeys {
    input: Option<Tiered>,
    output: Option<Tiered>,
    cache_read: Option<Tiered>,
    cache_write: Option<Tiered>,
    cache_write_1h: Option<Tiered>,
    web_searches_per_1k: Option<Decimal>,
    requests_per_1k: Option<Decimal>,
}

/// What is wrong with a model's prices.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("price `{key}`: {error}")]
    Number { key: String, error: NumberError },
    #[error("prices: {0}")]
    Shape(#[from] serde_json::Error),
    #[error("constraint: `{0}` is not a date (YYYY-MM-DD) or a UTC time (HH:MM:SSZ)")]
    Constraint(String),
    #[error("{0} has tiers")]
    TieredFee(String),
    #[error("prices: an empty list")]
    NoPrices,
}

pub(super) struct ConvertedModel {
    pub versions: Vec<PriceVersion>,
    /// Whether any price set prices tokens (input, output or cache): a model priced only by
    /// other units (audio hours, characters, requests) cannot be priced from token usage.
    pub prices_tokens: bool,
    /// Price keys present that the agent does not price (their tokens are priced as the kind
    /// they belong to, as if the key were absent).
    pub unsupported: Vec<String>,
}

pub(super) fn convert(model: &ModelText) -> Result<ConvertedModel, ConvertError> {
    let text = model.prices.get().trim();
    let conditionals: Vec<ConditionalText> = if text.starts_with('[') {
        serde_json::from_str(text)?
    } else {
        vec![ConditionalText {
            constraint: None,
            prices: serde_json::from_str(text)?,
        }]
    };
    if conditionals.is_empty() {
        return Err(ConvertError::NoPrices);
    }
    let mut unsupported = Vec::new();
    let mut standard = Vec::new();
    for conditional in &conditionals {
        let when = conditional
            .constraint
            .as_ref()
            .map(constraint)
            .transpose()?;
        standard.push((when, keys(&conditional.prices, &mut unsupported)?));
    }
    let mut batch = Vec::new();
    for variant in &model.price_variants {
        let is_batch = variant.when.len() == 1
            && variant.when.get("processing").map(String::as_str) == Some("batch");
        if is_batch {
            let when = variant.constraint.as_ref().map(constraint).transpose()?;
            batch.push((when, keys(&variant.prices, &mut unsupported)?));
        }
    }
    let daily = |(when, _): &(Option<When>, PriceKeys)| matches!(when, Some(When::Daily(_)));
    if (standard.iter().any(daily) || batch.iter().any(daily))
        && batch.iter().any(|(when, _)| when.is_some())
    {
        // Not priced: batch calls pay the standard prices (see `versions`).
        unsupported.push("price_variants: batch prices with a date or hours".to_string());
    }
    unsupported.sort();
    unsupported.dedup();
    let prices_tokens = standard
        .iter()
        .chain(&batch)
        .any(|(_, keys)| keys.prices_tokens());
    Ok(ConvertedModel {
        prices_tokens,
        versions: versions(&standard, &batch),
        unsupported,
    })
}

/// A condition of genai-prices: from a UTC date on, or within a UTC time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    From(ConfigDate),
    Daily(TimeOfDay),
}

/// A constraint's UTC clock time (`HH:MM:SSZ`) as seconds after midnight.
fn clock(text: &str) -> Result<u32, ConvertError> {
    second_of_day(text).ok_or_else(|| ConvertError::Constraint(text.to_string()))
}

fn constraint(text: &ConstraintText) -> Result<When, ConvertError> {
    match text {
        ConstraintText::StartDate { start_date } => ConfigDate::parse(start_date)
            .map(When::From)
            .map_err(|_| ConvertError::Constraint(start_date.clone())),
        ConstraintText::TimeOfDay {
            start_time,
            end_time,
        } => Ok(When::Daily(TimeOfDay {
            start_second: clock(start_time)?,
            end_second: clock(end_time)?,
        })),
    }
}

fn keys(
    prices: &BTreeMap<String, Box<RawValue>>,
    unsupported: &mut Vec<String>,
) -> Result<PriceKeys, ConvertError> {
    let mut keys = PriceKeys::default();
    for (key, raw) in prices {
        if raw.get().trim() == "null" {
            continue;
        }
        let number = |error| ConvertError::Number {
            key: key.clone(),
            error,
        };
        let value = || tiered(raw).map_err(number);
        match key.as_str() {
            "input_mtok" => keys.input = Some(value()?),
            "output_mtok" => keys.output = Some(value()?),
            "cache_read_mtok" => keys.cache_read = Some(value()?),
            "cache_write_mtok" => keys.cache_write = Some(value()?),
            "cache_write_1h_mtok" => keys.cache_write_1h = Some(value()?),
            "web_searches_kcount" | "requests_kcount" => {
                if raw.get().trim().starts_with('{') {
                    return Err(ConvertError::TieredFee(key.clone()));
                }
                let fee = Some(decimal(raw).map_err(number)?);
                match key.as_str() {
                    "web_searches_kcount" => keys.web_searches_per_1k = fee,
                    _ => keys.requests_per_1k = fee,
                }
            }
            other => unsupported.push(other.to_string()),
        }
    }
    Ok(keys)
}

impl PriceKeys {
    fn prices_tokens(&self) -> bool {
        self.input.is_some()
            || self.output.is_some()
            || self.cache_read.is_some()
            || self.cache_write.is_some()
            || self.cache_write_1h.is_some()
    }

    /// `self` with the keys `overrides` gives replaced.
    fn overlaid(&self, overrides: &PriceKeys) -> PriceKeys {
        PriceKeys {
            input: overrides.input.clone().or_else(|| self.input.clone()),
            output: overrides.output.clone().or_else(|| self.output.clone()),
            cache_read: overrides
                .cache_read
                .clone()
                .or_else(|| self.cache_read.clone()),
            cache_write: overrides
                .cache_write
                .clone()
                .or_else(|| self.cache_write.clone()),
            cache_write_1h: overrides
                .cache_write_1h
                .clone()
                .or_else(|| self.cache_write_1h.clone()),
            web_searches_per_1k: overrides.web_searches_per_1k.or(self.web_searches_per_1k),
            requests_per_1k: overrides.requests_per_1k.or(self.requests_per_1k),
        }
    }

    /// The rates for a request of `total_input` tokens. An unpriced kind is priced as the kind
    /// it belongs to: cache reads and writes as input, 1-hour writes as writes.
    fn rates_at(&self, total_input: u64) -> Rates {
        let at = |price: &Option<Tiered>| price.as_ref().map(|price| price.at(total_input));
        let input = at(&self.input).unwrap_or(Decimal::ZERO);
        let cache_write_5m = at(&self.cache_write).unwrap_or(input);
        Rates {
            input,
            output: at(&self.output).unwrap_or(Decimal::ZERO),
            cache_read: at(&self.cache_read).unwrap_or(input),
            cache_write_5m,
            cache_write_1h: at(&self.cache_write_1h).unwrap_or(cache_write_5m),
        }
    }

    /// Base rates and a whole-rate tier at every threshold any kind has: a request above a
    /// threshold pays each kind's rate for that threshold, as genai-prices picks per kind.
    fn rates_and_tiers(&self) -> (Rates, Vec<Tier>) {
        let mut starts: Vec<u64> = [
            &self.input,
            &self.output,
            &self.cache_read,
            &self.cache_write,
            &self.cache_write_1h,
        ]
        .into_iter()
        .flatten()
        .flat_map(|price| price.tiers.iter().map(|(start, _)| *start))
        .collect();
        starts.sort_unstable();
        starts.dedup();
        let tiers = starts
            .into_iter()
            .map(|start| Tier {
                above_input_tokens: start,
                rates: self.rates_at(start.saturating_add(1)),
            })
            .collect();
        (self.rates_at(0), tiers)
    }
}

/// The catalog's versions for standard prices `standard` (genai-prices' conditional list, in
/// its order) and batch variants `batch` (in order).
fn versions(
    standard: &[(Option<When>, PriceKeys)],
    batch: &[(Option<When>, PriceKeys)],
) -> Vec<PriceVersion> {
    let dated_batch: Vec<ConfigDate> = batch
        .iter()
        .filter_map(|(when, _)| match when {
            Some(When::From(date)) => Some(*date),
            _ => None,
        })
        .collect();
    let daily = standard
        .iter()
        .chain(batch)
        .any(|(when, _)| matches!(when, Some(When::Daily(_))));
    if dated_batch.is_empty() || daily {
        // Each conditional price is a version; the batch variant (undated, or left out where
        // prices change by the hour) applies to all.
        let variant = merged(batch.iter().filter(|(when, _)| when.is_none()));
        return standard
            .iter()
            .map(|(when, keys)| version(*when, keys, variant.as_ref()))
            .collect();
    }
    // Dated prices and dated batch variants: a version from each date either changes on.
    let mut dates: Vec<ConfigDate> = standard
        .iter()
        .filter_map(|(when, _)| match when {
            Some(When::From(date)) => Some(*date),
            _ => None,
        })
        .chain(dated_batch)
        .collect();
    dates.sort();
    dates.dedup();
    let active = |when: &Option<When>, at: Option<ConfigDate>| match (when, at) {
        (None, _) => true,
        (Some(When::From(from)), Some(at)) => *from <= at,
        _ => false,
    };
    std::iter::once(None)
        .chain(dates.into_iter().map(Some))
        .map(|at| {
            let keys = standard
                .iter()
                .rev()
                .find(|(when, _)| active(when, at))
                .unwrap_or(&standard[0])
                .1
                .clone();
            let variant = merged(batch.iter().filter(|(when, _)| active(when, at)));
            version(at.map(When::From), &keys, variant.as_ref())
        })
        .collect()
}

/// The variants that apply, as one: a key from the first variant that gives it.
fn merged<'a>(variants: impl Iterator<Item = &'a (Option<When>, PriceKeys)>) -> Option<PriceKeys> {
    variants.fold(None, |merged, (_, keys)| {
        Some(match merged {
            None => keys.clone(),
            Some(earlier) => keys.overlaid(&earlier),
        })
    })
}

fn version(when: Option<When>, keys: &PriceKeys, batch: Option<&PriceKeys>) -> PriceVersion {
    let (rates, tiers) = keys.rates_and_tiers();
    let (effective_from, time_of_day) = match when {
        Some(When::From(date)) => (Some(date), None),
        Some(When::Daily(window)) => (None, Some(window)),
        None => (None, None),
    };
    PriceVersion {
        effective_from: effective_from.unwrap_or(ConfigDate {
            days_since_epoch: 0,
        }),
        dated: effective_from.is_some(),
        time_of_day,
        rates,
        batch: batch.map_or(BatchPrice::Standard, |variant| {
            let batch_keys = keys.overlaid(variant);
            let (rates, tiers) = batch_keys.rates_and_tiers();
            BatchPrice::Own {
                rates,
                tiers,
                web_search_per_1k: batch_keys.web_searches_per_1k.unwrap_or(Decimal::ZERO),
                request_fee_per_1k: batch_keys.requests_per_1k.unwrap_or(Decimal::ZERO),
            }
        }),
        web_search_per_1k: keys.web_searches_per_1k.unwrap_or(Decimal::ZERO),
        request_fee_per_1k: keys.requests_per_1k.unwrap_or(Decimal::ZERO),
        tiers,
    }
}
