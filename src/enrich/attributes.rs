//! The span attributes the agent writes, and how a cost breakdown becomes attributes.
//! Money is `Decimal` up to here; the wire type is double.

use crate::pricing::CostBreakdown;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use rust_decimal::Decimal;

pub const COST_AMOUNT: &str = "gen_ai.usage.cost.amount";
pub const COST_CURRENCY: &str = "gen_ai.usage.cost.currency";
pub const COST_SOURCE: &str = "gen_ai.usage.cost.source";
pub const COST_INPUT: &str = "gen_ai.usage.cost.input";
pub const COST_OUTPUT: &str = "gen_ai.usage.cost.output";
pub const COST_CACHE_READ: &str = "gen_ai.usage.cost.cache_read";
pub const COST_CACHE_CREATION: &str = "gen_ai.usage.cost.cache_creation";
pub const CACHE_HIT_RATIO: &str = "gen_ai.usage.cache.hit_ratio";
pub const CACHE_SAVINGS: &str = "gen_ai.usage.cache.savings";
pub const PRICE_ID: &str = "gen_ai.usage.cost.price_id";
pub const UNPRICED_REASON: &str = "gen_ai.usage.cost.unpriced_reason";

/// Whether an earlier agent already priced (or declined to price) this span.
pub fn already_enriched(attributes: &[KeyValue]) -> bool {
    attributes
        .iter()
        .any(|kv| kv.key == COST_AMOUNT || kv.key == UNPRICED_REASON)
}

/// The double nearest to `value`. Exact when mantissa and power of ten are exact doubles (one
/// correctly rounded division); otherwise through the decimal text, which is also correctly rounded.
pub fn decimal_to_f64(value: Decimal) -> f64 {
    let mantissa = value.mantissa();
    let scale = value.scale();
    if mantissa.unsigned_abs() < (1u128 << 53) && scale <= 22 {
        return mantissa as f64 / 10f64.powi(scale as i32);
    }
    value.to_string().parse().unwrap_or(f64::NAN)
}

fn double(key: &str, value: Decimal) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(Value::DoubleValue(decimal_to_f64(value))),
        }),
        ..Default::default()
    }
}

fn string(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.to_string())),
        }),
        ..Default::default()
    }
}

/// Appends the cost attributes of a priced span.
pub fn push_cost(
    attributes: &mut Vec<KeyValue>,
    cost: &CostBreakdown,
    currency: &str,
    price_id: &str,
) {
    attributes.reserve(11);
    attributes.push(double(COST_AMOUNT, cost.total));
    attributes.push(string(COST_CURRENCY, currency));
    attributes.push(string(COST_SOURCE, "local"));
    attributes.push(double(COST_INPUT, cost.input));
    attributes.push(double(COST_OUTPUT, cost.output));
    attributes.push(double(COST_CACHE_READ, cost.cache_read));
    attributes.push(double(COST_CACHE_CREATION, cost.cache_creation));
    attributes.push(double(CACHE_HIT_RATIO, cost.hit_ratio));
    attributes.push(double(CACHE_SAVINGS, cost.savings));
    attributes.push(string(PRICE_ID, price_id));
}

/// Appends the reason a span with usage carries no cost.
pub fn push_unpriced(attributes: &mut Vec<KeyValue>, reason: &str) {
    attributes.push(string(UNPRICED_REASON, reason));
}
