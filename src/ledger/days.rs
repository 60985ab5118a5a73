//! The agent's own spend per provider, model and UTC day: summed from ledger records read back
//! from files, or from call records as they are priced (a running agent without ledger files).
//! It is the agent's side when its figures are reconciled with a provider's report.
//!
//! Only priced calls count, and only their token charges: per-use tool fees are left out,
//! because the providers report them apart from any model. Providers are compared by their
//! lowercase name (`Anthropic` and `anthropic` are one).

use super::LedgerEntry;
use crate::config::ConfigDate;
use crate::metrics::CallRecord;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Provider, model and UTC day (`YYYY-MM-DD`).
pub type DayKey = (String, String, String);

/// Tokens and cost on one side, for one provider, model and day. Input includes cache reads
/// and writes (the convention's reading); output includes reasoning.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Spend {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_creation: u64,
    /// `None` when this side reports no cost.
    pub cost: Option<Decimal>,
}

impl Spend {
    pub fn tokens(&self) -> u64 {
        self.input.saturating_add(self.output)
    }

    pub fn add(&mut self, other: &Spend) {
        self.input = self.input.saturating_add(other.input);
        self.output = self.output.saturating_add(other.output);
        self.cache_read = self.cache_read.saturating_add(other.cache_read);
        self.cache_creation = self.cache_creation.saturating_add(other.cache_creation);
        self.cost = match (self.cost, other.cost) {
            (None, None) => None,
            (mine, theirs) => Some(
                mine.unwrap_or_default()
                    .saturating_add(theirs.unwrap_or_default()),
            ),
        };
    }
}

/// Spend by provider, model and day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DailySpend {
    pub days: BTreeMap<DayKey, Spend>,
}

impl DailySpend {
    /// Adds a priced ledger record; others are skipped.
    pub fn add_entry(&mut self, entry: &LedgerEntry) {
        let (Some(tokens), Some(cost)) = (&entry.tokens, &entry.cost) else {
            return;
        };
        let provider = entry.provider.as_deref().unwrap_or_default();
        self.add(
            provider,
            entry.model(),
            entry.day(),
            Spend {
                input: tokens.input,
                output: tokens.output,
                cache_read: tokens.cache_read,
                cache_creation: tokens.cache_creation,
                cost: Some(cost.total.saturating_sub(cost.tools)),
            },
        );
    }

    /// Adds a priced call as the enricher recorded it; others are skipped.
    pub fn add_record(&mut self, record: &CallRecord) {
        let (Some(usage), Some(cost)) = (&record.usage, &record.cost) else {
            return;
        };
        let model = record
            .dimension(super::entry::RESPONSE_MODEL)
            .or(record.dimension(super::entry::REQUEST_MODEL))
            .unwrap_or("unknown");
        let provider = record.dimension(super::entry::PROVIDER).unwrap_or_default();
        let day = ConfigDate::from_unix_nanos(record.span.end_unix_nano).to_iso();
        self.add(
            provider,
            model,
            &day,
            Spend {
                input: usage.input,
                output: usage.output,
                cache_read: usage.cache_read,
                cache_creation: usage.cache_write(),
                cost: Some(cost.total.saturating_sub(cost.tools)),
            },
        );
    }

    fn add(&mut self, provider: &str, model: &str, day: &str, spend: Spend) {
        let key = (provider.to_lowercase(), model.to_string(), day.to_string());
        self.days.entry(key).or_default().add(&spend);
    }

    /// Only the days from `from` to `to`, both included (`YYYY-MM-DD`).
    pub fn between(&self, from: &str, to: &str) -> DailySpend {
        DailySpend {
            days: self
                .days
                .iter()
                .filter(|((_, _, day), _)| day.as_str() >= from && day.as_str() <= to)
                .map(|(key, spend)| (key.clone(), *spend))
                .collect(),
        }
    }
}

/// Daily spend kept while the agent runs, fed every request's priced calls.
#[derive(Debug)]
pub struct RunningSpend {
    spend: Mutex<DailySpend>,
    /// How many UTC days are kept, the current one included.
    keep_days: i64,
    /// The UTC day the agent started: it saw only part of it, and nothing before.
    started: ConfigDate,
}

impl RunningSpend {
    /// Keeps the last `keep_days` UTC days.
    pub fn new(keep_days: u32) -> Self {
        Self::started_on(ConfigDate::today(), keep_days)
    }

    pub fn started_on(started: ConfigDate, keep_days: u32) -> Self {
        Self {
            spend: Mutex::default(),
            keep_days: i64::from(keep_days.max(1)),
            started,
        }
    }

    pub fn started(&self) -> ConfigDate {
        self.started
    }

    pub fn record(&self, records: &[CallRecord]) {
        let Ok(mut spend) = self.spend.lock() else {
            return;
        };
        for record in records {
            spend.add_record(record);
        }
    }

    /// The days kept, after forgetting those outside the window that ends `today` (days ahead
    /// of it come from clocks ahead of this one's).
    pub fn snapshot(&self, today: ConfigDate) -> DailySpend {
        let oldest = ConfigDate {
            days_since_epoch: today.days_since_epoch - (self.keep_days - 1),
        }
        .to_iso();
        let newest = today.to_iso();
        let Ok(mut spend) = self.spend.lock() else {
            return DailySpend::default();
        };
        spend
            .days
            .retain(|(_, _, day), _| *day >= oldest && *day <= newest);
        spend.clone()
    }
}
