//! The configuration file's schema: every key the agent accepts, with its default.
//! Unknown keys are refused (`deny_unknown_fields`), so a typo never passes silently.

mod auth;
mod defaults;
mod exporters;
mod memory;
mod metrics;
mod pricing;
mod receivers;
mod reconcile;
mod server_tls;
mod service;
mod usage;

pub use auth::*;
pub use exporters::*;
pub use memory::*;
pub use metrics::*;
pub use pricing::*;
pub use receivers::*;
pub use reconcile::*;
pub use server_tls::*;
pub use service::*;
pub use usage::*;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub receivers: ReceiversConfig,
    #[serde(default)]
    pub pricing: PricingConfig,
    #[serde(default)]
    pub usage: UsageConfig,
    #[serde(default)]
    pub enrich: EnrichConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub exporters: ExportersConfig,
    #[serde(default)]
    pub service: ServiceConfig,
    #[serde(default)]
    pub memory_limiter: MemoryLimiterConfig,
    /// Comparing the agent's spend with the providers' reports; off unless configured.
    #[serde(default)]
    pub reconcile: Option<ReconcileConfig>,
}
