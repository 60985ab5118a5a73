//! The price catalog: built-in entries and the configuration's, with dated versions and tiers;
//! the lookup from a span's model name to the entry, and the rates that apply to one call.

use super::genai_prices::{self, LayerError, SharedMatch, SharedPrices};
use super::normalise::{normalise, NormalisedModel};
use crate::config::{
    ConfigDate, ModelPriceConfig, PriceVersionConfig, PricesShapeError, PricingConfig, TierConfig,
};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;

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

/// What a batch call pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchPrice {
    /// The standard prices times this (`batch_multiplier`; 1 when an entry gives none).
    Multiplier(Decimal),
    /// Prices of its own (genai-prices' batch variants), with their own tiers and fees.
    Own {
        rates: Rates,
        tiers: Vec<Tier>,
        web_search_per_1k: Decimal,
        request_fee_per_1k: Decimal,
    },
    /// The standard prices: the entry knows no batch price.
    Standard,
}

/// Prices in force from `effective_from` (and within `time_of_day`) until a later version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceVersion {
    /// 1970-01-01 when the entry gives no date.
    pub effective_from: ConfigDate,
    /// Whether the entry gave a date; price ids name only given dates.
    pub dated: bool,
    /// Prices that hold only at these hours of each day (genai-prices' off-peak prices).
    pub time_of_day: Option<TimeOfDay>,
    pub rates: Rates,
    pub batch: BatchPrice,
    pub web_search_per_1k: Decimal,
    /// A fee per call, per 1,000 calls (genai-prices' `requests_kcount`).
    pub request_fee_per_1k: Decimal,
    /// Ascending thresholds.
    pub tiers: Vec<Tier>,
}

impl PriceVersion {
    fn in_force(&self, at: PriceTime) -> bool {
        (!self.dated || self.effective_from <= at.date)
            && self
                .time_of_day
                .is_none_or(|window| window.contains(at.second_of_day))
    }
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
    /// The version in force at `at`: the last in the entry's order whose date and hours hold,
    /// else the first (which also prices calls older than every date).
    pub fn version_at(&self, at: PriceTime) -> &PriceVersion {
        &self.versions[self.version_index_at(at)]
    }

    pub fn version_index_at(&self, at: PriceTime) -> usize {
        self.versions
            .iter()
            .rposition(|version| version.in_force(at))
            .unwrap_or(0)
    }
}

/// How a model name found its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchKind {
    /// The name (or its canonical form) is listed in the entry's `match`.
    Exact(String),
    /// The name starts with a `prefix*` pattern of the entry.
    Prefix(String),
    /// genai-prices' data: the provider, found as said, and the model's rule in its list.
    Shared(SharedMatch),
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
    #[error("pricing.disable: `{0}` is not a built-in entry (nor `provider/model` of genai-prices' data)")]
    NotBuiltin(String),
    #[error("pricing entry `{id}`: {error}")]
    Entry { id: String, error: EntryError },
    #[error("pricing.fallback: no entry has the id `{0}`")]
    NoFallback(String),
    #[error("pricing.catalog_files: {path}: {error}")]
    CatalogFile { path: String, error: std::io::Error },
    #[error("pricing.catalog_files: {0}")]
    SharedPrices(Box<LayerError>),
    #[error("embedded genai-prices snapshot: {0}")]
    Snapshot(Arc<LayerError>),
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
    /// genai-prices' data, consulted for models the entries above do not price, and the
    /// indexes of its entries `pricing.disable` turned off.
    shared: Option<Arc<SharedPrices>>,
    shared_disabled: Vec<usize>,
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
        }
        let shared = shared_prices(config)?;
        let any_builtin_catalog = config.builtin || shared.is_some();
        let mut shared_disabled = Vec::new();
        for id in config.disable.iter().filter(|_| any_builtin_catalog) {
            let before = configured.len();
            configured.retain(|(model, builtin)| !(*builtin && &model.id == id));
            let in_shared = shared.as_ref().and_then(|shared| shared.entry_index(id));
            shared_disabled.extend(in_shared);
            if configured.len() == before && in_shared.is_none() {
                return Err(CatalogError::NotBuiltin(id.clone()));
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
        catalog.shared = shared;
        catalog.shared_disabled = shared_disabled;
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

    /// Whether `entry` can price token usage (genai-prices' entries priced only by characters,
    /// audio or requests cannot: they are listed, never matched).
    pub fn prices_tokens(&self, entry: &PriceEntry) -> bool {
        self.shared
            .as_ref()
            .is_none_or(|shared| !shared.not_token_priced.contains(&entry.id))
    }

    /// The agent's own entries (built-in and configured), then genai-prices' (but those
    /// `pricing.disable` turned off).
    pub fn all_entries(&self) -> impl Iterator<Item = &PriceEntry> {
        let shared = self.shared.iter().flat_map(|shared| {
            shared
                .entries
                .iter()
                .enumerate()
                .filter(|(index, _)| !self.shared_disabled.contains(index))
                .map(|(_, entry)| entry)
        });
        self.entries.iter().chain(shared)
    }

    pub fn bedrock_regional_multiplier(&self) -> Decimal {
        self.bedrock_regional_multiplier
    }

    /// The entry pricing `model`, for a span naming `provider` (and sent to `server_address`):
    /// the configured and built-in entries by exact name (as sent, then canonical), then by the
    /// longest prefix — unless the name carries a date suffix the match removed and
    /// genai-prices prices that dated id otherwise —, then genai-prices' data (provider first,
    /// then the provider's model rules), then the fallback. `None` when nothing matches: no
    /// guessing.
    pub fn lookup(
        &self,
        model: &str,
        provider: Option<&str>,
        server_address: Option<&str>,
    ) -> Option<ModelMatch<'_>> {
        let normalised = normalise(model);
        let shared = || {
            let shared = self.shared.as_ref()?;
            let disabled = |entry| self.shared_disabled.contains(&entry);
            let found = shared.find(model, provider, server_address, &disabled)?;
            Some((&shared.entries[found.entry], MatchKind::Shared(found)))
        };
        let (entry, kind) = match self.own_entry(&normalised) {
            Some((own, kind)) => match Self::dated_id_priced_apart(&normalised, own, shared) {
                Some(dated) => dated,
                None => (own, kind),
            },
            None => shared().or_else(|| {
                self.fallback
                    .map(|index| (&self.entries[index], MatchKind::Fallback))
            })?,
        };
        Some(ModelMatch {
            entry,
            kind,
            model: normalised,
        })
    }

    /// genai-prices' entry for `name` when it must replace `own`, a built-in entry found by the
    /// name without its date suffix: the dated id has an entry of its own, not the undated
    /// model's, with other prices (a dated snapshot priced apart, such as
    /// `gpt-4o-2024-05-13`). A configured entry is never replaced: the user's price stands.
    fn dated_id_priced_apart<'a>(
        name: &NormalisedModel,
        own: &PriceEntry,
        shared: impl FnOnce() -> Option<(&'a PriceEntry, MatchKind)>,
    ) -> Option<(&'a PriceEntry, MatchKind)> {
        let undated = super::normalise::strip_suffixes(&name.raw);
        if !own.builtin || undated == name.raw || own.patterns.contains(&name.raw) {
            return None;
        }
        // genai-prices is searched only for a dated name.
        let (dated, kind) = shared()?;
        let model_id = dated.id.rsplit('/').next().unwrap_or(&dated.id);
        let apart = !own.patterns.iter().any(|pattern| pattern == model_id)
            && dated.versions.last().map(|version| &version.rates)
                != own.versions.last().map(|version| &version.rates);
        apart.then_some((dated, kind))
    }

    /// genai-prices' data, if the catalog uses it.
    pub fn shared_prices(&self) -> Option<&SharedPrices> {
        self.shared.as_deref()
    }

    /// The configured or built-in entry for `normalised`, and how it matched.
    fn own_entry(&self, normalised: &NormalisedModel) -> Option<(&PriceEntry, MatchKind)> {
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
            })?;
        Some((&self.entries[found.0], found.1))
    }
}

/// genai-prices' data: the embedded snapshot (with `builtin`), then `catalog_files` over it.
fn shared_prices(config: &PricingConfig) -> Result<Option<Arc<SharedPrices>>, CatalogError> {
    if config.catalog_files.is_empty() {
        return match config.builtin {
            true => SharedPrices::snapshot()
                .map(Some)
                .map_err(CatalogError::Snapshot),
            false => Ok(None),
        };
    }
    let files = config
        .catalog_files
        .iter()
        .map(|path| {
            std::fs::read_to_string(path)
                .map(|text| (text, path.clone()))
                .map_err(|error| CatalogError::CatalogFile {
                    path: path.clone(),
                    error,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut layers: Vec<(&str, &str)> = Vec::new();
    if config.builtin {
        layers.push((genai_prices::SNAPSHOT, genai_prices::SNAPSHOT_VERSION));
    }
    layers.extend(
        files
            .iter()
            .map(|(text, path)| (text.as_str(), path.as_str())),
    );
    SharedPrices::layered(&layers)
        .map(|prices| Some(Arc::new(prices)))
        .map_err(|error| CatalogError::SharedPrices(Box::new(error)))
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
        time_of_day: None,
        rates,
        batch: BatchPrice::Multiplier(
            version
                .batch_multiplier
                .map_or(Decimal::ONE, |multiplier| multiplier.0),
        ),
        web_search_per_1k: version.web_search_per_1k.map_or(Decimal::ZERO, |fee| fee.0),
        request_fee_per_1k: Decimal::ZERO,
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

mod apply;
mod time;

pub use apply::AppliedPrice;
pub use time::{second_of_day, PriceTime, TimeOfDay};

#[cfg(test)]
mod tests;
