//! How a cost breakdown becomes the span attributes the agent writes (their names are
//! [`crate::pricing::attributes`]). Money is `Decimal` up to here; the wire type is double.

use crate::config::OutputDialect;
use crate::otlp::added::Added;
use crate::otlp::view::Attributes;
use crate::pricing::attributes::*;
use crate::pricing::{decimal_to_f64, CostBreakdown};
use crate::usage::{ExistingCost, TokenUsage};
use rust_decimal::Decimal;
use std::borrow::Cow;

pub fn double(key: &'static str, value: f64) -> Added {
    Added::double(key, value)
}

pub fn money(key: &'static str, value: Decimal) -> Added {
    double(key, decimal_to_f64(value))
}

pub fn string(key: impl Into<Cow<'static, str>>, value: &str) -> Added {
    Added::text(key, value.to_string())
}

/// The attributes of a span priced by this agent (`usage` gives the cache hit ratio, as the
/// double nearest to the exact ratio of the token counts).
pub fn local_cost(
    usage: &TokenUsage,
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
        double(CACHE_HIT_RATIO, usage.cache_hit_ratio()),
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
