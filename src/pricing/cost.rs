//! The cost of one model call: each token kind at its own rate, tool fees, the cache hit ratio,
//! and what the cache saved against paying the plain input rate for every input token.

use super::catalog::AppliedPrice;
use crate::usage::TokenUsage;
use rust_decimal::Decimal;

/// Cost of one call, in the catalog's currency, exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CostBreakdown {
    /// Uncached input tokens at the input rate.
    pub input: Decimal,
    pub output: Decimal,
    pub cache_read: Decimal,
    /// 5-minute and 1-hour cache writes, each at its own rate.
    pub cache_creation: Decimal,
    /// Per-use fees: web searches, and a per-call fee where the price has one.
    pub tools: Decimal,
    pub total: Decimal,
    /// Cache-read tokens over all input tokens; zero when there is no input.
    pub hit_ratio: Decimal,
    /// All input at the input rate minus what input, cache reads and writes cost; negative when
    /// cache writes cost more than cache reads saved.
    pub savings: Decimal,
}

/// `count × rate / 10^digits`, exact: dividing by a power of ten only moves the decimal point,
/// so it is done by raising the scale (a division only when the scale would pass 28).
fn per_power_of_ten(count: u64, rate: Decimal, digits: u32) -> Decimal {
    let mut product = Decimal::from(count) * rate;
    let scale = product.scale() + digits;
    if scale <= 28 && product.set_scale(scale).is_ok() {
        return product;
    }
    product / Decimal::from(10u64.pow(digits))
}

fn at_rate(tokens: u64, per_million: Decimal) -> Decimal {
    per_power_of_ten(tokens, per_million, 6)
}

/// Prices `usage` at `price`. `usage` must be consistent (cache parts within input).
pub fn cost_of(usage: &TokenUsage, price: &AppliedPrice) -> CostBreakdown {
    let rates = &price.rates;
    let input = at_rate(usage.uncached_input(), rates.input);
    let output = at_rate(usage.output, rates.output);
    let cache_read = at_rate(usage.cache_read, rates.cache_read);
    let cache_creation = at_rate(usage.cache_write_5m, rates.cache_write_5m)
        + at_rate(usage.cache_write_1h, rates.cache_write_1h);
    let mut tools = per_power_of_ten(usage.web_searches, price.web_search_per_1k, 3);
    if !price.request_fee_per_1k.is_zero() {
        tools += per_power_of_ten(1, price.request_fee_per_1k, 3);
    }
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
        tools,
        total: input_side + output + tools,
        hit_ratio,
        savings: at_rate(usage.input, rates.input) - input_side,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigDate;
    use crate::pricing::catalog::Rates;
    use rust_decimal_macros::dec;

    fn sonnet_4_6() -> AppliedPrice {
        AppliedPrice {
            rates: Rates {
                input: dec!(3),
                output: dec!(15),
                cache_read: dec!(0.30),
                cache_write_5m: dec!(3.75),
                cache_write_1h: dec!(6),
            },
            web_search_per_1k: dec!(10),
            request_fee_per_1k: dec!(0),
            price_id: "claude-sonnet-4-6@2026-03-13".into(),
            effective_from: ConfigDate {
                days_since_epoch: 0,
            },
            tier: None,
            batch: false,
            batch_multiplier: None,
            regional_multiplier: None,
        }
    }

    fn usage(input: u64, output: u64, cache_read: u64, cache_write_5m: u64) -> TokenUsage {
        TokenUsage {
            input,
            output,
            cache_read,
            cache_write_5m,
            ..Default::default()
        }
    }

    #[test]
    fn a_per_call_fee_is_a_thousandth_of_its_price_per_1000_calls() {
        let mut price = sonnet_4_6();
        price.request_fee_per_1k = dec!(5);
        let cost = cost_of(&usage(1_000, 100, 0, 0), &price);
        assert_eq!(cost.tools, dec!(0.005));
        // 1,000 × 3 / 1M + 100 × 15 / 1M + 0.005
        assert_eq!(cost.total, dec!(0.0095));
    }

    #[test]
    fn worked_example_without_web_searches_costs_0_0774_and_saves_0_0141() {
        // 5,000 uncached + 10,000 cache write + 8,000 cache read = 23,000 input tokens.
        let cost = cost_of(&usage(23_000, 1_500, 8_000, 10_000), &sonnet_4_6());
        assert_eq!(cost.input, dec!(0.015000)); // 5,000 × 3 / 1M
        assert_eq!(cost.output, dec!(0.022500)); // 1,500 × 15 / 1M
        assert_eq!(cost.cache_creation, dec!(0.037500)); // 10,000 × 3.75 / 1M
        assert_eq!(cost.cache_read, dec!(0.002400)); // 8,000 × 0.30 / 1M
        assert_eq!(cost.tools, dec!(0));
        assert_eq!(cost.total, dec!(0.077400));
        // 23,000 × 3 / 1M = 0.069 without caching; 0.069 − 0.015 − 0.0375 − 0.0024.
        assert_eq!(cost.savings, dec!(0.014100));
        assert_eq!(cost.hit_ratio, dec!(8000) / dec!(23000));
    }

    #[test]
    fn worked_example_with_two_web_searches_costs_0_0974() {
        let mut usage = usage(23_000, 1_500, 8_000, 10_000);
        usage.web_searches = 2;
        let cost = cost_of(&usage, &sonnet_4_6());
        assert_eq!(cost.tools, dec!(0.020000)); // 2 × 10 / 1,000
        assert_eq!(cost.total, dec!(0.097400));
        assert_eq!(cost.savings, dec!(0.014100));
    }

    #[test]
    fn one_hour_writes_are_priced_at_their_own_rate() {
        let usage = TokenUsage {
            input: 10_000,
            cache_write_5m: 4_000,
            cache_write_1h: 6_000,
            ..Default::default()
        };
        let cost = cost_of(&usage, &sonnet_4_6());
        // 4,000 × 3.75 / 1M + 6,000 × 6 / 1M = 0.015 + 0.036
        assert_eq!(cost.cache_creation, dec!(0.051));
        assert_eq!(cost.input, dec!(0));
        // 10,000 × 3 / 1M − 0.051
        assert_eq!(cost.savings, dec!(-0.021));
    }

    #[test]
    fn cache_writes_without_reads_give_negative_savings() {
        let cost = cost_of(&usage(10_000, 0, 0, 10_000), &sonnet_4_6());
        // 10,000 × 3 / 1M − 10,000 × 3.75 / 1M = 0.03 − 0.0375
        assert_eq!(cost.savings, dec!(-0.0075));
        assert_eq!(cost.total, dec!(0.0375));
        assert_eq!(cost.hit_ratio, Decimal::ZERO);
    }

    #[test]
    fn one_token_of_a_cheap_model_keeps_every_digit() {
        let mut price = sonnet_4_6();
        price.rates = Rates {
            input: dec!(0.005),
            output: dec!(0.40),
            cache_read: dec!(0.005),
            cache_write_5m: dec!(0.005),
            cache_write_1h: dec!(0.005),
        };
        let cost = cost_of(&usage(1, 1, 0, 0), &price);
        assert_eq!(cost.input, dec!(0.000000005));
        assert_eq!(cost.output, dec!(0.0000004));
        assert_eq!(cost.total, dec!(0.000000405));
    }

    #[test]
    fn a_rate_at_the_largest_scale_is_divided_rather_than_rescaled() {
        // 0.3 per million at scale 25 would need scale 31: the division rounds to 28 places.
        let rate = Decimal::from_i128_with_scale(3, 25);
        assert_eq!(at_rate(7, rate), dec!(0.0000000000000000000000000000));
        let rate = Decimal::from_i128_with_scale(123_456_789, 20);
        assert_eq!(at_rate(1_000, rate), dec!(0.00000000000000123456789));
        assert_eq!(at_rate(3, dec!(0.30)), dec!(0.0000009));
        assert_eq!(per_power_of_ten(2, dec!(10), 3), dec!(0.02));
    }

    #[test]
    fn no_input_has_zero_hit_ratio_and_zero_savings() {
        let cost = cost_of(&usage(0, 10, 0, 0), &sonnet_4_6());
        assert_eq!(
            (cost.hit_ratio, cost.savings, cost.total),
            (Decimal::ZERO, Decimal::ZERO, dec!(0.00015))
        );
    }
}
