//! Why a span with token usage carries no cost: decided while enriching (the usage read, the
//! catalog lookup, the duplicate rules), written on the span, counted and used as a metric
//! dimension.

use crate::telemetry::Label;

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

impl UnpricedReason {
    pub const ALL: [UnpricedReason; 5] = [
        Self::UnknownModel,
        Self::MissingModel,
        Self::InvalidUsage,
        Self::AggregateSpan,
        Self::Duplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownModel => "unknown_model",
            Self::MissingModel => "missing_model",
            Self::InvalidUsage => "invalid_usage",
            Self::AggregateSpan => "aggregate_span",
            Self::Duplicate => "duplicate",
        }
    }
}

impl Label for UnpricedReason {
    const ALL: &'static [Self] = &Self::ALL;
    fn as_str(self) -> &'static str {
        UnpricedReason::as_str(self)
    }
    fn index(self) -> usize {
        self as usize
    }
}
