//! genai-cost-agent: an OTLP agent that prices generative-AI spans and forwards everything.
//!
//! Data flows one way: [`receiver`] → [`pipeline`] → [`enrich`] (with [`usage`] and
//! [`pricing`]) and [`metrics`] → [`exporter`]. [`otlp`] reads and rewrites OTLP bytes for all
//! of them; [`config`] describes it, [`telemetry`] watches it, [`agent`] assembles and runs it.

pub mod agent;
pub mod config;
pub mod enrich;
pub mod exporter;
pub mod metrics;
pub mod otlp;
pub mod pem;
pub mod pipeline;
pub mod pricing;
pub mod receiver;
pub mod telemetry;
pub mod usage;

#[cfg(test)]
mod test_support;

pub use agent::Agent;
