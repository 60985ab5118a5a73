//! Why a span with token usage carries no cost: decided while enriching (the usage read, the
//! catalog lookup, the duplicate rules), written on the span, counted and used as a metric
//! dimension.

use crate::telemetry::label_values;

/// Why a span with token usage carries no cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnpricedReason {
    UnknownModel,
    MissingModel,
    InvalidUsage,
    /// Usage on an agent, chain or workflow span that repeats its model calls' usage.
    AggregateSpan,
    /// A second span for a call another span was priced for.
    Duplicate,
}

label_values!(UnpricedReason {
    UnknownModel => "unknown_model",
    MissingModel => "missing_model",
    InvalidUsage => "invalid_usage",
    AggregateSpan => "aggregate_span",
    Duplicate => "duplicate",
});
