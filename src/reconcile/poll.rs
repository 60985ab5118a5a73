//! One reconciliation: every configured provider's usage and cost reports for the compared UTC
//! days, read page by page, against the agent's own spend — its ledger files, or what it priced
//! since it started — and the result published to the agent's telemetry (the gauges, the live
//! page's table). The running agent reconciles on a schedule ([`run`]); `reconcile` once.
//!
//! Every poll reads the whole window again, so data a provider reports late replaces what was
//! read before. A provider whose reports cannot be read keeps its last comparison until a poll
//! succeeds; the failure is logged (without the key) and counted.

use super::agent_side::{agent_spend, AgentSide};
use super::client::{AdminClient, FetchError};
use super::reports::ReportPageError;
use super::sources::{Provider, Report, Source, SourceError};
use super::totals::model_totals;
use super::{compare, ProviderDay, Row, Tolerance};
use crate::config::{ConfigDate, ReconcileConfig};
use crate::ledger::days::DailySpend;
use crate::ledger::entry::rfc3339;
use crate::ledger::read::ReadError;
use crate::metrics::unix_nanos_now;
use crate::telemetry::{label_values, AgentCounters};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// More pages than this in one report is taken for a server that never says it is done.
const MAX_PAGES: usize = 1_000;

/// Why reconciliation cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Client(#[from] crate::config::ConfigError),
}

/// Why one provider's reports could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("{report}: {source}")]
    Fetch {
        report: &'static str,
        source: FetchError,
    },
    #[error("{report}: {source}")]
    Page {
        report: &'static str,
        source: ReportPageError,
    },
    #[error("{0}: more than {MAX_PAGES} pages, or a page token given twice")]
    Endless(&'static str),
}

/// How a poll of one provider went, as `genai_cost_agent_reconciliation_polls_total` labels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollResult {
    Ok,
    /// Refused with 429 more often than the retries allow.
    RateLimited,
    Failed,
}

label_values!(PollResult {
    Ok => "ok",
    RateLimited => "rate_limited",
    Failed => "failed",
});

impl PollError {
    fn result(&self) -> PollResult {
        match self {
            PollError::Fetch {
                source: FetchError::RateLimited,
                ..
            } => PollResult::RateLimited,
            _ => PollResult::Failed,
        }
    }
}

/// The providers to read and how to compare.
pub struct Reconciler {
    sources: Vec<Source>,
    client: AdminClient,
    tolerance: Tolerance,
    days: u32,
    interval: Duration,
}

/// A comparison as the live page shows it.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub currency: String,
    pub from: String,
    pub to: String,
    pub updated: String,
    pub rows: Vec<Row>,
    /// Providers whose reports could not be read this time, and why.
    pub failures: Vec<Failure>,
}

#[derive(Debug, Serialize)]
pub struct Failure {
    pub provider: String,
    pub error: String,
}

impl Reconciler {
    /// The reconciler `config` (validated) describes; the admin keys are read from the
    /// environment now.
    pub fn from_config(config: &ReconcileConfig) -> Result<Self, SetupError> {
        let mut sources = Vec::new();
        for (provider, reports) in [
            (Provider::Anthropic, &config.anthropic),
            (Provider::OpenAi, &config.openai),
        ] {
            if let Some(reports) = reports {
                sources.push(Source::from_config(provider, reports)?);
            }
        }
        Ok(Self {
            sources,
            client: AdminClient::new(config.timeout.0)?,
            tolerance: Tolerance {
                tokens: config.tolerance.tokens.0,
                cost: config.tolerance.cost.0,
            },
            days: config.days,
            interval: config.interval.0,
        })
    }

    /// The configured window that ends `today`: its first and last day.
    pub fn window(&self, today: ConfigDate) -> (ConfigDate, ConfigDate) {
        let from = ConfigDate {
            days_since_epoch: today.days_since_epoch - i64::from(self.days) + 1,
        };
        (from, today)
    }

    /// Every page of both of `source`'s reports for the days `from` to `to`.
    async fn provider_days(
        &self,
        source: &Source,
        from: ConfigDate,
        to: ConfigDate,
    ) -> Result<Vec<ProviderDay>, PollError> {
        let until = ConfigDate {
            days_since_epoch: to.days_since_epoch + 1,
        };
        let mut days = Vec::new();
        let headers = source.headers();
        for (report, name) in [
            (Report::Usage, "usage report"),
            (Report::Cost, "cost report"),
        ] {
            let mut page_token: Option<String> = None;
            let mut tokens_seen = std::collections::HashSet::new();
            loop {
                if tokens_seen.len() >= MAX_PAGES {
                    return Err(PollError::Endless(name));
                }
                let url = source.url(report, from, until, page_token.as_deref());
                let body = self
                    .client
                    .get(&url, &headers, |text| source.scrub(text))
                    .await
                    .map_err(|source| PollError::Fetch {
                        report: name,
                        source,
                    })?;
                let page = source
                    .read(report, &body)
                    .map_err(|source| PollError::Page {
                        report: name,
                        source,
                    })?;
                days.extend(page.days);
                match page.next_page {
                    // A server that hands out a token twice would be read forever.
                    Some(next) if !tokens_seen.insert(next.clone()) => {
                        return Err(PollError::Endless(name));
                    }
                    Some(next) => page_token = Some(next),
                    None => break,
                }
            }
        }
        // Buckets outside the window (a server that ignores the bounds) are not compared.
        let (first, last) = (from.to_iso(), to.to_iso());
        days.retain(|day| day.day >= first && day.day <= last);
        Ok(days)
    }

    /// Reads every provider; a failure is counted, logged without the key, and returned.
    pub async fn read_providers(
        &self,
        from: ConfigDate,
        to: ConfigDate,
        counters: &AgentCounters,
    ) -> Vec<(Provider, Result<Vec<ProviderDay>, String>)> {
        let mut read = Vec::new();
        for source in &self.sources {
            let name = source.provider.name();
            let result = self.provider_days(source, from, to).await;
            let outcome = result
                .as_ref()
                .map_or_else(PollError::result, |_| PollResult::Ok);
            let succeeded_at =
                (outcome == PollResult::Ok).then(|| unix_nanos_now() / 1_000_000_000);
            counters
                .reconciliation
                .polled(name, outcome.as_str(), succeeded_at);
            let result = result.map_err(|error| {
                let error = source.scrub(&error.to_string());
                tracing::warn!(provider = name, %error, "reconcile: the provider's reports could not be read");
                error
            });
            read.push((source.provider, result));
        }
        read
    }

    /// The providers read.
    pub fn providers(&self) -> impl Iterator<Item = Provider> + '_ {
        self.sources.iter().map(|source| source.provider)
    }

    /// How many UTC days, today included, are compared.
    pub fn days(&self) -> u32 {
        self.days
    }

    pub fn tolerance(&self) -> Tolerance {
        self.tolerance
    }
}

/// Compares the agent's side with what the providers reported, rows of `today` marked partial.
pub fn comparison(
    agent: &DailySpend,
    reported: &[ProviderDay],
    tolerance: Tolerance,
    window: (ConfigDate, ConfigDate),
    today: ConfigDate,
    currency: &str,
) -> Comparison {
    let today = today.to_iso();
    let mut rows = compare(agent, reported, tolerance);
    for row in &mut rows {
        row.partial = row.day >= today;
    }
    Comparison {
        currency: currency.to_string(),
        from: window.0.to_iso(),
        to: window.1.to_iso(),
        updated: rfc3339(unix_nanos_now() / 1_000_000_000 * 1_000_000_000)
            .replace(".000000000Z", "Z"),
        rows,
        failures: Vec::new(),
    }
}

/// Reconciles every `interval` until `stop` (which also cuts a poll short), the first time at
/// once.
pub async fn run(
    reconciler: Reconciler,
    side: AgentSide,
    currency: String,
    counters: Arc<AgentCounters>,
    mut stop: watch::Receiver<bool>,
) {
    let providers: Vec<&str> = reconciler.providers().map(Provider::name).collect();
    counters.reconciliation.declare(&providers);
    // The last days each provider reported: kept when a later poll of it fails.
    let mut reported = Reported::new();
    loop {
        let today = ConfigDate::today();
        let window = reconciler.window(today);
        let poll = reconcile(
            &reconciler,
            &side,
            window,
            today,
            &currency,
            &counters,
            &mut reported,
        );
        // A poll may wait out a provider's Retry-After: shutting down does not wait for it.
        let compared = tokio::select! {
            compared = poll => compared,
            _ = stop.changed() => return,
        };
        match compared {
            Ok(comparison) => {
                let totals = model_totals(&comparison.rows);
                if let Ok(json) = serde_json::to_string(&comparison) {
                    counters.reconciliation.publish(totals, json);
                }
            }
            Err(error) => tracing::warn!(%error, "reconcile: the ledger could not be read"),
        }
        tokio::select! {
            _ = tokio::time::sleep(reconciler.interval) => {}
            _ = stop.changed() => return,
        }
    }
}

/// What each provider last reported, and the day it was read on (that day was not over).
pub type Reported = BTreeMap<&'static str, (ConfigDate, Vec<ProviderDay>)>;

/// Reads the providers for `window` (a provider that cannot be read keeps what `reported` has
/// of it) and compares them with the agent's side. A row is partial — one side saw only part
/// of its day — from the day the provider was last read on, and on the day a running agent
/// started (the days before it are not compared).
pub async fn reconcile(
    reconciler: &Reconciler,
    side: &AgentSide,
    window: (ConfigDate, ConfigDate),
    today: ConfigDate,
    currency: &str,
    counters: &AgentCounters,
    reported: &mut Reported,
) -> Result<Comparison, ReadError> {
    let mut failures = Vec::new();
    for (provider, result) in reconciler
        .read_providers(window.0, window.1, counters)
        .await
    {
        match result {
            Ok(days) => {
                reported.insert(provider.name(), (today, days));
            }
            Err(error) => failures.push(Failure {
                provider: provider.name().to_string(),
                error,
            }),
        }
    }
    // A running agent saw nothing before it started: those days are not compared.
    let window = match side {
        AgentSide::Running(running) => (window.0.max(running.started()), window.1),
        AgentSide::Ledger(_) => window,
    };
    let providers: Vec<&'static str> = reconciler.providers().map(Provider::name).collect();
    let agent = match side {
        AgentSide::Running(_) => agent_spend(side, window.0, window.1, &providers)?,
        // Reading a week of files is blocking work: not on the runtime's threads.
        AgentSide::Ledger(paths) => {
            let side = AgentSide::Ledger(paths.clone());
            tokio::task::spawn_blocking(move || agent_spend(&side, window.0, window.1, &providers))
                .await
                .map_err(|_| ReadError::Io {
                    path: paths.first().cloned().unwrap_or_default(),
                    source: std::io::Error::other("the ledger reader stopped"),
                })??
        }
    };
    let (first, last) = (window.0.to_iso(), window.1.to_iso());
    let mut foreign = BTreeMap::new();
    let mut days = Vec::new();
    for (_, provider_days) in reported.values() {
        // A cost report covers every endpoint, a usage report one kind of call: costs of
        // models the usage report does not have (OpenAI's embeddings) are not compared.
        let used: std::collections::HashSet<(&str, &str)> = provider_days
            .iter()
            .filter(|day| day.currency.is_none())
            .map(|day| (day.model.as_str(), day.day.as_str()))
            .collect();
        for day in provider_days {
            // Days kept from an earlier poll may have left the window since.
            if day.day < first || day.day > last {
                continue;
            }
            if day.currency.is_some() && !used.contains(&(day.model.as_str(), day.day.as_str())) {
                continue;
            }
            let mut day = day.clone();
            if let Some(other) = day.currency.as_deref() {
                if !other.eq_ignore_ascii_case(currency) {
                    foreign.insert(day.provider.clone(), other.to_string());
                    day.usage.cost = None;
                }
            }
            days.push(day);
        }
    }
    for (provider, other) in foreign {
        failures.push(Failure {
            provider,
            error: format!(
                "its costs are in {other}, the catalog prices in {currency}: costs not compared"
            ),
        });
    }
    let mut comparison = comparison(
        &agent,
        &days,
        reconciler.tolerance(),
        window,
        today,
        currency,
    );
    let started = match side {
        AgentSide::Running(running) => Some(running.started().to_iso()),
        AgentSide::Ledger(_) => None,
    };
    for row in &mut comparison.rows {
        let read_on = reported
            .get(row.provider.as_str())
            .map(|(read_on, _)| read_on.to_iso());
        row.partial |=
            read_on.is_some_and(|read_on| row.day >= read_on) || started.as_ref() == Some(&row.day);
    }
    comparison.failures = failures;
    Ok(comparison)
}
