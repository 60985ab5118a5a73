//! Reloading the price catalog while the agent runs: `pricing.catalog_files` are checked every
//! `pricing.reload_interval` (at least 100 ms; at once on SIGHUP); when their contents changed, the catalog is
//! built again from the same configuration and put in force whole, and what changed is logged.
//! A catalog that does not build is refused (logged, counted) and the one in force stays.
//! Requests under way finish with the catalog they took (see `pricing::CatalogCell`).

use crate::config::PricingConfig;
use crate::pricing::{Catalog, CatalogCell, CatalogChanges};
use crate::telemetry::AgentCounters;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Entry ids named in the log line of a reload, per kind of change.
const IDS_LOGGED: usize = 10;
/// The shortest interval between two checks of the files.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// Starts the reloader: it watches `pricing.catalog_files` if any, and answers SIGHUP either way
/// (without files there is nothing to reload, and SIGHUP must not stop the agent).
pub(super) fn spawn_catalog_reload(
    pricing: &PricingConfig,
    cell: Arc<CatalogCell>,
    counters: Arc<AgentCounters>,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    // Registered before start-up completes, so a SIGHUP from then on never kills the agent.
    let hangups = hangups();
    let seen = fingerprint(&pricing.catalog_files);
    let pricing = pricing.clone();
    tokio::spawn(run(pricing, cell, counters, hangups, seen, stop))
}

async fn run(
    pricing: PricingConfig,
    cell: Arc<CatalogCell>,
    counters: Arc<AgentCounters>,
    mut hangups: Hangups,
    mut seen: Vec<Option<u64>>,
    mut stop: watch::Receiver<bool>,
) {
    let watching = !pricing.catalog_files.is_empty();
    let mut ticker = tokio::time::interval(pricing.reload_interval.0.max(MIN_INTERVAL));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let pricing = Arc::new(pricing);
    loop {
        let forced = tokio::select! {
            _ = ticker.tick(), if watching => false,
            _ = next_hangup(&mut hangups) => true,
            _ = stop.changed() => return,
        };
        if !watching {
            tracing::info!("SIGHUP: no pricing.catalog_files to reload");
            continue;
        }
        // Reading, parsing and compiling the catalog is blocking work.
        let (pricing_now, cell_now, counters_now) =
            (pricing.clone(), cell.clone(), counters.clone());
        let checked = tokio::task::spawn_blocking(move || {
            let now = fingerprint(&pricing_now.catalog_files);
            if now == seen && !forced {
                return now;
            }
            reload(&pricing_now, &cell_now, &counters_now);
            now
        })
        .await;
        match checked {
            Ok(now) => seen = now,
            Err(error) => {
                tracing::error!("price catalog check failed: {error}");
                return;
            }
        }
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
