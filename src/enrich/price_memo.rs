//! Prices resolved once per request. A request's model calls share a handful of model names,
//! and resolving one (normalising the name, matching the catalog, building the price id) costs
//! more than pricing the call: each name is matched once, and the price for each date, batch
//! flag and prompt-size tier it is called with is built once.

use crate::pricing::{AppliedPrice, Catalog, ModelMatch, PriceTime};

/// Model names remembered per request; calls of further names are resolved each time (a
/// request naming thousands of models must not make each lookup walk them all).
const MAX_MODELS: usize = 32;

/// What one call's price depends on besides its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Terms {
    /// The entry's version in force.
    version: usize,
    batch: bool,
    tier: Option<u64>,
}

struct Model<'a, 'c> {
    name: &'a str,
    provider: Option<String>,
    server_address: Option<&'a str>,
    found: Option<ModelMatch<'c>>,
    applied: Vec<(Terms, AppliedPrice)>,
}

/// The memo of one request.
pub struct PriceMemo<'a, 'c> {
    catalog: &'c Catalog,
    models: Vec<Model<'a, 'c>>,
}

impl<'a, 'c> PriceMemo<'a, 'c> {
    pub fn new(catalog: &'c Catalog) -> Self {
        Self {
            catalog,
            models: Vec::new(),
        }
    }

    /// The catalog the request is priced by.
    pub fn catalog(&self) -> &'c Catalog {
        self.catalog
    }

    /// The price of a call of `model` (from `provider`, sent to `server_address`) at `at` with
    /// `total_input` tokens;
    /// `None` when the catalog knows no price for the model. The same as [`Catalog::lookup`]
    /// then [`Catalog::apply`].
    pub fn applied(
        &mut self,
        model: &'a str,
        provider: Option<&str>,
        server_address: Option<&'a str>,
        at: PriceTime,
        total_input: u64,
        batch: bool,
    ) -> Option<AppliedPrice> {
        let catalog = self.catalog;
        let seen = self.models.iter().position(|known| {
            known.name == model
                && known.provider.as_deref() == provider
                && known.server_address == server_address
        });
        let known = match seen {
            Some(known) => known,
            None if self.models.len() < MAX_MODELS => {
                self.models.push(Model {
                    name: model,
                    provider: provider.map(str::to_string),
                    server_address,
                    found: catalog.lookup(model, provider, server_address),
                    applied: Vec::new(),
                });
                self.models.len() - 1
            }
            None => {
                return catalog
                    .lookup(model, provider, server_address)
                    .map(|found| catalog.apply(&found, at, total_input, batch))
            }
        };
        let known = &mut self.models[known];
        let found = known.found.as_ref()?;
        let terms = Terms {
            version: found.entry.version_index_at(at),
            batch,
            tier: Catalog::tier_of(found, at, total_input, batch),
        };
        if let Some((_, applied)) = known.applied.iter().find(|(seen, _)| *seen == terms) {
            return Some(applied.clone());
        }
        let applied = catalog.apply(found, at, total_input, batch);
        known.applied.push((terms, applied.clone()));
        Some(applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, ConfigDate};

    fn catalog() -> Catalog {
        Catalog::build(&Config::default().pricing).expect("built-in catalog")
    }

    fn date(text: &str) -> PriceTime {
        PriceTime::day(ConfigDate::parse(text).unwrap())
    }

    #[test]
    fn a_remembered_price_is_what_the_catalog_applies() {
        let catalog = catalog();
        let mut memo = PriceMemo::new(&catalog);
        let direct = |model: &str, at: PriceTime, input: u64, batch: bool| {
            catalog
                .lookup(model, None, None)
                .map(|found| catalog.apply(&found, at, input, batch))
        };
        // Each case twice: the second answer comes from the memo.
        let cases = [
            ("claude-sonnet-4-20250514", "2026-01-10", 1_000, false),
            ("claude-sonnet-4-20250514", "2026-01-10", 250_000, false),
            ("claude-sonnet-4-20250514", "2026-01-10", 1_000, true),
            ("claude-sonnet-4-20250514", "2024-01-10", 1_000, false),
            (
                "us.anthropic.claude-sonnet-4-20250514-v1:0",
                "2026-01-10",
                1_000,
                false,
            ),
            ("gpt-4o", "2026-01-10", 500, false),
            ("no-such-model", "2026-01-10", 500, false),
        ];
        for _ in 0..2 {
            for (model, at, input, batch) in cases {
                assert_eq!(
                    memo.applied(model, None, None, date(at), input, batch),
                    direct(model, date(at), input, batch),
                    "{model} {at} {input} {batch}"
                );
            }
        }
        assert_eq!(memo.models.len(), 4);
        let long = memo.applied(
            "claude-sonnet-4-20250514",
            None,
            None,
            date("2026-01-10"),
            250_000,
            true,
        );
        let long = long.expect("priced").price_id;
        assert!(
            long.contains("+above_") && long.ends_with("+batch"),
            "{long}"
        );
    }

    #[test]
    fn names_beyond_the_limit_are_resolved_each_time() {
        let catalog = catalog();
        let mut memo = PriceMemo::new(&catalog);
        let names: Vec<String> = (0..MAX_MODELS + 5).map(|i| format!("model-{i}")).collect();
        for name in &names {
            assert_eq!(
                memo.applied(name, None, None, date("2026-01-10"), 10, false),
                None
            );
        }
        assert_eq!(memo.models.len(), MAX_MODELS);
        let gpt = memo.applied("gpt-4o", None, None, date("2026-01-10"), 10, false);
        assert_eq!(
            gpt.map(|applied| applied.price_id.starts_with("gpt-4o")),
            Some(true)
        );
    }
}
