//! The agent's own telemetry: counters kept with atomics on the hot path (labelled by the
//! stages' own vocabularies through [`Label`]), their Prometheus text rendering, and readiness.
//! The endpoint that serves them is the receivers' (`receiver::serve_telemetry`).

mod counters;
mod exporter_counters;
mod health;
mod labels;
mod ledger_counters;
mod ratelimit;
mod receiver_counters;
mod reconciliation;
mod unpriced_models;

pub use counters::AgentCounters;
pub use exporter_counters::ExporterCounters;
pub use health::Health;
pub(crate) use labels::label_values;
pub use labels::{escaped, Label};
pub use ledger_counters::LedgerCounters;
pub use ratelimit::RateLimitedLog;
pub use receiver_counters::{Listener, MemoryRefusal, ReceiverCounters};
pub use reconciliation::{ModelTotals, Reconciliation};
pub use unpriced_models::{MAX_MODELS as MAX_UNPRICED_MODELS, OTHER as OTHER_MODELS};
