//! genai-cost-agent: an OTLP agent that prices generative-AI spans and forwards everything.
//!
//! Data flows one way: [`receiver`] → [`pipeline`] → [`enrich`] (with [`usage`] and
//! [`pricing`]) → [`metrics`] → [`exporter`], and dependencies point the same way: a stage uses
//! the stages after it and the modules below the stages, never one before it. Below them:
//! [`pricing`] and [`usage`] (the domain), then [`pem`] and [`telemetry`] (the agent's own
//! counters), then [`otlp`] (the requests and their wire bytes) and [`config`] (plain data).
//! [`agent`] assembles and runs it all. `tests/module_layers.rs` checks the layers.

pub mod agent;
pub mod config;
pub mod enrich;
pub mod exporter;
pub mod ledger;
pub mod live;
pub mod metrics;
pub mod otlp;
pub mod pem;
pub mod pipeline;
pub mod pricing;
pub mod receiver;
pub mod reconcile;
pub mod report;
pub mod telemetry;
pub mod usage;

#[cfg(test)]
mod test_support;

pub use agent::Agent;
