//! Loading the configuration: read the file, expand `${env:…}`, parse the YAML with located
//! errors, apply `--set` overrides, then check what the schema alone cannot.

mod expand;
mod otlp_env;
mod overrides;
mod schema;
mod values;

pub use expand::expand_env;
pub use otlp_env::{resolve_otlp_exporter, OtlpExporterSettings};
pub use schema::*;
pub use values::{
    parse_duration, ConfigDate, ConfigDuration, ListenAddress, MebiBytes, Multiplier, PerMillion,
};

use std::collections::HashSet;
use std::path::Path;

/// Why a configuration was refused. Messages name the key and, where known, the line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("line {line}: {message}")]
    Expansion { line: usize, message: String },
    #[error("{0}")]
    Yaml(String),
    #[error("--set {assignment}: {message}")]
    Override { assignment: String, message: String },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

/// A configuration that passed every check, with the warnings met on the way.
#[derive(Debug)]
pub struct LoadedConfig {
    pub config: Config,
    /// The OTLP exporter's effective settings; `None` when no endpoint is configured.
    pub otlp: Option<OtlpExporterSettings>,
    pub warnings: Vec<String>,
}

impl LoadedConfig {
    /// Whether the debug exporter runs: `auto` turns it on when there is no OTLP exporter.
    pub fn debug_exporter_enabled(&self) -> bool {
        match self.config.exporters.debug.enabled {
            DebugMode::Always => true,
            DebugMode::Never => false,
            DebugMode::Auto => self.otlp.is_none(),
        }
    }
}

/// Reads and checks the configuration file at `path`, applying `overrides` (`path=value`).
pub fn load_file(path: &Path, overrides: &[String]) -> Result<LoadedConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    load_str(&text, overrides, |name| std::env::var(name).ok())
}

/// Parses and checks configuration text; `env` looks up environment variables.
pub fn load_str(
    text: &str,
    overrides: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<LoadedConfig, ConfigError> {
    let (expanded, warnings) = expand_env(text, &env)?;
    let config = if overrides.is_empty() {
        parse_located(&expanded)?
    } else {
        // Report errors of the file itself with their lines first.
        parse_located(&expanded)?;
        let mut document: serde_norway::Value = if expanded.trim().is_empty() {
            serde_norway::Value::Null
        } else {
            serde_norway::from_str(&expanded).map_err(|err| ConfigError::Yaml(err.to_string()))?
        };
        for assignment in overrides {
            overrides::apply_override(&mut document, assignment)?;
        }
        parse_overridden(&document)?
    };
    validate(&config)?;
    crate::pricing::Catalog::build(&config.pricing)
        .map_err(|message| invalid("pricing", message))?;
    crate::usage::UsageReader::from_config(&config.usage)
        .map_err(|message| invalid("usage", message))?;
    let otlp = resolve_otlp_exporter(&config.exporters.otlp, &env)?;
    let loaded = LoadedConfig {
        config,
        otlp,
        warnings,
    };
    if loaded.otlp.is_none() && !loaded.debug_exporter_enabled() {
        return Err(invalid(
            "exporters",
            "no exporter: set exporters.otlp.endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT) or enable exporters.debug",
        ));
    }
    Ok(loaded)
}

fn parse_located(text: &str) -> Result<Config, ConfigError> {
    if text.trim().is_empty() {
        return Ok(Config::default());
    }
    serde_norway::from_str(text).map_err(|err| ConfigError::Yaml(err.to_string()))
}

/// Parses the document with overrides applied. It goes through YAML text again so errors name
/// their key; the line numbers of that text mean nothing to the user and are left out.
fn parse_overridden(document: &serde_norway::Value) -> Result<Config, ConfigError> {
    let text =
        serde_norway::to_string(document).map_err(|err| ConfigError::Yaml(err.to_string()))?;
    serde_norway::from_str(&text).map_err(|err| {
        let mut message = err.to_string();
        if let Some(location) = err.location() {
            let suffix = format!(" at line {} column {}", location.line(), location.column());
            if let Some(stripped) = message.strip_suffix(&suffix) {
                message = stripped.to_string();
            }
        }
        ConfigError::Yaml(format!("after --set overrides: {message}"))
    })
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

/// Checks that span several keys or that the schema cannot express.
fn validate(config: &Config) -> Result<(), ConfigError> {
    validate_pricing(&config.pricing)?;
    for (name, queue, batch) in [
        (
            "otlp",
            &config.exporters.otlp.sending_queue,
            &config.exporters.otlp.batch,
        ),
        (
            "debug",
            &config.exporters.debug.sending_queue,
            &config.exporters.debug.batch,
        ),
    ] {
        if queue.queue_size == 0 {
            return Err(invalid(
                &format!("exporters.{name}.sending_queue.queue_size"),
                "must be at least 1",
            ));
        }
        if queue.num_consumers == 0 || queue.num_consumers > 64 {
            return Err(invalid(
                &format!("exporters.{name}.sending_queue.num_consumers"),
                "must be 1 to 64",
            ));
        }
        if batch.send_batch_size == 0 {
            return Err(invalid(
                &format!("exporters.{name}.batch.send_batch_size"),
                "must be at least 1",
            ));
        }
    }
    let protocols = &config.receivers.otlp.protocols;
    if !protocols.grpc.enabled && !protocols.http.enabled {
        return Err(invalid(
            "receivers.otlp.protocols",
            "enable at least one of grpc and http",
        ));
    }
    Ok(())
}

fn validate_pricing(pricing: &PricingConfig) -> Result<(), ConfigError> {
    let currency = &pricing.currency;
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(invalid(
            "pricing.currency",
            format!("`{currency}` is not an ISO 4217 code such as USD"),
        ));
    }
    let mut ids = HashSet::new();
    for (index, model) in pricing.models.iter().enumerate() {
        let key = format!("pricing.models[{index}]");
        if model.id.trim().is_empty() {
            return Err(invalid(&format!("{key}.id"), "must not be empty"));
        }
        if !ids.insert(model.id.as_str()) {
            return Err(invalid(
                &format!("{key}.id"),
                format!("`{}` is used by an earlier entry", model.id),
            ));
        }
        if model.patterns.is_empty() {
            return Err(invalid(
                &format!("{key}.match"),
                "needs at least one model name",
            ));
        }
        for pattern in &model.patterns {
            let stem = pattern.strip_suffix('*').unwrap_or(pattern);
            if stem.is_empty() || stem.contains('*') {
                return Err(invalid(
                    &format!("{key}.match"),
                    format!(
                        "`{pattern}`: write an exact model name or a prefix ending in a single `*`"
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
