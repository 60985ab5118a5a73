//! The agent's own telemetry: counters kept with atomics on the hot path, their Prometheus text
//! rendering, and the health server (`/healthz`, `/readyz`, `/metrics`).

mod counters;
mod exporter_counters;
mod ratelimit;
mod receiver_counters;
mod server;

pub use counters::{AgentCounters, UnpricedReason};
pub use exporter_counters::ExporterCounters;
pub use ratelimit::RateLimitedLog;
pub use receiver_counters::{Listener, MemoryRefusal, ReceiverCounters};
pub use server::{serve_telemetry, Health};
