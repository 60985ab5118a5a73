//! The components the configuration describes, built once where the agent is assembled: the
//! enricher (with the price catalog and the usage reader), each OTLP exporter's TLS and the
//! receivers' TLS (their files read and checked), the receivers' token files checked, and the
//! reconciler with the providers' admin keys read from the environment.
//! `validate` builds them too, so it refuses what the agent would refuse at start.

use crate::config::{invalid, ConfigError, LoadedConfig};
use crate::enrich::Enricher;
use crate::exporter::LoadedTls;
use crate::pricing::Catalog;
use crate::receiver::{check_token_file, ReceiverTls};
use crate::reconcile::poll::Reconciler;
use crate::usage::UsageReader;

/// What the agent runs with besides its configuration.
pub struct Components {
    pub enricher: Enricher,
    /// The usage reader the enricher uses, for the debug exporter's lines.
    pub reader: UsageReader,
    /// The TLS of each of the configuration's OTLP exporters, in the same order.
    pub exporter_tls: Vec<LoadedTls>,
    pub receiver_tls: ReceiverTls,
    pub reconciler: Option<Reconciler>,
}

impl Components {
    /// Builds every component of `loaded`; the error names the setting at fault.
    pub fn build(loaded: &LoadedConfig) -> Result<Self, ConfigError> {
        let config = &loaded.config;
        let catalog = Catalog::build(&config.pricing)
            .map_err(|error| invalid("pricing", error.to_string()))?;
        let reader = UsageReader::from_config(&config.usage)
            .map_err(|error| invalid("usage", error.to_string()))?;
        let exporter_tls = loaded
            .otlp
            .iter()
            .map(|named| LoadedTls::load(&named.settings).map_err(|e| e.for_exporter(&named.name)))
            .collect::<Result<_, _>>()?;
        let receiver_tls = ReceiverTls::load(&config.receivers.otlp.protocols)?;
        for receiver in config.receivers.otlp.auths() {
            check_token_file(receiver.auth).map_err(|error| {
                invalid(
                    &format!("{}.bearer_token_file", receiver.key),
                    error.to_string(),
                )
            })?;
        }
        let reconciler = config
            .reconcile
            .as_ref()
            .map(Reconciler::from_config)
            .transpose()
            .map_err(|error| invalid("reconcile", error.to_string()))?;
        Ok(Self {
            enricher: Enricher::configured(config, catalog, reader.clone()),
            reconciler,
            reader,
            exporter_tls,
            receiver_tls,
        })
    }
}
