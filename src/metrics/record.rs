//! What one model call contributes to the derived metrics.

use crate::pricing::CostBreakdown;
use crate::telemetry::UnpricedReason;
use crate::usage::TokenUsage;
use rust_decimal::Decimal;

/// One model call, as the metrics see it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// Dimensions shared by every point of the call: operation, provider, models, error type,
    /// service and resource keys, attribution keys — in a fixed order, absent ones left out.
    pub dimensions: Vec<(String, String)>,
    /// Token usage, when the span reported it.
    pub usage: Option<TokenUsage>,
    pub cost: Option<CostBreakdown>,
    pub duration_seconds: Option<Decimal>,
    pub unpriced: Option<UnpricedReason>,
    /// Configured thresholds the call's cost exceeded.
    pub thresholds_exceeded: Vec<Decimal>,
}

/// The points one record adds: (instrument, extra attribute, value).
pub fn points(
    record: &CallRecord,
) -> Vec<(super::Instrument, Option<(&'static str, String)>, Decimal)> {
    use super::Instrument::*;
    let mut points = Vec::new();
    if let Some(duration) = record.duration_seconds {
        points.push((OperationDuration, None, duration));
    }
    if let Some(usage) = &record.usage {
        let kinds = [
            ("input", usage.input, true),
            ("output", usage.output, true),
            ("cache_read", usage.cache_read, false),
            ("cache_creation", usage.cache_write(), false),
            ("reasoning", usage.reasoning, false),
        ];
        for (kind, tokens, always) in kinds {
            if always || tokens > 0 {
                points.push((
                    TokenUsage,
                    Some(("gen_ai.token.type", kind.to_string())),
                    Decimal::from(tokens),
                ));
            }
        }
    }
    if let Some(cost) = &record.cost {
        let kinds = [
            ("input", cost.input, true),
            ("output", cost.output, true),
            ("cache_read", cost.cache_read, false),
            ("cache_creation", cost.cache_creation, false),
            ("tools", cost.tools, false),
        ];
        for (kind, amount, always) in kinds {
            if always || !amount.is_zero() {
                points.push((Cost, Some(("gen_ai.cost.type", kind.to_string())), amount));
            }
        }
        points.push((RequestCost, None, cost.total));
        points.push((CacheSavings, None, cost.savings));
    }
    if let Some(reason) = record.unpriced {
        points.push((
            Unpriced,
            Some(("reason", reason.as_str().to_string())),
            Decimal::ONE,
        ));
    }
    for threshold in &record.thresholds_exceeded {
        points.push((
            ThresholdExceeded,
            Some(("threshold", threshold.normalize().to_string())),
            Decimal::ONE,
        ));
    }
    points
}
