//! Reloading the price catalog while the agent runs: `pricing.catalog_files` are checked every
//! `pricing.reload_interval` (and at once on SIGHUP); when their contents changed, the catalog is
//! built again from the same configuration and put in force whole, and what changed is logged.
//! A catalog that does not build is refused (logged, counted) and the one in force stays.
//! Requests under way finish with the catalog they took (see `pricing::CatalogCell`).

use crate::config::PricingConfig;
use crate::pricing::{Catalog, CatalogCell, CatalogChanges};
use crate::telemetry::AgentCounters;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Entry ids named in the log line of a reload, per kind of change.
const IDS_LOGGED: usize = 10;

/// Starts the reloader when the configuration names catalog files.
pub(super) fn spawn_catalog_reload(
    pricing: &PricingConfig,
    cell: Arc<CatalogCell>,
    counters: Arc<AgentCounters>,
    stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    if pricing.catalog_files.is_empty() {
        return None;
    }
    let pricing = pricing.clone();
    Some(tokio::spawn(run(pricing, cell, counters, stop)))
}

async fn run(
    pricing: PricingConfig,
    cell: Arc<CatalogCell>,
    counters: Arc<AgentCounters>,
    mut stop: watch::Receiver<bool>,
) {
    let mut hangups = hangups();
    let mut ticker = tokio::time::interval(pricing.reload_interval.0);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen = fingerprint(&pricing.catalog_files);
    loop {
        let forced = tokio::select! {
            _ = ticker.tick() => false,
            _ = next_hangup(&mut hangups) => true,
            _ = stop.changed() => return,
        };
        let now = fingerprint(&pricing.catalog_files);
        if now == seen && !forced {
            continue;
        }
        seen = now;
        reload(&pricing, &cell, &counters);
    }
}

/// Builds the catalog again and puts it in force, or keeps the one in force.
fn reload(pricing: &PricingConfig, cell: &CatalogCell, counters: &AgentCounters) {
    let files = pricing.catalog_files.join(", ");
    match Catalog::build(pricing) {
        Ok(catalog) => {
            let changes = CatalogChanges::between(&cell.current(), &catalog);
            cell.replace(catalog);
            counters.catalog_reload(true);
            tracing::info!(
                "price catalog reloaded from {files}: {}",
                changes.summary(IDS_LOGGED)
            );
        }
        Err(error) => {
            counters.catalog_reload(false);
            tracing::error!("price catalog not reloaded, the one in force stays: {error}");
        }
    }
}

/// A hash of each file's contents (or that it could not be read), in order.
fn fingerprint(files: &[String]) -> Vec<Option<u64>> {
    files
        .iter()
        .map(|path| {
            std::fs::read(path).ok().map(|bytes| {
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                bytes.hash(&mut hasher);
                hasher.finish()
            })
        })
        .collect()
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = ();

fn hangups() -> Hangups {
    #[cfg(unix)]
    {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
    }
}

/// The next SIGHUP; never, where there is none.
async fn next_hangup(hangups: &mut Hangups) {
    #[cfg(unix)]
    if let Some(signal) = hangups {
        if signal.recv().await.is_some() {
            return;
        }
    }
    std::future::pending::<()>().await
}
