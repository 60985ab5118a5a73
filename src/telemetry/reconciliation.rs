//! The latest reconciliation with the providers' reports, as the telemetry endpoint shows it:
//! each provider and model's tokens and cost on both sides over the compared days (rendered as
//! gauges, with the ratios), the comparison table as JSON for the live page, and how the polls
//! went. The reconciler writes it; the endpoint only reads.

use super::escaped;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// One provider and model over the compared days.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelTotals {
    pub provider: String,
    pub model: String,
    pub agent_tokens: u64,
    pub provider_tokens: u64,
    /// Both sides' cost over the days both have one; `None` when there is no such day.
    pub agent_cost: Option<Decimal>,
    pub provider_cost: Option<Decimal>,
}

#[derive(Debug, Default)]
struct Latest {
    totals: Vec<ModelTotals>,
    table: Option<Arc<str>>,
    /// Polls by provider and result (the reconciler's words: `ok`, `rate_limited`, …).
    polls: BTreeMap<(String, &'static str), u64>,
    last_success: BTreeMap<String, u64>,
}

/// The reconciler's latest figures; empty until the first poll.
#[derive(Debug, Default)]
pub struct Reconciliation {
    latest: Mutex<Latest>,
}

impl Reconciliation {
    /// Replaces the figures and the table (JSON) with a new comparison's.
    pub fn publish(&self, totals: Vec<ModelTotals>, table: String) {
        if let Ok(mut latest) = self.latest.lock() {
            latest.totals = totals;
            latest.table = Some(table.into());
        }
    }

    /// Names the providers read, so their last-success time shows (as 0) before any read
    /// succeeds: an alert on it then fires for a provider never read.
    pub fn declare(&self, providers: &[&str]) {
        if let Ok(mut latest) = self.latest.lock() {
            for provider in providers {
                latest.last_success.entry(provider.to_string()).or_insert(0);
            }
        }
    }

    /// Counts a poll of `provider` that ended with `result`; a successful one (`succeeded_at`,
    /// Unix seconds) is stamped.
    pub fn polled(&self, provider: &str, result: &'static str, succeeded_at: Option<u64>) {
        if let Ok(mut latest) = self.latest.lock() {
            *latest
                .polls
                .entry((provider.to_string(), result))
                .or_default() += 1;
            if let Some(seconds) = succeeded_at {
                latest.last_success.insert(provider.to_string(), seconds);
            }
        }
    }

    /// The comparison table as JSON, once there is one.
    pub fn table(&self) -> Option<Arc<str>> {
        self.latest.lock().ok()?.table.clone()
    }

    /// The gauges and counters in the Prometheus text format; nothing before the first poll.
    pub fn render(&self, out: &mut String) {
        let Ok(latest) = self.latest.lock() else {
            return;
        };
        if latest.last_success.is_empty() {
            return;
        }
        let name = "genai_cost_agent_reconciliation_polls_total";
        let _ = writeln!(out, "# HELP {name} Reads of a provider's usage and cost reports, by result.\n# TYPE {name} counter");
        for ((provider, result), count) in &latest.polls {
            let provider = escaped(provider);
            let _ = writeln!(
                out,
                "{name}{{provider=\"{provider}\",result=\"{result}\"}} {count}"
            );
        }
        let name = "genai_cost_agent_reconciliation_last_success_timestamp_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} When a provider's reports were last read in full.\n# TYPE {name} gauge"
        );
        for (provider, seconds) in &latest.last_success {
            let provider = escaped(provider);
            let _ = writeln!(out, "{name}{{provider=\"{provider}\"}} {seconds}");
        }
        let gauges: [Gauge; 6] = [
            (
                "agent_tokens",
                "Tokens the agent priced, over the compared complete days.",
                |t| Some(t.agent_tokens.into()),
            ),
            (
                "provider_tokens",
                "Tokens the provider reports, over the compared complete days.",
                |t| Some(t.provider_tokens.into()),
            ),
            (
                "agent_cost",
                "The agent's token charges, over the compared complete days.",
                |t| t.agent_cost,
            ),
            (
                "provider_cost",
                "The provider's token charges, over the compared complete days.",
                |t| t.provider_cost,
            ),
            (
                "token_ratio",
                "The agent's tokens over the provider's: the share of the traffic the agent sees.",
                |t| ratio(t.agent_tokens.into(), t.provider_tokens.into()),
            ),
            ("cost_ratio", "The agent's cost over the provider's.", |t| {
                ratio(t.agent_cost?, t.provider_cost?)
            }),
        ];
        for (suffix, help, value) in gauges {
            let name = format!("genai_cost_agent_reconciliation_{suffix}");
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for totals in &latest.totals {
                let Some(value) = value(totals).and_then(|value| value.to_f64()) else {
                    continue;
                };
                let _ = writeln!(
                    out,
                    "{name}{{provider=\"{}\",model=\"{}\"}} {value}",
                    escaped(&totals.provider),
                    escaped(&totals.model)
                );
            }
        }
    }
}

/// A gauge family: its name's suffix, its help, and its value for one provider and model.
type Gauge = (
    &'static str,
    &'static str,
    fn(&ModelTotals) -> Option<Decimal>,
);

/// `mine / theirs`, none when theirs is zero.
fn ratio(mine: Decimal, theirs: Decimal) -> Option<Decimal> {
    (!theirs.is_zero())
        .then(|| mine.checked_div(theirs))
        .flatten()
}
