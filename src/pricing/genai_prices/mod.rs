//! The field's shared price data, genai-prices (pydantic, MIT; its v2 JSON: providers, their
//! models, match rules, prices with tiers, dated and time-of-day prices, batch variants): read
//! into catalog entries, and the provider-first lookup of a span's model.
//!
//! A snapshot is embedded ([`SNAPSHOT`], written by `ci/genai_prices_snapshot.py` from the PyPI
//! package [`SNAPSHOT_VERSION`]); `pricing.catalog_files` may name newer files in the same format.

mod convert;
mod data;
mod lookup;
mod rule;

pub use convert::ConvertError;
pub use data::{NumberError, Tiered};
pub use rule::{LazyRegex, MatchRule, RuleError};

use crate::pricing::catalog::PriceEntry;
use data::ProviderText;
use std::sync::{Arc, OnceLock};

/// The embedded data.
pub const SNAPSHOT: &str = include_str!("snapshot.json");
/// The genai-prices release the embedded data comes from.
pub const SNAPSHOT_VERSION: &str = "genai-prices 0.2.3 (PyPI)";

/// Why a data file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SharedPricesError {
    #[error("not genai-prices v2 data: {0}")]
    Shape(#[from] serde_json::Error),
    #[error("provider `{provider}`: api_pattern {error}")]
    ApiPattern { provider: String, error: RuleError },
    #[error("provider `{provider}`: {error}")]
    ProviderRule { provider: String, error: RuleError },
    #[error("provider `{0}` appears twice")]
    DuplicateProvider(String),
    #[error("model `{provider}/{model}`: {error}")]
    ModelRule {
        provider: String,
        model: String,
        error: RuleError,
    },
    #[error("model `{provider}/{model}`: {error}")]
    Prices {
        provider: String,
        model: String,
        error: ConvertError,
    },
}

/// A data file that cannot be read, and which.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {error}")]
pub struct LayerError {
    pub file: String,
    pub error: Box<SharedPricesError>,
}

/// One provider: how spans name it, and its models in the data's order (the first whose rule
/// matches prices the call).
#[derive(Debug)]
pub struct SharedProvider {
    pub id: String,
    /// Anchored at the start, as genai-prices matches it.
    api_pattern: LazyRegex,
    provider_match: Option<MatchRule>,
    model_match: Option<MatchRule>,
    /// Providers whose models this one also serves (indexes), searched after its own.
    fallbacks: Vec<usize>,
    /// Each model's rule and its entry's index in [`SharedPrices::entries`].
    models: Vec<(MatchRule, usize)>,
}

/// The data, read: providers, and one catalog entry per model (id `provider/model`).
#[derive(Debug)]
pub struct SharedPrices {
    pub providers: Vec<SharedProvider>,
    pub entries: Vec<PriceEntry>,
    /// Per entry, the price keys it has that the agent does not price (audio, images…).
    pub unsupported: Vec<Vec<String>>,
    /// Entries never matched (but listed): priced only by units other than tokens.
    pub not_token_priced: Vec<String>,
}

/// How a span's model was found in the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedMatch {
    pub entry: usize,
    /// The provider the span named (or whose model names matched), and the provider whose
    /// model list held the model (another one when reached through a fallback).
    pub provider: usize,
    pub listed_by: usize,
    pub provider_found_by: ProviderFoundBy,
}

/// How the provider was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderFoundBy {
    /// The span's provider name is the provider's id (or a known alias of it).
    Id,
    /// The provider's `provider_match` rule covers the span's provider name.
    ProviderRule,
    /// The span's server address is the provider's API host.
    ApiHost,
    /// No provider was named or recognised: the first provider whose `model_match` covers the
    /// model name.
    ModelRule,
}

impl SharedPrices {
    /// Reads genai-prices v2 JSON; `source` names it on entries (`price` explains it).
    pub fn parse(json: &str, source: &str) -> Result<SharedPrices, LayerError> {
        Self::layered(&[(json, source)])
    }

    /// Reads several files of genai-prices v2 JSON (`(text, source)`, in order): a provider in a
    /// later file replaces the one of the same id (a newer full file replaces them all, a file
    /// of one provider only that one).
    pub fn layered(layers: &[(&str, &str)]) -> Result<SharedPrices, LayerError> {
        let mut written: Vec<(ProviderText, &str)> = Vec::new();
        for (json, source) in layers {
            let error = |error| LayerError {
                file: source.to_string(),
                error: Box::new(error),
            };
            let providers: Vec<ProviderText> =
                serde_json::from_str(json).map_err(|shape| error(shape.into()))?;
            for (index, provider) in providers.iter().enumerate() {
                if providers[..index]
                    .iter()
                    .any(|other| other.id == provider.id)
                {
                    return Err(error(SharedPricesError::DuplicateProvider(
                        provider.id.clone(),
                    )));
                }
            }
            for provider in providers {
                match written
                    .iter_mut()
                    .find(|(known, _)| known.id == provider.id)
                {
                    Some(known) => *known = (provider, source),
                    None => written.push((provider, source)),
                }
            }
        }
        let mut prices = SharedPrices {
            providers: Vec::with_capacity(written.len()),
            entries: Vec::new(),
            unsupported: Vec::new(),
            not_token_priced: Vec::new(),
        };
        for (provider, source) in &written {
            let built = prices
                .provider(provider, source)
                .map_err(|error| LayerError {
                    file: source.to_string(),
                    error: Box::new(error),
                })?;
            prices.providers.push(built);
        }
        let written: Vec<&ProviderText> = written.iter().map(|(provider, _)| provider).collect();
        prices.link_fallbacks(&written);
        Ok(prices)
    }

    fn link_fallbacks(&mut self, written: &[&ProviderText]) {
        for (index, provider) in written.iter().enumerate() {
            for fallback in &provider.fallback_model_providers {
                // A fallback the data does not hold is passed over, as genai-prices does (a
                // file of one provider may name others).
                let found = written.iter().position(|other| &other.id == fallback);
                self.providers[index].fallbacks.extend(found);
            }
        }
    }

    fn provider(
        &mut self,
        text: &ProviderText,
        source: &str,
    ) -> Result<SharedProvider, SharedPricesError> {
        let provider_rule = |rule: &Option<rule::RuleText>| {
            rule.as_ref()
                .map(MatchRule::compile)
                .transpose()
                .map_err(|error| SharedPricesError::ProviderRule {
                    provider: text.id.clone(),
                    error,
                })
        };
        let mut provider = SharedProvider {
            id: text.id.clone(),
            api_pattern: LazyRegex::new(&format!("^(?:{})", text.api_pattern)).map_err(
                |error| SharedPricesError::ApiPattern {
                    provider: text.id.clone(),
                    error,
                },
            )?,
            provider_match: provider_rule(&text.provider_match)?,
            model_match: provider_rule(&text.model_match)?,
            fallbacks: Vec::new(),
            models: Vec::with_capacity(text.models.len()),
        };
        for model in &text.models {
            let rule =
                MatchRule::compile(&model.rule).map_err(|error| SharedPricesError::ModelRule {
                    provider: text.id.clone(),
                    model: model.id.clone(),
                    error,
                })?;
            let converted = convert::convert(model).map_err(|error| SharedPricesError::Prices {
                provider: text.id.clone(),
                model: model.id.clone(),
                error,
            })?;
            let id = format!("{}/{}", text.id, model.id);
            if !converted.prices_tokens && !converted.unsupported.is_empty() {
                // Priced by characters, audio or requests only: listed, but never matched — a
                // token count cannot be priced by it, and a price of zero would be a guess.
                self.not_token_priced.push(id.clone());
            } else {
                provider.models.push((rule, self.entries.len()));
            }
            self.entries.push(PriceEntry {
                id,
                provider: Some(text.id.clone()),
                source: Some(source.to_string()),
                patterns: Vec::new(),
                versions: converted.versions,
                builtin: true,
            });
            self.unsupported.push(converted.unsupported);
        }
        Ok(provider)
    }

    /// The rule that lists entry `entry` in `provider`'s models.
    pub fn rule_of(&self, provider: usize, entry: usize) -> Option<&MatchRule> {
        self.providers[provider]
            .models
            .iter()
            .find(|(_, listed)| *listed == entry)
            .map(|(rule, _)| rule)
    }

    /// The index of the entry `provider/model`.
    pub fn entry_index(&self, id: &str) -> Option<usize> {
        self.entries.iter().position(|entry| entry.id == id)
    }

    /// The embedded snapshot, read once per process.
    pub fn snapshot() -> Result<Arc<SharedPrices>, Arc<LayerError>> {
        static SNAPSHOT_READ: OnceLock<Result<Arc<SharedPrices>, Arc<LayerError>>> =
            OnceLock::new();
        SNAPSHOT_READ
            .get_or_init(|| {
                SharedPrices::parse(SNAPSHOT, SNAPSHOT_VERSION)
                    .map(Arc::new)
                    .map_err(Arc::new)
            })
            .clone()
    }
}

#[cfg(test)]
mod tests;
