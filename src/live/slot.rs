//! What the live page keeps of the calls of one stretch of time (a minute, or a quarter of an
//! hour once the minute is an hour old): sums, a histogram of call costs (for the p95 and the
//! Pareto line), spend by each dimension (bounded), unpriced calls by reason and model
//! (bounded), and the most expensive calls.

use crate::ledger::entry::throttled;
use crate::ledger::LedgerEntry;
use crate::metrics::CallRecord;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Spend under a value nobody named once a dimension holds its bound of values.
pub const OTHER: &str = "(other)";

/// Each histogram bucket spans costs within 5% of each other.
const BUCKET_RATIO: f64 = 1.05;

/// How many calls of one kind, and what they cost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spend {
    pub calls: u64,
    pub cost: Decimal,
}

impl Spend {
    fn add(&mut self, calls: u64, cost: Decimal) {
        self.calls = self.calls.saturating_add(calls);
        self.cost = self.cost.saturating_add(cost);
    }
}

/// The bounds every slot keeps to.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Values per dimension (and reason-model pairs of unpriced calls).
    pub values: usize,
    /// Most expensive calls kept.
    pub top_calls: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Slot {
    /// The minute (since the Unix epoch) the slot starts at, and how many it spans.
    pub start_minute: u64,
    pub minutes: u64,
    pub calls: u64,
    pub priced: Spend,
    pub savings: Decimal,
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    /// Input and output tokens of the priced calls.
    pub priced_tokens: u64,
    pub failed: Spend,
    pub throttled: u64,
    /// Priced calls by the bucket of their cost: how many, and their sum.
    pub buckets: BTreeMap<i32, Spend>,
    /// For each dimension (in the page's order), spend by value.
    pub spend: Vec<FxHashMap<String, Spend>>,
    pub unpriced: FxHashMap<(String, String), u64>,
    /// Most expensive first.
    pub top: Vec<LedgerEntry>,
}

impl Slot {
    pub fn new(start_minute: u64, minutes: u64, dimensions: usize) -> Self {
        Slot {
            start_minute,
            minutes,
            spend: vec![FxHashMap::default(); dimensions],
            ..Slot::default()
        }
    }

    /// Adds one call; `values` are its value of each dimension.
    pub fn add(
        &mut self,
        record: &CallRecord,
        values: &[Option<&str>],
        currency: &str,
        bounds: Bounds,
    ) {
        self.calls = self.calls.saturating_add(1);
        if let Some(usage) = &record.usage {
            self.input = self.input.saturating_add(usage.input);
            self.output = self.output.saturating_add(usage.output);
            self.cache_read = self.cache_read.saturating_add(usage.cache_read);
        }
        let cost = record.cost.map_or(Decimal::ZERO, |cost| cost.total);
        if let Some(breakdown) = &record.cost {
            self.priced.add(1, cost);
            self.savings = self.savings.saturating_add(breakdown.savings);
            self.buckets.entry(bucket(cost)).or_default().add(1, cost);
            if let Some(usage) = &record.usage {
                let tokens = usage.input.saturating_add(usage.output);
                self.priced_tokens = self.priced_tokens.saturating_add(tokens);
            }
        }
        let error_type = record.dimension("error.type");
        if record.span.failed || error_type.is_some() {
            self.failed.add(1, cost);
        }
        if error_type.is_some_and(throttled) {
            self.throttled = self.throttled.saturating_add(1);
        }
        for (spend, value) in self.spend.iter_mut().zip(values) {
            add_bounded(
                spend,
                value.unwrap_or(""),
                Spend { calls: 1, cost },
                bounds.values,
            );
        }
        if let Some(reason) = record.unpriced {
            let model = values.get(1).copied().flatten().unwrap_or("");
            self.count_unpriced(reason.as_str(), model, 1, bounds.values);
        }
        if record.cost.is_some() && self.qualifies(cost, bounds.top_calls) {
            self.keep_top(LedgerEntry::of(record, currency), bounds.top_calls);
        }
    }

    /// Counts `calls` unpriced calls of `reason` and `model`, under [`OTHER`] once `bound`
    /// pairs are named.
    fn count_unpriced(&mut self, reason: &str, model: &str, calls: u64, bound: usize) {
        let key = (reason.to_string(), model.to_string());
        let named = self.unpriced.len();
        let key = if self.unpriced.contains_key(&key) || named < bound {
            key
        } else {
            (reason.to_string(), OTHER.to_string())
        };
        let count = self.unpriced.entry(key).or_default();
        *count = count.saturating_add(calls);
    }

    /// Whether a call of `cost` belongs among the most expensive kept.
    fn qualifies(&self, cost: Decimal, top_calls: usize) -> bool {
        top_calls > 0
            && (self.top.len() < top_calls
                || self.top.last().is_some_and(|last| cost > total_of(last)))
    }

    fn keep_top(&mut self, entry: LedgerEntry, top_calls: usize) {
        let cost = total_of(&entry);
        let at = self
            .top
            .iter()
            .position(|kept| total_of(kept) < cost)
            .unwrap_or(self.top.len());
        self.top.insert(at, entry);
        self.top.truncate(top_calls);
    }

    /// Adds `other`'s calls to this slot's.
    pub fn merge(&mut self, other: &Slot, bounds: Bounds) {
        self.calls = self.calls.saturating_add(other.calls);
        self.priced.add(other.priced.calls, other.priced.cost);
        self.savings = self.savings.saturating_add(other.savings);
        self.input = self.input.saturating_add(other.input);
        self.output = self.output.saturating_add(other.output);
        self.cache_read = self.cache_read.saturating_add(other.cache_read);
        self.priced_tokens = self.priced_tokens.saturating_add(other.priced_tokens);
        self.failed.add(other.failed.calls, other.failed.cost);
        self.throttled = self.throttled.saturating_add(other.throttled);
        for (bucket, spend) in &other.buckets {
            self.buckets
                .entry(*bucket)
                .or_default()
                .add(spend.calls, spend.cost);
        }
        for (mine, theirs) in self.spend.iter_mut().zip(&other.spend) {
            // The most spent first, so a bound reached keeps the largest values named.
            let mut values: Vec<(&String, &Spend)> = theirs.iter().collect();
            values.sort_by(|a, b| b.1.cost.cmp(&a.1.cost).then_with(|| a.0.cmp(b.0)));
            for (value, spend) in values {
                add_bounded(mine, value, *spend, bounds.values);
            }
        }
        for ((reason, model), calls) in &other.unpriced {
            self.count_unpriced(reason, model, *calls, bounds.values);
        }
        for entry in &other.top {
            if self.qualifies(total_of(entry), bounds.top_calls) {
                self.keep_top(entry.clone(), bounds.top_calls);
            }
        }
    }
}

/// Adds to `value`'s spend, or to [`OTHER`]'s once `bound` values are named.
fn add_bounded(spend: &mut FxHashMap<String, Spend>, value: &str, add: Spend, bound: usize) {
    if let Some(existing) = spend.get_mut(value) {
        existing.add(add.calls, add.cost);
        return;
    }
    let named = spend.len() - usize::from(spend.contains_key(OTHER));
    let key = if named < bound { value } else { OTHER };
    match spend.get_mut(key) {
        Some(existing) => existing.add(add.calls, add.cost),
        None => {
            spend.insert(key.to_string(), add);
        }
    }
}

fn total_of(entry: &LedgerEntry) -> Decimal {
    entry.cost.map_or(Decimal::ZERO, |cost| cost.total)
}

/// The histogram bucket of a cost: costs within 5% of each other share one.
fn bucket(cost: Decimal) -> i32 {
    let value = crate::pricing::attributes::decimal_to_f64(cost);
    if value <= 0.0 {
        return i32::MIN;
    }
    (value.ln() / BUCKET_RATIO.ln()).floor() as i32
}
