//! Price entries and the lookup from a span's model name to the entry that prices it.
//! Patterns are case-insensitive: an exact name wins, then the longest matching prefix.

use crate::config::{ModelPriceConfig, PricingConfig};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Prices of one model, in currency units per million tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceEntry {
    pub id: String,
    pub provider: Option<String>,
    pub input: Decimal,
    pub output: Decimal,
    /// Cache reads; the input price when the entry names none.
    pub cache_read: Decimal,
    /// Cache writes; the input price when the entry names none.
    pub cache_write: Decimal,
}

impl From<&ModelPriceConfig> for PriceEntry {
    fn from(model: &ModelPriceConfig) -> Self {
        Self {
            id: model.id.clone(),
            provider: model.provider.clone(),
            input: model.input.0,
            output: model.output.0,
            cache_read: model.cache_read.map_or(model.input.0, |price| price.0),
            cache_write: model.cache_write.map_or(model.input.0, |price| price.0),
        }
    }
}

/// All price entries, indexed for lookup by model name.
#[derive(Debug, Default)]
pub struct Catalog {
    currency: String,
    entries: Vec<PriceEntry>,
    exact: HashMap<String, usize>,
    /// Lower-cased prefixes, longest first.
    prefixes: Vec<(String, usize)>,
}

impl Catalog {
    pub fn from_config(config: &PricingConfig) -> Self {
        let mut catalog = Catalog {
            currency: config.currency.clone(),
            ..Default::default()
        };
        for model in &config.models {
            let index = catalog.entries.len();
            catalog.entries.push(PriceEntry::from(model));
            for pattern in &model.patterns {
                let pattern = pattern.to_lowercase();
                match pattern.strip_suffix('*') {
                    Some(prefix) => catalog.prefixes.push((prefix.to_string(), index)),
                    None => {
                        catalog.exact.entry(pattern).or_insert(index);
                    }
                }
            }
        }
        catalog
            .prefixes
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        catalog
    }

    /// ISO 4217 code of every price in the catalog.
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// The entry pricing `model`, or `None`: an unknown model is never priced by guessing.
    pub fn lookup(&self, model: &str) -> Option<&PriceEntry> {
        let model = model.trim().to_lowercase();
        let index = self.exact.get(&model).copied().or_else(|| {
            self.prefixes
                .iter()
                .find(|(prefix, _)| model.starts_with(prefix.as_str()))
                .map(|(_, index)| *index)
        })?;
        self.entries.get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PerMillion;
    use rust_decimal_macros::dec;

    fn model(id: &str, patterns: &[&str], input: Decimal) -> ModelPriceConfig {
        ModelPriceConfig {
            id: id.into(),
            provider: None,
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            input: PerMillion(input),
            output: PerMillion(dec!(1)),
            cache_read: None,
            cache_write: None,
        }
    }

    fn catalog() -> Catalog {
        Catalog::from_config(&PricingConfig {
            currency: "USD".into(),
            models: vec![
                model(
                    "sonnet-4",
                    &["claude-sonnet-4", "claude-sonnet-4-2*"],
                    dec!(3),
                ),
                model(
                    "sonnet-4-5",
                    &["claude-sonnet-4-5", "claude-sonnet-4-5-*"],
                    dec!(3.1),
                ),
                model("gpt-4o", &["gpt-4o", "gpt-4o-2*"], dec!(2.5)),
                model("gpt-4o-mini", &["gpt-4o-mini", "gpt-4o-mini-*"], dec!(0.15)),
            ],
        })
    }

    #[test]
    fn exact_name_matches_case_insensitively() {
        assert_eq!(
            catalog().lookup("Claude-Sonnet-4-5").unwrap().id,
            "sonnet-4-5"
        );
        assert_eq!(catalog().lookup("gpt-4o").unwrap().id, "gpt-4o");
    }

    #[test]
    fn dated_names_match_their_prefix_and_longest_prefix_wins() {
        let catalog = catalog();
        assert_eq!(
            catalog.lookup("claude-sonnet-4-5-20250929").unwrap().id,
            "sonnet-4-5"
        );
        assert_eq!(
            catalog.lookup("claude-sonnet-4-20250514").unwrap().id,
            "sonnet-4"
        );
        assert_eq!(
            catalog.lookup("gpt-4o-mini-2024-07-18").unwrap().id,
            "gpt-4o-mini"
        );
        assert_eq!(catalog.lookup("gpt-4o-2024-08-06").unwrap().id, "gpt-4o");
    }

    #[test]
    fn unknown_models_are_not_guessed() {
        assert!(catalog().lookup("claude-sonnet-4-7").is_none());
        assert!(catalog().lookup("gpt-4").is_none());
    }

    #[test]
    fn missing_cache_prices_fall_back_to_input() {
        let entry = catalog().lookup("gpt-4o").unwrap().clone();
        assert_eq!(
            (entry.cache_read, entry.cache_write),
            (dec!(2.5), dec!(2.5))
        );
    }
}
