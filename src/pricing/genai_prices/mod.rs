//! The field's shared price data, genai-prices (pydantic, MIT; its v2 JSON: providers, their
//! models, match rules, prices with tiers, dated and time-of-day prices, batch variants): read
//! into catalog entries, and the provider-first lookup of a span's model.
//!
//! A snapshot is embedded ([`SNAPSHOT`], written by `ci/genai_prices_snapshot.py` from the PyPI
//! package [`SNAPSHOT_VERSION`]); `pricing.catalog_files` may name newer files in the same format.

mod convert;
mod data;
mod rule;

pub use convert::ConvertError;
pub use data::{NumberError, Tiered};
pub use rule::{MatchRule, RuleError};

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
    #[error("provider `{provider}`: fallback provider `{fallback}` is not in the data")]
    Fallback { provider: String, fallback: String },
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
    pub name: Option<String>,
    api_pattern: fancy_regex::Regex,
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
    pub source: String,
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
        let sources = layers.iter().map(|(_, source)| *source).collect::<Vec<_>>();
        let mut prices = SharedPrices {
            source: sources.join(", "),
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
        prices.link_fallbacks(&written)?;
        Ok(prices)
    }

    fn link_fallbacks(&mut self, written: &[&ProviderText]) -> Result<(), LayerError> {
        for (index, provider) in written.iter().enumerate() {
            for fallback in &provider.fallback_model_providers {
                let found = written
                    .iter()
                    .position(|other| &other.id == fallback)
                    .ok_or_else(|| LayerError {
                        file: self.source.clone(),
                        error: Box::new(SharedPricesError::Fallback {
                            provider: provider.id.clone(),
                            fallback: fallback.clone(),
                        }),
                    })?;
                self.providers[index].fallbacks.push(found);
            }
        }
        Ok(())
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
            name: text.name.clone(),
            api_pattern: rule::regex(&format!("^(?:{})", text.api_pattern), &text.api_pattern)
                .map_err(|error| SharedPricesError::ApiPattern {
                    provider: text.id.clone(),
                    error,
                })?,
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

    /// The model `model` names, for a span that names `provider` (`gen_ai.provider.name` or
    /// `gen_ai.system`, lower-cased) and was sent to `server_address`: the provider first (by
    /// id or alias, else by API host, else by the first provider whose model names cover the
    /// model), then that provider's models in order, then the providers it falls back to, then
    /// once more with a compact date (`-20250929`) written out (`-2025-09-29`).
    /// Entries for which `disabled` holds are passed over, as if not listed.
    pub fn find(
        &self,
        model: &str,
        provider: Option<&str>,
        server_address: Option<&str>,
        disabled: &impl Fn(usize) -> bool,
    ) -> Option<SharedMatch> {
        let mut model = model.trim().to_lowercase();
        let mut provider = provider.map(|name| name.trim().to_lowercase());
        // LiteLLM names the provider in the model: `anthropic/claude-…`.
        if provider.as_deref() == Some("litellm") {
            if let Some((prefix, rest)) = model.split_once('/') {
                if self.providers.iter().any(|known| known.id == alias(prefix)) {
                    (provider, model) = (Some(prefix.to_string()), rest.to_string());
                }
            }
        }
        let (chosen, found_by) = self.provider_of(&model, provider.as_deref(), server_address)?;
        let in_provider = |name: &str| {
            std::iter::once(chosen)
                .chain(self.providers[chosen].fallbacks.iter().copied())
                .find_map(|listed_by| {
                    self.providers[listed_by]
                        .models
                        .iter()
                        .find(|(rule, entry)| !disabled(*entry) && rule.matches(name))
                        .map(|(_, entry)| SharedMatch {
                            entry: *entry,
                            provider: chosen,
                            listed_by,
                            provider_found_by: found_by,
                        })
                })
        };
        in_provider(&model)
            .or_else(|| expand_compact_date(&model).and_then(|name| in_provider(&name)))
    }

    fn provider_of(
        &self,
        model: &str,
        provider: Option<&str>,
        server_address: Option<&str>,
    ) -> Option<(usize, ProviderFoundBy)> {
        let by_name = provider.and_then(|name| {
            let id = alias(name);
            self.providers
                .iter()
                .position(|provider| provider.id == id)
                .map(|index| (index, ProviderFoundBy::Id))
                .or_else(|| {
                    self.providers
                        .iter()
                        .position(|provider| {
                            provider
                                .provider_match
                                .as_ref()
                                .is_some_and(|rule| rule.matches(name))
                        })
                        .map(|index| (index, ProviderFoundBy::ProviderRule))
                })
        });
        by_name
            .or_else(|| {
                let host = server_address?.trim().to_lowercase();
                let url = format!("https://{host}");
                self.providers
                    .iter()
                    .position(|provider| provider.api_pattern.is_match(&url).unwrap_or(false))
                    .map(|index| (index, ProviderFoundBy::ApiHost))
            })
            .or_else(|| {
                self.providers
                    .iter()
                    .position(|provider| {
                        provider
                            .model_match
                            .as_ref()
                            .is_some_and(|rule| rule.matches(model))
                    })
                    .map(|index| (index, ProviderFoundBy::ModelRule))
            })
    }
}

/// OpenTelemetry's provider names (`gen_ai.provider.name`, and older `gen_ai.system` values)
/// that name a genai-prices provider by another word than its id or `provider_match`.
fn alias(name: &str) -> &str {
    match name {
        "azure.ai.openai" | "az.ai.openai" | "azure.ai.inference" | "az.ai.inference"
        | "azure_openai" | "azure-openai" => "azure",
        "x_ai" => "x-ai",
        "mistral_ai" => "mistral",
        "gcp.vertex_ai" | "gcp.gemini" | "gcp.gen_ai" | "vertex_ai" | "vertexai" => "google",
        "aws.bedrock" => "aws",
        other => other,
    }
}

/// `name` with every compact date (`-YYYYMMDD`, a real date of 20xx, followed by `-`, `:` or
/// the end) written `-YYYY-MM-DD`; `None` when it has none.
fn expand_compact_date(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let is_date_at = |dash: usize| {
        let Some(digits) = bytes.get(dash + 1..dash + 9) else {
            return false;
        };
        bytes[dash] == b'-'
            && digits.iter().all(u8::is_ascii_digit)
            && digits.starts_with(b"20")
            && matches!(bytes.get(dash + 9), None | Some(b'-' | b':'))
            && crate::config::ConfigDate::parse(&format!(
                "{}-{}-{}",
                &name[dash + 1..dash + 5],
                &name[dash + 5..dash + 7],
                &name[dash + 7..dash + 9]
            ))
            .is_ok()
    };
    let mut expanded = String::with_capacity(name.len() + 4);
    let mut copied = 0;
    let mut dash = 0;
    while dash < bytes.len() {
        if is_date_at(dash) {
            expanded.push_str(&name[copied..dash + 5]);
            expanded.push('-');
            expanded.push_str(&name[dash + 5..dash + 7]);
            expanded.push('-');
            expanded.push_str(&name[dash + 7..dash + 9]);
            copied = dash + 9;
            dash += 9;
        } else {
            dash += 1;
        }
    }
    (copied > 0).then(|| expanded + &name[copied..])
}

#[cfg(test)]
mod tests;
