//! The live cost page's memory: the model calls of the last 24 hours, kept as one [`Slot`] per
//! minute for the last hour and one per quarter of an hour before that, so a window of 15
//! minutes, an hour or a day is the sum of its slots (the day's oldest quarter may hold up to 14
//! minutes more). Memory is bounded: at most 60 + 97 slots,
//! each with at most `max_values` values per dimension and unpriced reason-model pairs, and
//! `top_calls` calls. [`page`] serves it.

pub mod page;
mod slot;
mod summary;
#[cfg(test)]
mod tests;

pub use slot::{Bounds, Slot, OTHER};
pub use summary::{ratio, Summary};

use crate::config::PageConfig;
use crate::metrics::{CallRecord, DimensionKey};
use crate::pricing::UnpricedReason;
use crate::telemetry::AgentCounters;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Minute slots kept: the last hour.
const MINUTE_SLOTS: u64 = 60;
/// Minutes in a quarter slot.
const QUARTER: u64 = 15;
/// Minutes in the longest window.
const DAY: u64 = 1440;

/// A window the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Minutes15,
    Hour,
    Day,
}

impl Window {
    pub fn parse(text: &str) -> Option<Window> {
        match text {
            "15m" => Some(Window::Minutes15),
            "1h" => Some(Window::Hour),
            "24h" => Some(Window::Day),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Window::Minutes15 => "15m",
            Window::Hour => "1h",
            Window::Day => "24h",
        }
    }

    fn minutes(self) -> u64 {
        match self {
            Window::Minutes15 => 15,
            Window::Hour => 60,
            Window::Day => DAY,
        }
    }
}

#[derive(Default)]
struct Slots {
    minutes: VecDeque<Slot>,
    quarters: VecDeque<Slot>,
    currency: String,
}

/// The calls the live page shows.
pub struct LivePage {
    slots: Mutex<Slots>,
    bounds: Bounds,
    /// `service`, `model`, `provider`, then the attribution keys.
    dimensions: Vec<String>,
    attribution_keys: Vec<DimensionKey>,
    trace_url: String,
    counters: Arc<AgentCounters>,
}

impl LivePage {
    pub fn new(
        config: &PageConfig,
        attribution_keys: &[String],
        counters: Arc<AgentCounters>,
    ) -> Self {
        let mut dimensions = vec!["service".to_string(), "model".into(), "provider".into()];
        dimensions.extend(attribution_keys.iter().cloned());
        LivePage {
            slots: Mutex::new(Slots::default()),
            bounds: Bounds {
                values: config.max_values,
                top_calls: config.top_calls,
            },
            dimensions,
            attribution_keys: attribution_keys
                .iter()
                .map(|key| DimensionKey::from(key.as_str()))
                .collect(),
            trace_url: config.trace_url.clone(),
            counters,
        }
    }

    /// Adds a request's model calls, priced in `currency`, to the current minute.
    pub fn record(&self, records: &[CallRecord], currency: &str) {
        self.record_at(records, currency, now_minute());
    }

    fn record_at(&self, records: &[CallRecord], currency: &str, minute: u64) {
        if records.is_empty() {
            return;
        }
        let Ok(mut slots) = self.slots.lock() else {
            return;
        };
        self.roll(&mut slots, minute);
        if slots.currency != currency {
            slots.currency = currency.to_string();
        }
        let Some(slot) = slots.minutes.back_mut() else {
            return;
        };
        let mut values = Vec::with_capacity(self.dimensions.len());
        for record in records {
            values.clear();
            values.push(record.dimension("service.name"));
            values.push(
                record
                    .dimension("gen_ai.response.model")
                    .or_else(|| record.dimension("gen_ai.request.model")),
            );
            values.push(record.dimension("gen_ai.provider.name"));
            values.extend(
                self.attribution_keys
                    .iter()
                    .map(|key| record.dimension(key)),
            );
            slot.add(record, &values, currency, self.bounds);
        }
    }

    /// Starts the slot of `minute`; an hour-old minute joins its quarter, a day-old quarter goes.
    fn roll(&self, slots: &mut Slots, minute: u64) {
        if slots
            .minutes
            .back()
            .is_none_or(|last| last.start_minute < minute)
        {
            slots
                .minutes
                .push_back(Slot::new(minute, 1, self.dimensions.len()));
        }
        while slots
            .minutes
            .front()
            .is_some_and(|first| first.start_minute + MINUTE_SLOTS <= minute)
        {
            let Some(old) = slots.minutes.pop_front() else {
                break;
            };
            let quarter = old.start_minute / QUARTER * QUARTER;
            if slots
                .quarters
                .back()
                .is_none_or(|last| last.start_minute != quarter)
            {
                slots
                    .quarters
                    .push_back(Slot::new(quarter, QUARTER, self.dimensions.len()));
            }
            if let Some(last) = slots.quarters.back_mut() {
                last.merge(&old, self.bounds);
            }
        }
        // A quarter goes once all of it is older than the longest window.
        while slots
            .quarters
            .front()
            .is_some_and(|first| first.start_minute + QUARTER + DAY <= minute + 1)
        {
            slots.quarters.pop_front();
        }
    }

    /// The figures of the last `window`.
    pub fn summary(&self, window: Window) -> Summary {
        self.summary_at(window, now_minute())
    }

    fn summary_at(&self, window: Window, minute: u64) -> Summary {
        let Ok(mut slots) = self.slots.lock() else {
            return summary::summarize(
                window.as_str(),
                "USD",
                &self.dimensions,
                &[],
                &Slot::new(0, 0, 0),
            );
        };
        self.roll(&mut slots, minute);
        let first = (minute + 1).saturating_sub(window.minutes());
        // Quarters hold only minutes older than the hour the minute slots cover.
        let quarters = slots
            .quarters
            .iter()
            .filter(|slot| window == Window::Day && slot.start_minute + QUARTER > first);
        let minutes = slots
            .minutes
            .iter()
            .filter(|slot| slot.start_minute >= first);
        let chosen: Vec<&Slot> = quarters
            .chain(minutes)
            .filter(|slot| slot.calls > 0)
            .collect();
        let mut total = Slot::new(0, window.minutes(), self.dimensions.len());
        for slot in &chosen {
            total.merge(slot, self.bounds);
        }
        let currency = if slots.currency.is_empty() {
            "USD"
        } else {
            &slots.currency
        };
        let mut summary =
            summary::summarize(window.as_str(), currency, &self.dimensions, &chosen, &total);
        summary.duplicates_since_start = self.counters.unpriced_total(UnpricedReason::Duplicate);
        summary.trace_url = self.trace_url.clone();
        summary
    }
}

fn now_minute() -> u64 {
    crate::metrics::unix_nanos_now() / 60_000_000_000
}
