//! The memory limiter (`memory_limiter:`), after the Collector's processor of that name: the
//! process's resident memory is sampled every `check_interval`; above the soft limit
//! (`limit − spike_limit`) new data is refused with a retryable status and readiness is false.

use super::defaults::*;
use crate::config::values::ConfigDuration;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryLimiterConfig {
    #[serde(default = "one_second")]
    pub check_interval: ConfigDuration,
    /// The hard limit in MiB; `0`: use `limit_percentage`.
    #[serde(default)]
    pub limit_mib: u64,
    /// Headroom below the hard limit; the soft limit is `limit − spike`. `0`: 20% of the limit.
    #[serde(default)]
    pub spike_limit_mib: u64,
    /// The hard limit as a share of the memory available (the cgroup limit, else all RAM).
    #[serde(default)]
    pub limit_percentage: u32,
    #[serde(default)]
    pub spike_limit_percentage: u32,
}

impl MemoryLimiterConfig {
    /// Whether a limit is set at all (the limiter is off without one).
    pub fn enabled(&self) -> bool {
        self.limit_mib > 0 || self.limit_percentage > 0
    }
}

impl Default for MemoryLimiterConfig {
    fn default() -> Self {
        Self {
            check_interval: one_second(),
            limit_mib: 0,
            spike_limit_mib: 0,
            limit_percentage: 0,
            spike_limit_percentage: 0,
        }
    }
}
