//! File descriptors: the soft `RLIMIT_NOFILE` is raised to the hard one at start (as Go programs
//! such as the Collector do), and the default `max_connections` of each receiver is derived from
//! it, leaving room for everything else the agent opens.

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
    let per_receiver = limit.saturating_sub(reserved) / receivers.max(1);
    DescriptorPlan {
        limit,
        reserved,
        per_receiver: (per_receiver as usize).clamp(1, DEFAULT_CAP),
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
    fn the_soft_limit_is_readable() {
        assert!(raise_descriptor_limit().unwrap() >= 16);
    }
}
