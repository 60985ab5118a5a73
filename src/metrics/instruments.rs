//! The derived metrics: names, units, kinds and bucket boundaries, following the GenAI semantic
//! conventions where they exist, and their Prometheus names after the usual OTLP translation.

use rust_decimal::Decimal;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Histogram,
    MonotonicSum,
    Sum,
}

/// One derived metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Instrument {
    TokenUsage,
    OperationDuration,
    Cost,
    RequestCost,
    CacheSavings,
    Unpriced,
    ThresholdExceeded,
}

/// The conventional `gen_ai.client.token.usage` boundaries.
const TOKEN_BOUNDS: &[&str] = &[
    "1", "4", "16", "64", "256", "1024", "4096", "16384", "65536", "262144", "1048576", "4194304",
    "16777216", "67108864",
];
/// The conventional `gen_ai.client.operation.duration` boundaries (seconds, doubling).
const DURATION_BOUNDS: &[&str] = &[
    "0.01", "0.02", "0.04", "0.08", "0.16", "0.32", "0.64", "1.28", "2.56", "5.12", "10.24",
    "20.48", "40.96", "81.92",
];
/// Money per request: fractions of a cent to tens of currency units.
const COST_BOUNDS: &[&str] = &[
    "0.0001", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
    "1", "2.5", "5", "10", "25", "50",
];

impl Instrument {
    pub const ALL: [Instrument; 7] = [
        Instrument::TokenUsage,
        Instrument::OperationDuration,
        Instrument::Cost,
        Instrument::RequestCost,
        Instrument::CacheSavings,
        Instrument::Unpriced,
        Instrument::ThresholdExceeded,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Instrument::TokenUsage => "gen_ai.client.token.usage",
            Instrument::OperationDuration => "gen_ai.client.operation.duration",
            Instrument::Cost => "gen_ai.client.cost",
            Instrument::RequestCost => "gen_ai.client.request.cost",
            Instrument::CacheSavings => "gen_ai.client.cache.savings",
            Instrument::Unpriced => "gen_ai.client.requests.unpriced",
            Instrument::ThresholdExceeded => "gen_ai.client.cost.threshold_exceeded",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Instrument::TokenUsage => "Tokens used per model call, by gen_ai.token.type.",
            Instrument::OperationDuration => "Duration of model calls.",
            Instrument::Cost => "Cost of model calls, by gen_ai.cost.type.",
            Instrument::RequestCost => "Total cost per model call.",
            Instrument::CacheSavings => {
                "What prompt caching saved (negative when cache writes cost more than reads saved)."
            }
            Instrument::Unpriced => "Model calls that could not be priced, by reason.",
            Instrument::ThresholdExceeded => {
                "Model calls whose cost exceeded a configured threshold, by threshold."
            }
        }
    }

    /// The UCUM unit; money metrics use the catalog's currency code.
    pub fn unit(self, currency: &str) -> String {
        match self {
            Instrument::TokenUsage => "{token}".into(),
            Instrument::OperationDuration => "s".into(),
            Instrument::Cost | Instrument::RequestCost | Instrument::CacheSavings => {
                currency.into()
            }
            Instrument::Unpriced | Instrument::ThresholdExceeded => "{request}".into(),
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Instrument::TokenUsage | Instrument::OperationDuration | Instrument::RequestCost => {
                Kind::Histogram
            }
            Instrument::Cost | Instrument::Unpriced | Instrument::ThresholdExceeded => {
                Kind::MonotonicSum
            }
            Instrument::CacheSavings => Kind::Sum,
        }
    }

    /// Histogram bucket boundaries, as exact decimals.
    pub fn bounds(self) -> Vec<Decimal> {
        let text = match self {
            Instrument::TokenUsage => TOKEN_BOUNDS,
            Instrument::OperationDuration => DURATION_BOUNDS,
            Instrument::RequestCost => COST_BOUNDS,
            _ => &[],
        };
        text.iter()
            .filter_map(|bound| Decimal::from_str(bound).ok())
            .collect()
    }

    /// The name a Prometheus scrape shows: dots to underscores, the unit appended (`s` →
    /// `_seconds`, annotations such as `{token}` dropped), `_total` for monotonic sums.
    pub fn prometheus_name(self, currency: &str) -> String {
        let mut name = self.name().replace('.', "_");
        match self.unit(currency).as_str() {
            "s" => name.push_str("_seconds"),
            unit if unit.starts_with('{') => {}
            unit => {
                name.push('_');
                name.push_str(unit);
            }
        }
        if self.kind() == Kind::MonotonicSum {
            name.push_str("_total");
        }
        name
    }
}

/// A Prometheus label name for an attribute key.
pub fn prometheus_label(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_names_follow_the_otlp_translation() {
        let names: Vec<String> = Instrument::ALL
            .iter()
            .map(|instrument| instrument.prometheus_name("USD"))
            .collect();
        assert_eq!(
            names,
            [
                "gen_ai_client_token_usage",
                "gen_ai_client_operation_duration_seconds",
                "gen_ai_client_cost_USD_total",
                "gen_ai_client_request_cost_USD",
                "gen_ai_client_cache_savings_USD",
                "gen_ai_client_requests_unpriced_total",
                "gen_ai_client_cost_threshold_exceeded_total",
            ]
        );
        assert_eq!(prometheus_label("gen_ai.token.type"), "gen_ai_token_type");
    }

    #[test]
    fn bucket_boundaries_are_the_conventional_ones() {
        assert_eq!(Instrument::TokenUsage.bounds().len(), 14);
        assert_eq!(
            Instrument::OperationDuration
                .bounds()
                .last()
                .map(|b| b.to_string()),
            Some("81.92".into())
        );
        assert_eq!(
            Instrument::RequestCost
                .bounds()
                .first()
                .map(|b| b.to_string()),
            Some("0.0001".into())
        );
    }

    #[test]
    fn bucket_boundaries_ascend_strictly() {
        for instrument in Instrument::ALL {
            let bounds = instrument.bounds();
            assert!(
                bounds.windows(2).all(|pair| pair[0] < pair[1]),
                "{instrument:?}: recording finds buckets by binary search"
            );
        }
    }
}
