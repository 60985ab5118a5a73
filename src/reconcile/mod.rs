//! Reconciling with the bill: what the agent priced (its ledger's calls) against what a
//! provider reports it used and charged, per provider, model and UTC day, with a verdict for
//! each: matched within a tolerance, traffic the agent did not see, a price mismatch (the same
//! tokens priced differently), or calls the provider does not report. The provider's side
//! comes from its usage and cost reports ([`ProviderDay`], read page by page by [`reports`]).

pub mod reports;
#[cfg(test)]
mod tests;

use crate::ledger::LedgerEntry;
use crate::live::ratio;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Usage and cost on one side, for one provider, model and day. Input includes cache reads and
/// writes (the convention's reading); output includes reasoning.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_creation: u64,
    /// `None` when this side reports no cost.
    pub cost: Option<Decimal>,
}

impl Usage {
    fn tokens(&self) -> u64 {
        self.input.saturating_add(self.output)
    }

    fn add(&mut self, other: &Usage) {
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

/// One row of a provider's usage report, normalized.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderDay {
    pub provider: String,
    pub model: String,
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub usage: Usage,
}

/// How far apart the two sides may be and still match, as fractions (0.02: 2%).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub tokens: Decimal,
    pub cost: Decimal,
}

/// What a row's figures say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Tokens (and cost, when the provider reports it) agree within the tolerance.
    Matched,
    /// The provider counts more tokens than the agent saw: traffic that bypasses the agent or
    /// its instrumentation.
    NotSeen,
    /// The tokens agree, the cost does not: a price in the catalog is wrong or stale, or a
    /// discount applies.
    PriceMismatch,
    /// The agent saw more than the provider reports (the provider's data may still be coming
    /// in, or the agent priced calls of another account).
    AgentOnly,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Matched => "matched",
            Verdict::NotSeen => "traffic not seen by the agent",
            Verdict::PriceMismatch => "price mismatch",
            Verdict::AgentOnly => "not in the provider's report",
        }
    }
}

/// Both sides of one provider, model and day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub provider: String,
    pub model: String,
    pub day: String,
    pub agent: Usage,
    pub reported: Usage,
    /// The agent's tokens over the provider's (zero when the provider reports none).
    pub token_ratio: Decimal,
    /// The agent's cost over the provider's, when both have one.
    pub cost_ratio: Option<Decimal>,
    pub verdict: Verdict,
}

/// The agent's usage and cost by provider, model and day, from its ledger's priced calls.
pub fn agent_days(entries: &[LedgerEntry]) -> BTreeMap<(String, String, String), Usage> {
    let mut days: BTreeMap<(String, String, String), Usage> = BTreeMap::new();
    for entry in entries {
        let (Some(tokens), Some(cost)) = (&entry.tokens, &entry.cost) else {
            continue;
        };
        let key = (
            entry.provider.clone().unwrap_or_default(),
            entry.model().to_string(),
            entry.day().to_string(),
        );
        days.entry(key).or_default().add(&Usage {
            input: tokens.input,
            output: tokens.output,
            cache_read: tokens.cache_read,
            cache_creation: tokens.cache_creation,
            cost: Some(cost.total),
        });
    }
    days
}

/// Every provider, model and day either side has, compared.
pub fn compare(
    agent: &BTreeMap<(String, String, String), Usage>,
    reported: &[ProviderDay],
    tolerance: Tolerance,
) -> Vec<Row> {
    let mut both: BTreeMap<(String, String, String), (Usage, Usage)> = agent
        .iter()
        .map(|(key, usage)| (key.clone(), (*usage, Usage::default())))
        .collect();
    for day in reported {
        let key = (day.provider.clone(), day.model.clone(), day.day.clone());
        both.entry(key).or_default().1.add(&day.usage);
    }
    both.into_iter()
        .map(|((provider, model, day), (agent, reported))| {
            let token_ratio = ratio(
                Decimal::from(agent.tokens()),
                Decimal::from(reported.tokens()),
            );
            let cost_ratio = match (agent.cost, reported.cost) {
                (Some(mine), Some(theirs)) if !theirs.is_zero() => Some(ratio(mine, theirs)),
                _ => None,
            };
            Row {
                verdict: verdict(&agent, &reported, cost_ratio, tolerance),
                provider,
                model,
                day,
                agent,
                reported,
                token_ratio,
                cost_ratio,
            }
        })
        .collect()
}

fn verdict(
    agent: &Usage,
    reported: &Usage,
    cost_ratio: Option<Decimal>,
    tolerance: Tolerance,
) -> Verdict {
    let within = |ratio: Decimal, by: Decimal| (ratio - Decimal::ONE).abs() <= by;
    if reported.tokens() == 0 {
        return if agent.tokens() == 0 {
            Verdict::Matched
        } else {
            Verdict::AgentOnly
        };
    }
    let token_ratio = Decimal::from(agent.tokens()) / Decimal::from(reported.tokens());
    if !within(token_ratio, tolerance.tokens) {
        return if token_ratio < Decimal::ONE {
            Verdict::NotSeen
        } else {
            Verdict::AgentOnly
        };
    }
    match cost_ratio {
        Some(cost_ratio) if !within(cost_ratio, tolerance.cost) => Verdict::PriceMismatch,
        _ => Verdict::Matched,
    }
}

/// The rows as a table: both sides' tokens and cost, the ratios and the verdict.
pub fn table(rows: &[Row], currency: &str) -> String {
    let cost = |usage: &Usage| {
        usage
            .cost
            .map_or("–".to_string(), |cost| cost.normalize().to_string())
    };
    let mut cells = vec![[
        "day".to_string(),
        "provider".into(),
        "model".into(),
        "agent tokens".into(),
        "provider tokens".into(),
        "ratio".into(),
        format!("agent {currency}"),
        format!("provider {currency}"),
        "ratio".into(),
        "verdict".into(),
    ]];
    for row in rows {
        cells.push([
            row.day.clone(),
            row.provider.clone(),
            row.model.clone(),
            row.agent.tokens().to_string(),
            row.reported.tokens().to_string(),
            row.token_ratio.to_string(),
            cost(&row.agent),
            cost(&row.reported),
            row.cost_ratio
                .map_or("–".to_string(), |ratio| ratio.to_string()),
            row.verdict.as_str().to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..10)
        .map(|column| {
            cells
                .iter()
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &cells {
        let mut line = String::new();
        for (column, (cell, width)) in row.iter().zip(&widths).enumerate() {
            let numeric = (3..9).contains(&column);
            let _ = if numeric {
                write!(line, "{cell:>width$}  ")
            } else {
                write!(line, "{cell:<width$}  ")
            };
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
