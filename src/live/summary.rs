//! The live page's figures for one window, built from the window's slots: the seven figures,
//! spend and savings per slot for the chart, spend by dimension, the most expensive calls with
//! the Pareto line, and unpriced calls by reason and model. The p95 and the Pareto line come
//! from the cost histogram (buckets 5% wide); everything else is exact.

use super::slot::{Slot, Spend};
use crate::ledger::entry::rfc3339;
use crate::ledger::LedgerEntry;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

/// Digits kept after the point in ratios and averages.
pub const RATIO_DIGITS: u32 = 10;
/// The share of the most expensive calls the Pareto line looks at, in percent.
const PARETO_PERCENT: u64 = 5;

/// `part / whole`, rounded to [`RATIO_DIGITS`]; zero when there is no whole (or the quotient
/// is beyond a decimal's range).
pub fn ratio(part: Decimal, whole: Decimal) -> Decimal {
    part.checked_div(whole).map_or(Decimal::ZERO, |quotient| {
        quotient
            .round_dp_with_strategy(RATIO_DIGITS, RoundingStrategy::MidpointNearestEven)
            .normalize()
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub window: String,
    pub currency: String,
    pub figures: Figures,
    pub series: Vec<Point>,
    pub spend: Vec<Breakdown>,
    pub top_calls: Vec<TopCall>,
    pub pareto: Pareto,
    pub unpriced: Vec<Unpriced>,
    /// Spans marked `duplicate` since the agent started (a second span of a priced call).
    pub duplicates_since_start: u64,
    /// Link template for a trace: `{trace_id}` is replaced.
    pub trace_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub calls: u64,
    pub priced_calls: u64,
    pub cost: Decimal,
    pub cost_per_call_average: Decimal,
    /// From the histogram: the average cost of the bucket holding the 95th percentile.
    pub cost_per_call_p95: Decimal,
    /// Input and output tokens of the priced calls per unit of currency.
    pub tokens_per_unit: Decimal,
    pub cache_hit_rate: Decimal,
    pub cache_savings: Decimal,
    pub output_input_ratio: Decimal,
    pub failed_calls: u64,
    pub error_rate: Decimal,
    pub failed_calls_cost: Decimal,
    pub throttled_calls: u64,
}

/// Spend and savings of one slot, for the chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub time: String,
    /// The slot's length: 1 (a minute) or 15 (a quarter of an hour).
    pub minutes: u64,
    pub cost: Decimal,
    pub savings: Decimal,
}

/// Spend by the values of one dimension, most first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breakdown {
    pub dimension: String,
    pub values: Vec<Share>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    pub value: String,
    pub calls: u64,
    pub call_share: Decimal,
    pub cost: Decimal,
    pub cost_share: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopCall {
    pub share: Decimal,
    pub call: LedgerEntry,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pareto {
    /// The top 5% of priced calls (at least one, when there are any).
    pub calls: u64,
    pub share: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unpriced {
    pub reason: String,
    pub model: String,
    pub calls: u64,
}

/// The summary of `slots` (oldest first) merged into `total`.
pub fn summarize(
    window: &str,
    currency: &str,
    dimensions: &[String],
    slots: &[&Slot],
    total: &Slot,
) -> Summary {
    let cost = total.priced.cost.normalize();
    let figures = Figures {
        calls: total.calls,
        priced_calls: total.priced.calls,
        cost,
        cost_per_call_average: ratio(cost, Decimal::from(total.priced.calls)),
        cost_per_call_p95: percentile(total, 95),
        tokens_per_unit: ratio(Decimal::from(total.priced_tokens), cost),
        cache_hit_rate: ratio(Decimal::from(total.cache_read), Decimal::from(total.input)),
        cache_savings: total.savings.normalize(),
        output_input_ratio: ratio(Decimal::from(total.output), Decimal::from(total.input)),
        failed_calls: total.failed.calls,
        error_rate: ratio(
            Decimal::from(total.failed.calls),
            Decimal::from(total.calls),
        ),
        failed_calls_cost: total.failed.cost.normalize(),
        throttled_calls: total.throttled,
    };
    let series = slots
        .iter()
        .map(|slot| Point {
            time: rfc3339(slot.start_minute * 60_000_000_000),
            minutes: slot.minutes,
            cost: slot.priced.cost.normalize(),
            savings: slot.savings.normalize(),
        })
        .collect();
    let spend = dimensions
        .iter()
        .zip(&total.spend)
        .map(|(dimension, values)| Breakdown {
            dimension: dimension.clone(),
            values: shares(values.iter(), total.calls, cost),
        })
        .collect();
    let top_calls = total
        .top
        .iter()
        .map(|call| TopCall {
            share: ratio(call.cost.map_or(Decimal::ZERO, |cost| cost.total), cost),
            call: call.clone(),
        })
        .collect();
    let mut unpriced: Vec<Unpriced> = total
        .unpriced
        .iter()
        .map(|((reason, model), calls)| Unpriced {
            reason: reason.clone(),
            model: model.clone(),
            calls: *calls,
        })
        .collect();
    unpriced.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then_with(|| (&a.reason, &a.model).cmp(&(&b.reason, &b.model)))
    });
    Summary {
        window: window.to_string(),
        currency: currency.to_string(),
        figures,
        series,
        spend,
        top_calls,
        pareto: pareto(total, cost),
        unpriced,
        duplicates_since_start: 0,
        trace_url: String::new(),
    }
}

fn shares<'a>(
    values: impl Iterator<Item = (&'a String, &'a Spend)>,
    calls: u64,
    cost: Decimal,
) -> Vec<Share> {
    let mut shares: Vec<Share> = values
        .map(|(value, spend)| Share {
            value: value.clone(),
            calls: spend.calls,
            call_share: ratio(Decimal::from(spend.calls), Decimal::from(calls)),
            cost: spend.cost.normalize(),
            cost_share: ratio(spend.cost, cost),
        })
        .collect();
    shares.sort_by(|a, b| {
        b.cost
            .cmp(&a.cost)
            .then_with(|| b.calls.cmp(&a.calls))
            .then_with(|| a.value.cmp(&b.value))
    });
    shares
}

/// The average cost in the bucket that holds the `percent`th percentile call (nearest rank).
fn percentile(total: &Slot, percent: u64) -> Decimal {
    let rank = (total.priced.calls * percent).div_ceil(100);
    let mut seen = 0;
    for spend in total.buckets.values() {
        seen += spend.calls;
        if seen >= rank && spend.calls > 0 {
            return ratio(spend.cost, Decimal::from(spend.calls));
        }
    }
    Decimal::ZERO
}

/// What the top 5% of priced calls cost as a share of all, from the most expensive buckets
/// down (the last bucket taken in part, at its average).
fn pareto(total: &Slot, cost: Decimal) -> Pareto {
    let calls = (total.priced.calls * PARETO_PERCENT)
        .div_ceil(100)
        .min(total.priced.calls);
    let mut left = calls;
    let mut top_cost = Decimal::ZERO;
    for spend in total.buckets.values().rev() {
        if left == 0 {
            break;
        }
        let taken = left.min(spend.calls);
        let part = if taken == spend.calls {
            spend.cost
        } else {
            ratio(spend.cost, Decimal::from(spend.calls)).saturating_mul(Decimal::from(taken))
        };
        top_cost = top_cost.saturating_add(part);
        left -= taken;
    }
    Pareto {
        calls,
        share: ratio(top_cost, cost),
    }
}
