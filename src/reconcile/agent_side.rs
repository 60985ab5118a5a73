//! The agent's side of a comparison: its spend per provider, model and day, read back from
//! its ledger's JSON-lines files or taken from what it priced since it started.

use crate::config::ConfigDate;
use crate::ledger::days::{DailySpend, RunningSpend};
use crate::ledger::read::{self, ReadError};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the agent's side comes from.
pub enum AgentSide {
    /// Ledger files, or directories of them.
    Ledger(Vec<PathBuf>),
    /// What this agent priced since it started.
    Running(Arc<RunningSpend>),
}

/// The agent's spend on the days `from` to `to`, of the providers `providers` only.
pub fn agent_spend(
    side: &AgentSide,
    from: ConfigDate,
    to: ConfigDate,
    providers: &[&str],
) -> Result<DailySpend, ReadError> {
    let (first, last) = (from.to_iso(), to.to_iso());
    let mut spend = match side {
        AgentSide::Running(running) => running.snapshot(to),
        AgentSide::Ledger(paths) => {
            // A file holds the records written on its day: a call that ended just before
            // midnight may be in the next day's file.
            let next = ConfigDate {
                days_since_epoch: to.days_since_epoch + 1,
            }
            .to_iso();
            let mut spend = DailySpend::default();
            for file in read::ledger_files(paths)? {
                if read::file_day(&file)
                    .is_some_and(|day| day < first.as_str() || day > next.as_str())
                {
                    continue;
                }
                read::for_each_entry(&file, |entry| spend.add_entry(&entry))?;
            }
            spend
        }
    };
    spend
        .days
        .retain(|(provider, _, _), _| providers.contains(&provider.as_str()));
    Ok(spend.between(&first, &last))
}
