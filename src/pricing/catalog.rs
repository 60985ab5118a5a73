//! The price catalog: built-in entries and the configuration's, with dated versions and tiers;
//! the lookup from a span's model name to the entry, and the rates that apply to one call.

use super::normalise::{normalise, NormalisedModel};
use crate::config::{
    ConfigDate, ModelPriceConfig, PriceVersionConfig, PricesShapeError, PricingConfig, TierConfig,
};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// The catalog compiled into the binary (`builtin_catalog.yaml`).
pub const BUILTIN_CATALOG: &str = include_str!("builtin_catalog.yaml");

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    models: Vec<ModelPriceConfig>,
}

/// Prices per million tokens of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    pub input: Decimal,
    pub output: Decimal,
    pub cache_read: Decimal,
    pub cache_write_5m: Decimal,
    pub cache_write_1h: Decimal,
}

impl Rates {
    fn scaled(self, factor: Decimal) -> Rates {
        Rates {
            input: self.input * factor,
            output: self.output * factor,
            cache_read: self.cache_read * factor,
            cache_write_5m: self.cache_write_5m * factor,
            cache_write_1h: self.cache_write_1h * factor,
        }
    }
}

/// Above `above_input_tokens` total input tokens the whole request is billed at `rates`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub above_input_tokens: u64,
    pub rates: Rates,
}

/// Prices in force from `effective_from` until the next version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceVersion {
    /// 1970-01-01 when the entry gives no date.
    pub effective_from: ConfigDate,
    /// Whether the entry gave a date; price ids name only given dates.
    pub dated: bool,
    pub rates: Rates,
    pub batch_multiplier: Decimal,
    pub web_search_per_1k: Decimal,
    /// Ascending thresholds.
    pub tiers: Vec<Tier>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceEntry {
    pub id: String,
    pub provider: Option<String>,
    pub source: Option<String>,
    pub patterns: Vec<String>,
    /// Ascending dates.
    pub versions: Vec<PriceVersion>,
    pub builtin: bool,
}

impl PriceEntry {
    /// The version in force at `at` (days since the epoch); the earliest for older spans.
    pub fn version_at(&self, at: ConfigDate) -> &PriceVersion {
        self.versions
            .iter()
            .rev()
            .find(|version| version.effective_from <= at)
            .unwrap_or(&self.versions[0])
    }
}

/// How a model name found its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchKind {
    /// The name (or its canonical form) is listed in the entry's `match`.
    Exact(String),
    /// The name starts with a `prefix*` pattern of the entry.
    Prefix(String),
    /// No entry matched; the configured fallback priced it.
    Fallback,
}

#[derive(Debug, Clone)]
pub struct ModelMatch<'a> {
    pub entry: &'a PriceEntry,
    pub kind: MatchKind,
    pub model: NormalisedModel,
}

/// Why the catalog cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("built-in catalog: {0}")]
    BuiltinFile(serde_norway::Error),
    #[error("pricing.disable: `{0}` is not a built-in entry")]
    NotBuiltin(String),
    #[error("pricing entry `{id}`: {error}")]
    Entry { id: String, error: EntryError },
    #[error("pricing.fallback: no entry has the id `{0}`")]
    NoFallback(String),
}

/// What is wrong with one price entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error(transparent)]
    Prices(#[from] PricesShapeError),
    #[error("two versions have the same effective_from")]
    SameEffectiveFrom,
    #[error("two tiers have the same above_input_tokens")]
    SameTier,
}

/// All price entries, indexed for lookup.
#[derive(Debug, Default)]
pub struct Catalog {
    currency: String,
    entries: Vec<PriceEntry>,
    exact: HashMap<String, usize>,
    /// Lower-cased prefixes, longest first.
    prefixes: Vec<(String, usize)>,
    fallback: Option<usize>,
    bedrock_regional_multiplier: Decimal,
}

impl Catalog {
    /// Builds the catalog: built-ins (unless turned off), then the configuration's entries, which
    /// replace built-ins of the same id. `Err` says which entry is wrong and why.
    pub fn build(config: &PricingConfig) -> Result<Catalog, CatalogError> {
        let mut configured: Vec<(ModelPriceConfig, bool)> = Vec::new();
        if config.builtin {
            let file: CatalogFile =
                serde_norway::from_str(BUILTIN_CATALOG).map_err(CatalogError::BuiltinFile)?;
            configured.extend(file.models.into_iter().map(|model| (model, true)));
            for id in &config.disable {
                let before = configured.len();
                configured.retain(|(model, _)| &model.id != id);
                if configured.len() == before {
                    return Err(CatalogError::NotBuiltin(id.clone()));
                }
            }
        }
        for model in &config.models {
            configured.retain(|(existing, _)| existing.id != model.id);
            configured.push((model.clone(), false));
        }
        let mut catalog = Catalog {
            currency: config.currency.clone(),
            bedrock_regional_multiplier: config.bedrock_regional_multiplier.0,
            ..Default::default()
        };
        for (model, builtin) in configured {
            catalog.add(entry_from_config(&model, builtin).map_err(|error| {
                CatalogError::Entry {
                    id: model.id.clone(),
                    error,
                }
            })?);
        }
        catalog
            .prefixes
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        if let Some(fallback) = &config.fallback {
            catalog.fallback = Some(
                catalog
                    .entries
                    .iter()
                    .position(|entry| &entry.id == fallback)
                    .ok_or_else(|| CatalogError::NoFallback(fallback.clone()))?,
            );
        }
        Ok(catalog)
    }

    fn add(&mut self, entry: PriceEntry) {
        let index = self.entries.len();
        for pattern in &entry.patterns {
            match pattern.strip_suffix('*') {
                Some(prefix) => self.prefixes.push((prefix.to_string(), index)),
                None => {
                    self.exact.entry(pattern.clone()).or_insert(index);
                }
            }
        }
        self.entries.push(entry);
    }

    /// ISO 4217 code of every price in the catalog.
    pub fn currency(&self) -> &str {
        &self.currency
    }

    pub fn entries(&self) -> &[PriceEntry] {
        &self.entries
    }

    pub fn bedrock_regional_multiplier(&self) -> Decimal {
        self.bedrock_regional_multiplier
    }

    /// The entry pricing `model`: an exact name (as sent, then canonical) first, then the longest
    /// prefix, then the fallback. `None` when nothing matches: no guessing.
    pub fn lookup(&self, model: &str) -> Option<ModelMatch<'_>> {
        let normalised = normalise(model);
        let names = [normalised.raw.as_str(), normalised.canonical.as_str()];
        let found = names
            .iter()
            .find_map(|name| {
                self.exact
                    .get(*name)
                    .map(|index| (*index, MatchKind::Exact(name.to_string())))
            })
            .or_else(|| {
                names.iter().find_map(|name| {
                    self.prefixes
                        .iter()
                        .find(|(prefix, _)| name.starts_with(prefix.as_str()))
                        .map(|(prefix, index)| (*index, MatchKind::Prefix(format!("{prefix}*"))))
                })
            })
            .or_else(|| self.fallback.map(|index| (index, MatchKind::Fallback)))?;
        Some(ModelMatch {
            entry: &self.entries[found.0],
            kind: found.1,
            model: normalised,
        })
    }
}

fn entry_from_config(model: &ModelPriceConfig, builtin: bool) -> Result<PriceEntry, EntryError> {
    let mut versions = model
        .price_versions()?
        .iter()
        .map(version_from_config)
        .collect::<Result<Vec<_>, _>>()?;
    versions.sort_by_key(|version| version.effective_from);
    if versions
        .windows(2)
        .any(|pair| pair[0].effective_from == pair[1].effective_from)
    {
        return Err(EntryError::SameEffectiveFrom);
    }
    Ok(PriceEntry {
        id: model.id.clone(),
        provider: model.provider.clone(),
        source: model.source.clone(),
        patterns: model
            .patterns
            .iter()
            .map(|pattern| pattern.trim().to_lowercase())
            .collect(),
        versions,
        builtin,
    })
}

fn version_from_config(version: &PriceVersionConfig) -> Result<PriceVersion, EntryError> {
    let rates = rates(
        version.input.0,
        version.output.0,
        version.cache_read,
        version.cache_write,
        version.cache_write_1h,
    );
    let mut tiers: Vec<Tier> = version.tiers.iter().map(tier_from_config).collect();
    tiers.sort_by_key(|tier| tier.above_input_tokens);
    if tiers
        .windows(2)
        .any(|pair| pair[0].above_input_tokens == pair[1].above_input_tokens)
    {
        return Err(EntryError::SameTier);
    }
    Ok(PriceVersion {
        effective_from: version.effective_from.unwrap_or(ConfigDate {
            days_since_epoch: 0,
        }),
        dated: version.effective_from.is_some(),
        rates,
        batch_multiplier: version
            .batch_multiplier
            .map_or(Decimal::ONE, |multiplier| multiplier.0),
        web_search_per_1k: version.web_search_per_1k.map_or(Decimal::ZERO, |fee| fee.0),
        tiers,
    })
}

fn tier_from_config(tier: &TierConfig) -> Tier {
    Tier {
        above_input_tokens: tier.above_input_tokens,
        rates: rates(
            tier.input.0,
            tier.output.0,
            tier.cache_read,
            tier.cache_write,
            tier.cache_write_1h,
        ),
    }
}

/// Cache reads and writes default to the input price, 1-hour writes to the 5-minute price.
fn rates(
    input: Decimal,
    output: Decimal,
    cache_read: Option<crate::config::PerMillion>,
    cache_write: Option<crate::config::PerMillion>,
    cache_write_1h: Option<crate::config::PerMillion>,
) -> Rates {
    let cache_write_5m = cache_write.map_or(input, |price| price.0);
    Rates {
        input,
        output,
        cache_read: cache_read.map_or(input, |price| price.0),
        cache_write_5m,
        cache_write_1h: cache_write_1h.map_or(cache_write_5m, |price| price.0),
    }
}

/// What applies to one call: the rates after tier and multipliers, and how they were chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedPrice {
    pub rates: Rates,
    pub web_search_per_1k: Decimal,
    /// `id@version` plus what else was applied (`+above_200000`, `+batch`, `+bedrock_regional`,
    /// `+fallback`).
    pub price_id: String,
    pub effective_from: ConfigDate,
    pub tier: Option<u64>,
    pub batch_multiplier: Option<Decimal>,
    pub regional_multiplier: Option<Decimal>,
}

impl Catalog {
    /// The prompt-size tier a call of `found` at `at` with `total_input` tokens falls in: the
    /// threshold it is above, `None` below every tier. Calls that agree on it (and on date and
    /// batch) get the same [`Catalog::apply`].
    pub fn tier_of(found: &ModelMatch<'_>, at: ConfigDate, total_input: u64) -> Option<u64> {
        found
            .entry
            .version_at(at)
            .tiers
            .iter()
            .rev()
            .find(|tier| total_input > tier.above_input_tokens)
            .map(|tier| tier.above_input_tokens)
    }

    /// The price that applies to a call of `found` at `at` with `total_input` tokens.
    pub fn apply(
        &self,
        found: &ModelMatch<'_>,
        at: ConfigDate,
        total_input: u64,
        batch: bool,
    ) -> AppliedPrice {
        let version = found.entry.version_at(at);
        let tier = version
            .tiers
            .iter()
            .rev()
            .find(|tier| total_input > tier.above_input_tokens);
        let mut rates = tier.map_or(version.rates, |tier| tier.rates);
        let mut price_id = found.entry.id.clone();
        if version.dated {
            price_id.push_str(&format!("@{}", version.effective_from.to_iso()));
        }
        if let Some(tier) = tier {
            price_id.push_str(&format!("+above_{}", tier.above_input_tokens));
        }
        let batch_multiplier = batch.then_some(version.batch_multiplier);
        if let Some(multiplier) = batch_multiplier {
            rates = rates.scaled(multiplier);
            price_id.push_str("+batch");
        }
        let regional_multiplier = found
            .model
            .bedrock_regional
            .then_some(self.bedrock_regional_multiplier);
        if let Some(multiplier) = regional_multiplier {
            rates = rates.scaled(multiplier);
            price_id.push_str("+bedrock_regional");
        }
        if found.kind == MatchKind::Fallback {
            price_id.push_str("+fallback");
        }
        AppliedPrice {
            rates,
            web_search_per_1k: version.web_search_per_1k,
            price_id,
            effective_from: version.effective_from,
            tier: tier.map(|tier| tier.above_input_tokens),
            batch_multiplier,
            regional_multiplier,
        }
    }
}

#[cfg(test)]
mod tests;
