//! The memory limiter: samples the process's resident memory (`/proc/self/statm`) every
//! `check_interval`; above the soft limit (`limit − spike_limit`) new requests are refused with a
//! retryable status and readiness turns false, below it both recover. Percentages are of the
//! cgroup's memory limit when there is one, else of the machine's memory. Above the soft limit
//! the allocator is first asked to return the memory it holds free (at most once a second, as
//! the Collector's limiter forces a garbage collection): mimalloc returns freed memory lazily,
//! on later activity, and an agent that refuses data has little — it could stay refusing for
//! memory nobody uses.

use crate::config::MemoryLimiterConfig;
use crate::telemetry::{AgentCounters, Health};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const MIB: u64 = 1 << 20;
/// The least time between two requests to the allocator to return its free memory.
const MIN_COLLECT_INTERVAL: Duration = Duration::from_secs(1);

/// Why the limiter could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LimiterError {
    #[error("memory_limiter.limit_percentage: the memory available is unknown (no cgroup limit, no /proc/meminfo)")]
    UnknownTotal,
}

pub struct MemoryLimiter {
    soft_bytes: u64,
    hard_bytes: u64,
    check_interval: Duration,
    refusing: AtomicBool,
}

impl MemoryLimiter {
    /// The limiter for `config`, or `None` when no limit is set.
    pub fn from_config(config: &MemoryLimiterConfig) -> Result<Option<Arc<Self>>, LimiterError> {
        if !config.enabled() {
            return Ok(None);
        }
        let (hard, spike) = if config.limit_mib > 0 {
            let hard = config.limit_mib * MIB;
            let spike = match config.spike_limit_mib {
                0 => hard / 5,
                mib => mib * MIB,
            };
            (hard, spike)
        } else {
            let total = available_memory().ok_or(LimiterError::UnknownTotal)?;
            let share = |percent: u32| total / 100 * u64::from(percent);
            let spike = match config.spike_limit_percentage {
                0 => share(config.limit_percentage) / 5,
                percent => share(percent),
            };
            (share(config.limit_percentage), spike)
        };
        Ok(Some(Arc::new(Self {
            soft_bytes: hard.saturating_sub(spike),
            hard_bytes: hard,
            check_interval: config.check_interval.0,
            refusing: AtomicBool::new(false),
        })))
    }

    pub fn refusing(&self) -> bool {
        self.refusing.load(Ordering::Relaxed)
    }

    /// Takes a sample of `resident` bytes; returns whether the state changed.
    pub fn observe(&self, resident: u64) -> bool {
        let refusing = resident >= self.soft_bytes;
        self.refusing.swap(refusing, Ordering::Relaxed) != refusing
    }

    /// Samples every check interval until `stop`, reporting to the health and counters.
    pub async fn run(
        self: Arc<Self>,
        health: Arc<Health>,
        counters: Arc<AgentCounters>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut ticker = tokio::time::interval(self.check_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut collected: Option<std::time::Instant> = None;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stop.changed() => return,
            }
            let Some(resident) = self.sample(&mut collected) else {
                continue;
            };
            if self.observe(resident) {
                self.report(resident);
            }
            health.set_memory_pressure(self.refusing());
            counters
                .receiver
                .set_limiter_state(self.refusing(), resident);
        }
    }

    /// Resident memory now; above the soft limit, once the allocator returned what it holds
    /// free (unless it did less than [`MIN_COLLECT_INTERVAL`] ago).
    fn sample(&self, collected: &mut Option<std::time::Instant>) -> Option<u64> {
        let resident = resident_bytes()?;
        let may_collect = collected.is_none_or(|at| at.elapsed() >= MIN_COLLECT_INTERVAL);
        if resident < self.soft_bytes || !may_collect {
            return Some(resident);
        }
        // SAFETY: mi_collect only returns free memory to the system; any thread may call it.
        unsafe { libmimalloc_sys::mi_collect(true) };
        *collected = Some(std::time::Instant::now());
        resident_bytes().or(Some(resident))
    }

    fn report(&self, resident: u64) {
        let (resident, soft, hard) = (resident / MIB, self.soft_bytes / MIB, self.hard_bytes / MIB);
        if self.refusing() {
            tracing::warn!("memory use {resident} MiB is above the memory_limiter's soft limit of {soft} MiB (limit {hard} MiB): refusing data and not ready until it drops");
        } else {
            tracing::info!("memory use {resident} MiB is below the memory_limiter's soft limit of {soft} MiB again: taking data");
        }
    }
}

/// The process's resident memory, from `/proc/self/statm` (pages).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096)
}

/// The cgroup's memory limit (v2, then v1) if set, else the machine's memory.
fn available_memory() -> Option<u64> {
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .filter_map(|path| std::fs::read_to_string(path).ok())
    .filter_map(|text| text.trim().parse::<u64>().ok())
    // v1 writes a huge number for "no limit".
    .find(|limit| *limit < 1 << 60);
    cgroup.or_else(|| {
        let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = meminfo.lines().find(|line| line.starts_with("MemTotal:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigDuration;

    fn limiter(limit_mib: u64, spike_limit_mib: u64) -> Arc<MemoryLimiter> {
        let config = MemoryLimiterConfig {
            check_interval: ConfigDuration(Duration::from_secs(1)),
            limit_mib,
            spike_limit_mib,
            ..MemoryLimiterConfig::default()
        };
        MemoryLimiter::from_config(&config).unwrap().unwrap()
    }

    #[test]
    fn refuses_at_the_soft_limit_and_recovers_below_it() {
        let limiter = limiter(100, 30);
        assert!(!limiter.observe(69 * MIB));
        assert!(!limiter.refusing());
        assert!(limiter.observe(70 * MIB));
        assert!(limiter.refusing());
        assert!(!limiter.observe(90 * MIB));
        assert!(limiter.observe(69 * MIB));
        assert!(!limiter.refusing());
    }

    #[test]
    fn the_spike_defaults_to_a_fifth_of_the_limit() {
        assert_eq!(limiter(100, 0).soft_bytes, 80 * MIB);
    }

    #[test]
    fn no_limit_means_no_limiter() {
        assert!(MemoryLimiter::from_config(&MemoryLimiterConfig::default())
            .unwrap()
            .is_none());
    }

    #[test]
    fn resident_memory_is_read() {
        assert!(resident_bytes().unwrap() > MIB);
    }
}
