//! `genai-cost-agent report`: reads ledger files (JSON lines) and sums them up — the figures
//! teams ask for, rollups by the keys asked for, the Pareto line and the most expensive calls.
//! Sums are exact; ratios and averages are rounded for reading ([`ratio`]).

mod render;
#[cfg(test)]
mod tests;

pub use render::{render, Format};

use crate::config::ConfigDate;
use crate::ledger::{entry::rfc3339, read, LedgerEntry};
use crate::live::ratio;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The percentage of the most expensive calls the Pareto line looks at.
const PARETO_PERCENT: u64 = 5;

/// Why a report cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Read(#[from] read::ReadError),
    #[error("`{0}` is not a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS]Z")]
    Time(String),
    #[error("the ledgers mix currencies ({0} and {1}): report them apart")]
    Currencies(String, String),
}

/// What to report on and how to group it.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Calls that ended at or after this time (RFC 3339, as the ledger writes it).
    pub from: Option<String>,
    /// Calls that ended before this time.
    pub to: Option<String>,
    /// Rollup keys: `day`, `model`, `provider`, `service`, `operation`, `status`, or an
    /// attribution key (`user.id`, `team`, `feature`…).
    pub by: Vec<String>,
    /// How many of the most expensive calls to list.
    pub top: usize,
}

impl Selection {
    /// `--from`: a date is its midnight, a time itself.
    pub fn from_bound(text: &str) -> Result<String, ReportError> {
        bound(text, false)
    }

    /// `--to`: a date includes its whole day, a time is the end.
    pub fn to_bound(text: &str) -> Result<String, ReportError> {
        bound(text, true)
    }
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]Z` as the ledger's time text; a date's end is the next
/// midnight.
fn bound(text: &str, end_of_day: bool) -> Result<String, ReportError> {
    let invalid = || ReportError::Time(text.to_string());
    let (date, clock) = match text.split_once('T') {
        Some((date, clock)) => (date, Some(clock)),
        None => (text, None),
    };
    let day = ConfigDate::parse(date).map_err(|_| invalid())?;
    let seconds = match clock {
        None if end_of_day => 86_400,
        None => 0,
        Some(clock) => {
            let clock = clock.strip_suffix('Z').ok_or_else(invalid)?;
            let parts: Vec<u64> = clock
                .split(':')
                .map(|part| part.parse().map_err(|_| invalid()))
                .collect::<Result<_, _>>()?;
            match parts[..] {
                [hours, minutes] if hours < 24 && minutes < 60 => hours * 3600 + minutes * 60,
                [hours, minutes, seconds] if hours < 24 && minutes < 60 && seconds < 60 => {
                    hours * 3600 + minutes * 60 + seconds
                }
                _ => return Err(invalid()),
            }
        }
    };
    // Beyond u64 nanoseconds (after 2554) no ledger has a call.
    let nanos = u64::try_from(day.days_since_epoch)
        .ok()
        .and_then(|days| {
            days.checked_mul(86_400)?
                .checked_add(seconds)?
                .checked_mul(1_000_000_000)
        })
        .ok_or_else(invalid)?;
    Ok(rfc3339(nanos))
}

/// The figures over every selected call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub calls: u64,
    pub priced_calls: u64,
    pub unpriced_calls: BTreeMap<String, u64>,
    pub cost: Decimal,
    /// Per priced model call.
    pub cost_per_call_average: Decimal,
    pub cost_per_call_p95: Decimal,
    /// Input and output tokens per unit of currency.
    pub tokens_per_unit: Decimal,
    /// Cache reads over all input tokens.
    pub cache_hit_rate: Decimal,
    pub cache_savings: Decimal,
    pub output_input_ratio: Decimal,
    pub failed_calls: u64,
    pub error_rate: Decimal,
    pub failed_calls_cost: Decimal,
    pub throttled_calls: u64,
    pub model_mix: Vec<ModelShare>,
}

/// One model's part of the calls and of the cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelShare {
    pub model: String,
    pub calls: u64,
    pub call_share: Decimal,
    pub cost: Decimal,
    pub cost_share: Decimal,
}

/// One group of calls with the same rollup keys.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Rollup {
    pub keys: Vec<String>,
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cost: Decimal,
    pub cache_savings: Decimal,
}

/// How much of the cost the most expensive calls make.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pareto {
    /// The top 5% of priced calls (at least one).
    pub calls: u64,
    pub cost: Decimal,
    pub share: Decimal,
}

/// One of the most expensive calls, with its share of all the cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopCall {
    pub share: Decimal,
    pub call: LedgerEntry,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub currency: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: Vec<String>,
    pub figures: Figures,
    pub rollups: Vec<Rollup>,
    pub pareto: Option<Pareto>,
    pub top_calls: Vec<TopCall>,
}

/// The ledger files among `paths`: files as given, directories by their `ledger-*.jsonl`.
pub fn ledger_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ReportError> {
    Ok(read::ledger_files(paths)?)
}

/// Every record of `file`; a line that is no record is an error naming its place, except a
/// last line cut short by a failed write (no line break after it), which is skipped with a
/// warning on standard error.
pub fn read_entries(file: &Path) -> Result<Vec<LedgerEntry>, ReportError> {
    let mut entries = Vec::new();
    if let Some(line) = read::for_each_entry(file, |entry| entries.push(entry))? {
        eprintln!(
            "warning: {}:{line}: a record cut short by a failed write, skipped",
            file.display()
        );
    }
    Ok(entries)
}

/// The report over the calls of `entries` that `selection` picks.
pub fn report(entries: Vec<LedgerEntry>, selection: &Selection) -> Result<Report, ReportError> {
    let picked: Vec<LedgerEntry> = entries
        .into_iter()
        .filter(|entry| {
            selection
                .from
                .as_ref()
                .is_none_or(|from| &entry.time >= from)
        })
        .filter(|entry| selection.to.as_ref().is_none_or(|to| &entry.time < to))
        .collect();
    let currency = currency_of(&picked)?;
    let figures = figures(&picked);
    let rollups = rollups(&picked, &selection.by);
    let mut priced: Vec<(Decimal, &LedgerEntry)> = picked
        .iter()
        .filter_map(|entry| Some((entry.cost?.total, entry)))
        .collect();
    // Most expensive first; ties in time order, so the report is the same every time.
    priced.sort_by(|(a, first), (b, second)| b.cmp(a).then_with(|| first.time.cmp(&second.time)));
    let pareto = pareto(&priced, figures.cost);
    let top_calls = priced
        .iter()
        .take(selection.top)
        .map(|(cost, entry)| TopCall {
            share: ratio(*cost, figures.cost),
            call: (*entry).clone(),
        })
        .collect();
    Ok(Report {
        currency,
        from: selection.from.clone(),
        to: selection.to.clone(),
        by: selection.by.clone(),
        figures,
        rollups,
        pareto,
        top_calls,
    })
}

fn currency_of(entries: &[LedgerEntry]) -> Result<String, ReportError> {
    let mut currency: Option<&str> = None;
    for entry in entries.iter().filter(|entry| entry.cost.is_some()) {
        match currency {
            Some(seen) if seen != entry.currency => {
                return Err(ReportError::Currencies(
                    seen.to_string(),
                    entry.currency.clone(),
                ))
            }
            _ => currency = Some(&entry.currency),
        }
    }
    Ok(currency.unwrap_or("USD").to_string())
}

fn figures(entries: &[LedgerEntry]) -> Figures {
    let mut costs: Vec<Decimal> = entries
        .iter()
        .filter_map(|entry| Some(entry.cost?.total))
        .collect();
    costs.sort();
    let cost = sum_money(costs.iter().copied());
    let sum_tokens = |priced_only: bool, kind: fn(&crate::ledger::Tokens) -> u64| -> u64 {
        entries
            .iter()
            .filter(|entry| !priced_only || entry.cost.is_some())
            .filter_map(|entry| entry.tokens.as_ref().map(kind))
            .fold(0, u64::saturating_add)
    };
    let input = sum_tokens(false, |tokens| tokens.input);
    let output = sum_tokens(false, |tokens| tokens.output);
    let cache_read = sum_tokens(false, |tokens| tokens.cache_read);
    let priced_tokens = sum_tokens(true, |tokens| tokens.input.saturating_add(tokens.output));
    let failed: Vec<&LedgerEntry> = entries
        .iter()
        .filter(|entry| entry.status == "error")
        .collect();
    let mut unpriced_calls = BTreeMap::new();
    for reason in entries
        .iter()
        .filter_map(|entry| entry.unpriced_reason.as_ref())
    {
        *unpriced_calls.entry(reason.clone()).or_insert(0) += 1;
    }
    let calls = entries.len() as u64;
    let priced_calls = costs.len() as u64;
    Figures {
        calls,
        priced_calls,
        unpriced_calls,
        cost,
        cost_per_call_average: ratio(cost, Decimal::from(priced_calls)),
        cost_per_call_p95: nearest_rank(&costs, 95),
        tokens_per_unit: ratio(Decimal::from(priced_tokens), cost),
        cache_hit_rate: ratio(Decimal::from(cache_read), Decimal::from(input)),
        cache_savings: sum_money(
            entries
                .iter()
                .filter_map(|entry| Some(entry.cost?.cache_savings)),
        ),
        output_input_ratio: ratio(Decimal::from(output), Decimal::from(input)),
        failed_calls: failed.len() as u64,
        error_rate: ratio(Decimal::from(failed.len() as u64), Decimal::from(calls)),
        failed_calls_cost: sum_money(failed.iter().filter_map(|entry| Some(entry.cost?.total))),
        throttled_calls: entries.iter().filter(|entry| entry.throttled()).count() as u64,
        model_mix: model_mix(entries, calls, cost),
    }
}

/// The `percent`th percentile of sorted `values` by nearest rank (zero when there are none).
fn nearest_rank(sorted: &[Decimal], percent: u64) -> Decimal {
    if sorted.is_empty() {
        return Decimal::ZERO;
    }
    let rank = (sorted.len() as u64 * percent).div_ceil(100).max(1);
    sorted[rank as usize - 1]
}

fn model_mix(entries: &[LedgerEntry], calls: u64, cost: Decimal) -> Vec<ModelShare> {
    let mut by_model: BTreeMap<&str, (u64, Decimal)> = BTreeMap::new();
    for entry in entries {
        let share = by_model.entry(entry.model()).or_default();
        share.0 += 1;
        share.1 = share
            .1
            .saturating_add(entry.cost.map_or(Decimal::ZERO, |cost| cost.total));
    }
    let mut mix: Vec<ModelShare> = by_model
        .into_iter()
        .map(|(model, (model_calls, model_cost))| ModelShare {
            model: model.to_string(),
            calls: model_calls,
            call_share: ratio(Decimal::from(model_calls), Decimal::from(calls)),
            cost: model_cost.normalize(),
            cost_share: ratio(model_cost, cost),
        })
        .collect();
    mix.sort_by(|a, b| b.cost.cmp(&a.cost).then_with(|| a.model.cmp(&b.model)));
    mix
}

/// The value of rollup key `key` for `entry` (empty when the call has none).
fn key_value<'a>(entry: &'a LedgerEntry, key: &str) -> &'a str {
    let field = match key {
        "day" => Some(entry.day()),
        "model" => Some(entry.model()),
        "provider" => entry.provider.as_deref(),
        "service" => entry.service.as_deref(),
        "operation" => entry.operation.as_deref(),
        "status" => Some(entry.status.as_str()),
        "price_id" => entry.price_id.as_deref(),
        other => entry.attributes.get(other).map(String::as_str),
    };
    field.unwrap_or("")
}

fn rollups(entries: &[LedgerEntry], by: &[String]) -> Vec<Rollup> {
    let mut groups: BTreeMap<Vec<String>, Rollup> = BTreeMap::new();
    for entry in entries {
        let keys: Vec<String> = by
            .iter()
            .map(|key| key_value(entry, key).to_string())
            .collect();
        let group = groups.entry(keys.clone()).or_insert_with(|| Rollup {
            keys,
            ..Rollup::default()
        });
        group.calls += 1;
        if let Some(tokens) = &entry.tokens {
            group.input_tokens = group.input_tokens.saturating_add(tokens.input);
            group.output_tokens = group.output_tokens.saturating_add(tokens.output);
            group.cache_read_tokens = group.cache_read_tokens.saturating_add(tokens.cache_read);
            group.cache_creation_tokens = group
                .cache_creation_tokens
                .saturating_add(tokens.cache_creation);
        }
        if let Some(cost) = &entry.cost {
            group.cost = group.cost.saturating_add(cost.total);
            group.cache_savings = group.cache_savings.saturating_add(cost.cache_savings);
        }
    }
    groups
        .into_values()
        .map(|group| Rollup {
            cost: group.cost.normalize(),
            cache_savings: group.cache_savings.normalize(),
            ..group
        })
        .collect()
}

fn pareto(priced: &[(Decimal, &LedgerEntry)], total: Decimal) -> Option<Pareto> {
    if priced.is_empty() {
        return None;
    }
    let count = (priced.len() as u64 * PARETO_PERCENT).div_ceil(100).max(1);
    let cost = sum_money(priced.iter().take(count as usize).map(|(cost, _)| *cost));
    Some(Pareto {
        calls: count,
        cost,
        share: ratio(cost, total),
    })
}

/// The sum of `amounts`, saturating at a decimal's bounds rather than panicking.
fn sum_money(amounts: impl Iterator<Item = Decimal>) -> Decimal {
    amounts
        .fold(Decimal::ZERO, Decimal::saturating_add)
        .normalize()
}
