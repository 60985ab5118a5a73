//! What one model call contributes to the derived metrics.

use crate::pricing::{CostBreakdown, UnpricedReason};
use crate::usage::TokenUsage;
use rust_decimal::Decimal;
use std::sync::Arc;

/// A dimension's name: shared, since every call repeats the same few names.
pub type DimensionKey = Arc<str>;

/// One dimension of a call: its name and value.
pub type Dimension = (DimensionKey, String);

/// The span that described a call: which one, when, and whether the call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallSpan {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub start_unix_nano: u64,
    pub end_unix_nano: u64,
    /// The span's status is ERROR.
    pub failed: bool,
}

/// One model call, as the metrics and the ledger see it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallRecord {
    pub span: CallSpan,
    /// Dimensions shared by every point of the call: operation, provider, models, error type,
    /// service and resource keys, attribution keys — in a fixed order, absent ones left out.
    pub dimensions: Vec<Dimension>,
    /// Token usage, when the span reported it.
    pub usage: Option<TokenUsage>,
    pub cost: Option<CostBreakdown>,
    /// The price the cost was computed with (none for a cost the span reported itself).
    pub price_id: Option<String>,
    pub duration_seconds: Option<Decimal>,
    pub unpriced: Option<UnpricedReason>,
    /// Configured thresholds the call's cost exceeded.
    pub thresholds_exceeded: Vec<Decimal>,
}

impl CallRecord {
    /// The value of dimension `key`, if the call has it.
    pub fn dimension(&self, key: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(name, _)| &**name == key)
            .map(|(_, value)| value.as_str())
    }
}

/// One value for one instrument, with the attribute that sets it apart from the call's others.
pub struct Point {
    pub instrument: super::Instrument,
    pub extra: super::state::Extra,
    pub value: Decimal,
}

/// The points one record adds, in `points` (cleared first; reused across records).
pub fn fill_points(record: &CallRecord, points: &mut Vec<Point>) {
    points.clear();
    use super::Instrument::*;
    if let Some(duration) = record.duration_seconds {
        points.push(Point {
            instrument: OperationDuration,
            extra: None,
            value: duration,
        });
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
                points.push(Point {
                    instrument: TokenUsage,
                    extra: Some(("gen_ai.token.type", std::borrow::Cow::Borrowed(kind))),
                    value: Decimal::from(tokens),
                });
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
                points.push(Point {
                    instrument: Cost,
                    extra: Some(("gen_ai.cost.type", std::borrow::Cow::Borrowed(kind))),
                    value: amount,
                });
            }
        }
        points.push(Point {
            instrument: RequestCost,
            extra: None,
            value: cost.total,
        });
        points.push(Point {
            instrument: CacheSavings,
            extra: None,
            value: cost.savings,
        });
    }
    if let Some(reason) = record.unpriced {
        points.push(Point {
            instrument: Unpriced,
            extra: Some(("reason", std::borrow::Cow::Borrowed(reason.as_str()))),
            value: Decimal::ONE,
        });
    }
    for threshold in &record.thresholds_exceeded {
        points.push(Point {
            instrument: ThresholdExceeded,
            extra: Some((
                "threshold",
                std::borrow::Cow::Owned(threshold.normalize().to_string()),
            )),
            value: Decimal::ONE,
        });
    }
}
