//! The price that applies to one call of a matched entry: the version in force, the prompt-size
//! tier, batch prices or multiplier, the Bedrock uplift, and the price id that names them.

use super::{BatchPrice, Catalog, MatchKind, ModelMatch, PriceTime, PriceVersion, Rates, Tier};
use crate::config::ConfigDate;
use rust_decimal::Decimal;

/// What applies to one call: the rates after tier and multipliers, and how they were chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedPrice {
    pub rates: Rates,
    pub web_search_per_1k: Decimal,
    pub request_fee_per_1k: Decimal,
    /// `id@version` plus what else was applied (`+above_200000`, `+batch`, `+bedrock_regional`,
    /// `+fallback`).
    pub price_id: String,
    pub effective_from: ConfigDate,
    pub tier: Option<u64>,
    /// A batch price applied (a multiplier, or the entry's own batch prices).
    pub batch: bool,
    pub batch_multiplier: Option<Decimal>,
    pub regional_multiplier: Option<Decimal>,
}

impl PriceVersion {
    /// The rates and tiers a call pays: a batch call its own prices where the version has them.
    fn schedule(&self, batch: bool) -> (&Rates, &[Tier]) {
        match &self.batch {
            BatchPrice::Own { rates, tiers, .. } if batch => (rates, tiers),
            _ => (&self.rates, &self.tiers),
        }
    }

    /// The web-search and per-call fees a call pays (per 1,000).
    fn fees(&self, batch: bool) -> (Decimal, Decimal) {
        match &self.batch {
            BatchPrice::Own {
                web_search_per_1k,
                request_fee_per_1k,
                ..
            } if batch => (*web_search_per_1k, *request_fee_per_1k),
            _ => (self.web_search_per_1k, self.request_fee_per_1k),
        }
    }
}

impl ModelMatch<'_> {
    /// Whether a batch call gets the entry's batch price: not when genai-prices' data reached the
    /// model through a fallback provider (it prices variants only in the provider's own list).
    fn batch_priced(&self, batch: bool) -> bool {
        batch
            && !matches!(self.kind, MatchKind::Shared(shared) if shared.listed_by != shared.provider)
    }
}

/// The highest tier `total_input` is above.
fn tier_above(tiers: &[Tier], total_input: u64) -> Option<&Tier> {
    tiers
        .iter()
        .rev()
        .find(|tier| total_input > tier.above_input_tokens)
}

impl Catalog {
    /// The prompt-size tier a call of `found` at `at` with `total_input` tokens falls in: the
    /// threshold it is above, `None` below every tier. Calls that agree on it (and on version
    /// and batch) get the same [`Catalog::apply`].
    pub fn tier_of(
        found: &ModelMatch<'_>,
        at: PriceTime,
        total_input: u64,
        batch: bool,
    ) -> Option<u64> {
        let batch = found.batch_priced(batch);
        let (_, tiers) = found.entry.version_at(at).schedule(batch);
        tier_above(tiers, total_input).map(|tier| tier.above_input_tokens)
    }

    /// The price that applies to a call of `found` at `at` with `total_input` tokens.
    pub fn apply(
        &self,
        found: &ModelMatch<'_>,
        at: PriceTime,
        total_input: u64,
        batch: bool,
    ) -> AppliedPrice {
        let batch = found.batch_priced(batch);
        let version = found.entry.version_at(at);
        let (base, tiers) = version.schedule(batch);
        let (web_search_per_1k, request_fee_per_1k) = version.fees(batch);
        let tier = tier_above(tiers, total_input);
        let mut rates = tier.map_or(*base, |tier| tier.rates);
        let mut price_id = found.entry.id.clone();
        if version.dated {
            price_id.push_str(&format!("@{}", version.effective_from.to_iso()));
        }
        if let Some(window) = version.time_of_day {
            price_id.push_str(&format!("@{}", window.to_text()));
        }
        if let Some(tier) = tier {
            price_id.push_str(&format!("+above_{}", tier.above_input_tokens));
        }
        let batch_multiplier = match version.batch {
            BatchPrice::Multiplier(multiplier) if batch => Some(multiplier),
            _ => None,
        };
        if let Some(multiplier) = batch_multiplier {
            rates = rates.scaled(multiplier);
        }
        let batch_price = batch && version.batch != BatchPrice::Standard;
        if batch_price {
            price_id.push_str("+batch");
        }
        // genai-prices' Bedrock entries carry the regional price themselves.
        let regional_multiplier = (found.model.bedrock_regional
            && !matches!(found.kind, MatchKind::Shared(_)))
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
            web_search_per_1k,
            request_fee_per_1k,
            price_id,
            effective_from: version.effective_from,
            tier: tier.map(|tier| tier.above_input_tokens),
            batch: batch_price,
            batch_multiplier,
            regional_multiplier,
        }
    }
}
