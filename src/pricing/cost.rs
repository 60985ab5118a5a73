//! The cost of one model call: each token kind at its own rate, the cache hit ratio, and what
//! the cache saved against paying the plain input rate for every input token.

use super::PriceEntry;
use crate::usage::TokenUsage;
use rust_decimal::Decimal;

/// Cost of one call, in the catalog's currency, exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostBreakdown {
    /// Uncached input tokens at the input rate.
    pub input: Decimal,
    pub output: Decimal,
    pub cache_read: Decimal,
    pub cache_creation: Decimal,
    pub total: Decimal,
    /// Cache-read tokens over all input tokens; zero when there is no input.
    pub hit_ratio: Decimal,
    /// All input at the input rate minus what input, cache reads and writes cost; negative when
    /// cache writes cost more than cache reads saved.
    pub savings: Decimal,
}

const MILLION: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

fn at_rate(tokens: u64, per_million: Decimal) -> Decimal {
    Decimal::from(tokens) * per_million / MILLION
}

/// Prices `usage` with `price`. `usage` must be consistent (cache parts within input).
pub fn cost_of(usage: &TokenUsage, price: &PriceEntry) -> CostBreakdown {
    let input = at_rate(usage.uncached_input(), price.input);
    let output = at_rate(usage.output, price.output);
    let cache_read = at_rate(usage.cache_read, price.cache_read);
    let cache_creation = at_rate(usage.cache_creation, price.cache_write);
    let input_side = input + cache_read + cache_creation;
    let hit_ratio = if usage.input == 0 {
        Decimal::ZERO
    } else {
        Decimal::from(usage.cache_read) / Decimal::from(usage.input)
    };
    CostBreakdown {
        input,
        output,
        cache_read,
        cache_creation,
        total: input_side + output,
        hit_ratio,
        savings: at_rate(usage.input, price.input) - input_side,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn sonnet_4_6() -> PriceEntry {
        PriceEntry {
            id: "claude-sonnet-4-6".into(),
            provider: Some("anthropic".into()),
            input: dec!(3),
            output: dec!(15),
            cache_read: dec!(0.30),
            cache_write: dec!(3.75),
        }
    }

    #[test]
    fn worked_example_without_web_searches_costs_0_0774_and_saves_0_0141() {
        // 5,000 uncached + 10,000 cache write + 8,000 cache read = 23,000 input tokens.
        let usage = TokenUsage {
            input: 23_000,
            output: 1_500,
            cache_read: 8_000,
            cache_creation: 10_000,
        };
        let cost = cost_of(&usage, &sonnet_4_6());
        assert_eq!(cost.input, dec!(0.015000)); // 5,000 × 3 / 1M
        assert_eq!(cost.output, dec!(0.022500)); // 1,500 × 15 / 1M
        assert_eq!(cost.cache_creation, dec!(0.037500)); // 10,000 × 3.75 / 1M
        assert_eq!(cost.cache_read, dec!(0.002400)); // 8,000 × 0.30 / 1M
        assert_eq!(cost.total, dec!(0.077400));
        // 23,000 × 3 / 1M = 0.069 without caching; 0.069 − 0.015 − 0.0375 − 0.0024.
        assert_eq!(cost.savings, dec!(0.014100));
        assert_eq!(cost.hit_ratio, dec!(8000) / dec!(23000));
    }

    #[test]
    fn cache_writes_without_reads_give_negative_savings() {
        let usage = TokenUsage {
            input: 10_000,
            output: 0,
            cache_read: 0,
            cache_creation: 10_000,
        };
        let cost = cost_of(&usage, &sonnet_4_6());
        // 10,000 × 3 / 1M − 10,000 × 3.75 / 1M = 0.03 − 0.0375
        assert_eq!(cost.savings, dec!(-0.0075));
        assert_eq!(cost.total, dec!(0.0375));
        assert_eq!(cost.hit_ratio, Decimal::ZERO);
    }

    #[test]
    fn one_token_of_a_cheap_model_keeps_every_digit() {
        let price = PriceEntry {
            input: dec!(0.005),
            output: dec!(0.40),
            cache_read: dec!(0.005),
            cache_write: dec!(0.005),
            ..sonnet_4_6()
        };
        let usage = TokenUsage {
            input: 1,
            output: 1,
            cache_read: 0,
            cache_creation: 0,
        };
        let cost = cost_of(&usage, &price);
        assert_eq!(cost.input, dec!(0.000000005));
        assert_eq!(cost.output, dec!(0.0000004));
        assert_eq!(cost.total, dec!(0.000000405));
    }

    #[test]
    fn no_input_has_zero_hit_ratio_and_zero_savings() {
        let usage = TokenUsage {
            input: 0,
            output: 10,
            cache_read: 0,
            cache_creation: 0,
        };
        let cost = cost_of(&usage, &sonnet_4_6());
        assert_eq!(
            (cost.hit_ratio, cost.savings, cost.total),
            (Decimal::ZERO, Decimal::ZERO, dec!(0.00015))
        );
    }
}
