//! Reconciling with the bill: what the agent priced (its ledger's calls, or what it priced
//! since it started) against what a provider reports it used and charged, per provider, model
//! and UTC day, with a verdict for each: matched within a tolerance, traffic the agent did not
//! see, a price mismatch (the same tokens priced differently), or calls the provider does not
//! report. The provider's side comes from its admin API ([`sources`], [`client`]): usage and
//! cost reports read page by page ([`reports`]) on a schedule ([`poll`]); the agent's from its
//! ledger or what it priced ([`agent_side`]); the gauges sum the complete days ([`totals`]).

pub mod agent_side;
mod client;
pub mod poll;
pub mod reports;
pub mod sources;
#[cfg(test)]
mod tests;
pub mod totals;

use crate::ledger::days::{DailySpend, Spend};
use crate::live::ratio;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One row of a provider's usage report, normalized.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderDay {
    pub provider: String,
    pub model: String,
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub usage: Spend,
    /// The currency of its cost (ISO 4217, upper case); `None` for usage without a cost.
    pub currency: Option<String>,
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
    /// The provider counts more tokens than the agent saw (or charges for what the agent saw
    /// nothing of): traffic that bypasses the agent or its instrumentation.
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
    pub agent: Spend,
    pub reported: Spend,
    /// The agent's tokens over the provider's (zero when the provider reports none).
    pub token_ratio: Decimal,
    /// The agent's cost over the provider's, when both have one.
    pub cost_ratio: Option<Decimal>,
    pub verdict: Verdict,
    /// One side saw only part of the day: it is not over (both sides still grow), the
    /// provider was last read during it, or a running agent started during it.
    pub partial: bool,
}

/// Every provider, model and day either side has, compared.
pub fn compare(agent: &DailySpend, reported: &[ProviderDay], tolerance: Tolerance) -> Vec<Row> {
    let mut both: BTreeMap<(String, String, String), (Spend, Spend)> = agent
        .days
        .iter()
        .map(|(key, usage)| (key.clone(), (*usage, Spend::default())))
        .collect();
    for day in reported {
        let key = (day.provider.clone(), day.model.clone(), day.day.clone());
        both.entry(key).or_default().1.add(&day.usage);
    }
    both.into_iter()
        .map(|((provider, model, day), (mut agent, mut reported))| {
            for side in [&mut agent, &mut reported] {
                side.cost = side.cost.map(|cost| cost.normalize());
            }
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
                partial: false,
            }
        })
        .collect()
}

fn verdict(
    agent: &Spend,
    reported: &Spend,
    cost_ratio: Option<Decimal>,
    tolerance: Tolerance,
) -> Verdict {
    let within = |ratio: Decimal, by: Decimal| (ratio - Decimal::ONE).abs() <= by;
    if reported.tokens() == 0 {
        let charged = reported.cost.is_some_and(|cost| cost > Decimal::ZERO);
        return match (agent.tokens(), charged) {
            (0, true) => Verdict::NotSeen,
            (0, false) => Verdict::Matched,
            _ => Verdict::AgentOnly,
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
    match (cost_ratio, agent.cost, reported.cost) {
        (Some(cost_ratio), _, _) if !within(cost_ratio, tolerance.cost) => Verdict::PriceMismatch,
        // Billed nothing for what the agent priced.
        (None, Some(mine), Some(theirs)) if theirs.is_zero() && !mine.is_zero() => {
            Verdict::PriceMismatch
        }
        _ => Verdict::Matched,
    }
}

/// The rows as a table: both sides' tokens and cost, the ratios and the verdict.
pub fn table(rows: &[Row], currency: &str) -> String {
    let cost = |usage: &Spend| {
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
            if row.partial {
                format!("{} (partial day)", row.verdict.as_str())
            } else {
                row.verdict.as_str().to_string()
            },
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
