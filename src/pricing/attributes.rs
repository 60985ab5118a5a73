//! The span attributes a cost is written under (OpenTelemetry GenAI naming, `gen_ai.usage.cost.*`),
//! read back by whoever shows a priced span, and how `Decimal` money becomes the wire's double.

use crate::otlp::view::Attributes;
use rust_decimal::Decimal;

pub const COST_AMOUNT: &str = "gen_ai.usage.cost.amount";
pub const COST_CURRENCY: &str = "gen_ai.usage.cost.currency";
pub const COST_SOURCE: &str = "gen_ai.usage.cost.source";
pub const COST_INPUT: &str = "gen_ai.usage.cost.input";
pub const COST_OUTPUT: &str = "gen_ai.usage.cost.output";
pub const COST_CACHE_READ: &str = "gen_ai.usage.cost.cache_read";
pub const COST_CACHE_CREATION: &str = "gen_ai.usage.cost.cache_creation";
pub const COST_TOOLS: &str = "gen_ai.usage.cost.tools";
pub const CACHE_HIT_RATIO: &str = "gen_ai.usage.cache.hit_ratio";
pub const CACHE_SAVINGS: &str = "gen_ai.usage.cache.savings";
pub const PRICE_ID: &str = "gen_ai.usage.cost.price_id";
pub const INPUT_SEMANTICS: &str = "gen_ai.usage.cost.input_semantics";
pub const UNPRICED_REASON: &str = "gen_ai.usage.cost.unpriced_reason";
pub const DUPLICATE_OF: &str = "gen_ai.usage.cost.duplicate_of";
pub const THRESHOLD_EXCEEDED: &str = "gen_ai.usage.cost.threshold_exceeded";
/// Names the span's own cost attribute that was negative, NaN, infinite or not a number.
pub const INVALID_EXISTING_COST: &str = "gen_ai.usage.cost.invalid_existing_cost";

/// Whether an earlier agent already priced (or declined to price) this span.
pub fn already_enriched<'a>(attributes: impl Attributes<'a>) -> bool {
    attributes.get(COST_AMOUNT).is_some() || attributes.get(UNPRICED_REASON).is_some()
}

/// 10^0 … 10^22: every one an exact double.
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The double nearest to `value`. Exact when mantissa and power of ten are exact doubles (one
/// correctly rounded division); otherwise through the decimal text, which is also correctly rounded.
pub fn decimal_to_f64(value: Decimal) -> f64 {
    let mantissa = value.mantissa();
    let scale = value.scale();
    if mantissa.unsigned_abs() < (1u128 << 53) && scale <= 22 {
        return mantissa as f64 / EXACT_POWERS_OF_TEN[scale as usize];
    }
    value.to_string().parse().unwrap_or(f64::NAN)
}
