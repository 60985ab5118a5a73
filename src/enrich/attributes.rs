//! The span attributes the agent writes and how a cost breakdown becomes attributes.
//! Money is `Decimal` up to here; the wire type is double.

use crate::config::OutputDialect;
use crate::otlp::added::Added;
use crate::otlp::view::Attributes;
use crate::pricing::CostBreakdown;
use crate::usage::ExistingCost;
use rust_decimal::Decimal;
use std::borrow::Cow;

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

pub fn double(key: &'static str, value: f64) -> Added {
    Added::double(key, value)
}

pub fn money(key: &'static str, value: Decimal) -> Added {
    double(key, decimal_to_f64(value))
}

pub fn string(key: impl Into<Cow<'static, str>>, value: &str) -> Added {
    Added::text(key, value.to_string())
}

/// The attributes of a span priced by this agent.
pub fn local_cost(
    cost: &CostBreakdown,
    currency: &str,
    price_id: &str,
    input_semantics: &'static str,
) -> Vec<Added> {
    vec![
        money(COST_AMOUNT, cost.total),
        string(COST_CURRENCY, currency),
        Added::text(COST_SOURCE, "local"),
        money(COST_INPUT, cost.input),
        money(COST_OUTPUT, cost.output),
        money(COST_CACHE_READ, cost.cache_read),
        money(COST_CACHE_CREATION, cost.cache_creation),
        money(COST_TOOLS, cost.tools),
        money(CACHE_HIT_RATIO, cost.hit_ratio),
        money(CACHE_SAVINGS, cost.savings),
        string(PRICE_ID, price_id),
        Added::text(INPUT_SEMANTICS, input_semantics),
    ]
}

/// The attributes of a span whose own, provider-reported cost is trusted.
pub fn provider_cost(existing: &ExistingCost, currency: &str) -> Vec<Added> {
    let mut attributes = vec![
        double(COST_AMOUNT, existing.total),
        string(COST_CURRENCY, currency),
        Added::text(COST_SOURCE, "provider"),
    ];
    if let Some(prompt) = existing.prompt {
        attributes.push(double(COST_INPUT, prompt));
    }
    if let Some(completion) = existing.completion {
        attributes.push(double(COST_OUTPUT, completion));
    }
    attributes
}

/// The same cost in other dialects, for backends that read those; only names the span lacks.
pub fn dialect_cost<'a>(
    dialects: &[OutputDialect],
    cost: &CostBreakdown,
    existing: impl Attributes<'a>,
) -> Vec<Added> {
    let mut attributes = Vec::new();
    for dialect in dialects {
        match dialect {
            OutputDialect::OpenInference => {
                attributes.push(money("llm.cost.total", cost.total));
                attributes.push(money(
                    "llm.cost.prompt",
                    cost.input + cost.cache_read + cost.cache_creation,
                ));
                attributes.push(money("llm.cost.completion", cost.output));
                attributes.push(money("llm.cost.prompt_details.input", cost.input));
                attributes.push(money("llm.cost.prompt_details.cache_read", cost.cache_read));
                attributes.push(money(
                    "llm.cost.prompt_details.cache_write",
                    cost.cache_creation,
                ));
            }
            OutputDialect::OpenLit => attributes.push(money("gen_ai.usage.cost", cost.total)),
        }
    }
    attributes.retain(|new| existing.get(&new.key).is_none());
    attributes
}
