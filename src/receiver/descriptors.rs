//! File descriptors: the soft `RLIMIT_NOFILE` is raised to the hard one at start (as Go programs
//! such as the Collector do), and the default `max_connections` of each receiver is derived from
//! it, leaving room for everything else the agent opens. A configured `max_connections` above
//! a receiver's share of the descriptors is lowered to that share, with a warning: were the
//! receivers to take every descriptor, the exporters' connections, the persistent queue's
//! files and `/healthz` would fail with them.

use crate::config::Config;

/// Descriptors kept for the process itself: standard streams, listeners, the runtime's epoll
/// and event descriptors, the log, DNS lookups, files read at start.
const BASE_RESERVE: u64 = 64;
/// Connections the telemetry server (`/healthz`, `/readyz`, `/metrics`) serves at once; the
/// Prometheus endpoint of the derived metrics gets as many.
pub const TELEMETRY_CONNECTIONS: usize = 32;
/// Open segment files and the directory of a persistent queue.
const DISK_QUEUE_RESERVE: u64 = 8;
/// The default never exceeds this, however high the limit: each connection costs memory too.
const DEFAULT_CAP: usize = 4096;

/// How the descriptors are shared out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DescriptorPlan {
    /// The soft `RLIMIT_NOFILE`.
    pub limit: u64,
    /// Kept for everything but the receivers' connections.
    pub reserved: u64,
    /// The default `max_connections` of each enabled receiver.
    pub per_receiver: usize,
    /// The most a receiver may serve: its share of the descriptors left, uncapped.
    pub fair_share: usize,
}

/// Raises the soft descriptor limit to the hard one; returns the soft limit in force.
pub fn raise_descriptor_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    Some(limit.rlim_cur)
}

/// The share of `limit` descriptors each receiver gets by default under `config`.
pub fn descriptor_plan(limit: u64, config: &Config) -> DescriptorPlan {
    let mut reserved = BASE_RESERVE + TELEMETRY_CONNECTIONS as u64;
    if config.metrics.enabled && config.metrics.prometheus.enabled {
        reserved += TELEMETRY_CONNECTIONS as u64;
    }
    for exporter in config.exporters.otlp.values() {
        let queue = &exporter.sending_queue;
        // One connection per concurrent export, per signal endpoint at most, and a spare.
        reserved += 3 * queue.num_consumers as u64 + 4;
        if queue.storage.is_some() {
            reserved += DISK_QUEUE_RESERVE;
        }
    }
    let protocols = &config.receivers.otlp.protocols;
    let receivers = u64::from(protocols.grpc.enabled) + u64::from(protocols.http.enabled);
    let fair_share = (limit.saturating_sub(reserved) / receivers.max(1)).max(1) as usize;
    DescriptorPlan {
        limit,
        reserved,
        per_receiver: fair_share.min(DEFAULT_CAP),
        fair_share,
    }
}

impl DescriptorPlan {
    /// A receiver's `max_connections` (`key`): as configured up to its share of the
    /// descriptors, the default share when not configured.
    pub fn max_connections(&self, key: &str, configured: Option<usize>) -> usize {
        match configured {
            Some(count) if count > self.fair_share => {
                tracing::warn!(
                    "{key} = {count} is more than the file descriptors allow: lowered to {}, this receiver's share of RLIMIT_NOFILE {} less {} kept for the rest of the agent; raise the limit (ulimit -n) to serve more",
                    self.fair_share,
                    self.limit,
                    self.reserved
                );
                self.fair_share
            }
            Some(count) => count,
            None => self.per_receiver,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_receiver_gets_half_of_what_is_left_after_the_reserve() {
        // The default configuration has one OTLP exporter (`otlp`) with 4 consumers.
        let config = Config::default();
        let plan = descriptor_plan(1024, &config);
        assert_eq!(plan.reserved, 64 + 32 + (3 * 4 + 4));
        assert_eq!(plan.per_receiver, (1024 - 112) / 2);
    }

    #[test]
    fn a_high_limit_is_capped_and_a_tiny_one_still_serves() {
        let config = Config::default();
        assert_eq!(descriptor_plan(1 << 20, &config).per_receiver, 4096);
        assert_eq!(descriptor_plan(50, &config).per_receiver, 1);
    }

    #[test]
    fn a_configured_count_above_the_share_is_lowered_to_it() {
        let plan = descriptor_plan(1024, &Config::default());
        let key = "receivers.otlp.protocols.grpc.max_connections";
        assert_eq!(plan.max_connections(key, Some(100)), 100);
        assert_eq!(plan.max_connections(key, Some(5000)), (1024 - 112) / 2);
        assert_eq!(plan.max_connections(key, None), (1024 - 112) / 2);
        let large = descriptor_plan(1 << 20, &Config::default());
        assert_eq!(large.max_connections(key, None), 4096);
        assert_eq!(large.max_connections(key, Some(10_000)), 10_000);
    }

    #[test]
    fn the_soft_limit_is_readable() {
        assert!(raise_descriptor_limit().unwrap() >= 16);
    }
}
