//! Loading the configuration: read the file, expand `${env:…}`, parse the YAML with located
//! errors, apply `--set` overrides, then check what the schema alone cannot. The result is plain
//! data: the checks that need a built component (the catalog, TLS files, token files) are made
//! where the agent is assembled (`agent::Components`).

mod expand;
mod limit_checks;
mod otlp_env;
mod otlp_tls;
mod overrides;
pub(crate) mod redact;
mod schema;
mod values;

pub use expand::expand_env;
pub(crate) use otlp_env::invalid as invalid_exporter_setting;
pub use otlp_env::{resolve_otlp_exporter, OtlpExporterSettings, SignalSettings};
pub use otlp_tls::{ClientCertificate, PemFile, TlsSettings};
pub use schema::*;
pub use values::{
    parse_duration, ConfigDate, ConfigDuration, ListenAddress, MebiBytes, Multiplier, PerMillion,
    ValueError,
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
    /// `path` is the assignment's key; its value is never repeated.
    #[error("--set {path}=…: {message}")]
    Override { path: String, message: String },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

/// A configuration that passed every check, with the warnings met on the way.
#[derive(Debug)]
pub struct LoadedConfig {
    pub config: Config,
    /// The OTLP exporters with an endpoint, by name, with their effective settings.
    pub otlp: Vec<NamedExporter>,
    pub warnings: Vec<String>,
}

/// One OTLP exporter: its name (`otlp`, `otlp/<name>`), where it sends, which signals it gets.
#[derive(Debug, Clone)]
pub struct NamedExporter {
    pub name: String,
    pub settings: OtlpExporterSettings,
    /// Traces, metrics, logs.
    pub signals: [bool; 3],
}

impl LoadedConfig {
    /// Whether the debug exporter runs: `auto` turns it on when there is no OTLP exporter.
    pub fn debug_exporter_enabled(&self) -> bool {
        match self.config.exporters.debug.enabled {
            DebugMode::Always => true,
            DebugMode::Never => false,
            DebugMode::Auto => self.otlp.is_empty(),
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
            serde_norway::from_str(&expanded).map_err(|err| yaml_error(&err.to_string()))?
        };
        for assignment in overrides {
            overrides::apply_override(&mut document, assignment)?;
        }
        parse_overridden(&document)?
    };
    validate(&config)?;
    let otlp = named_exporters(&config, &env)?;
    let mut warnings = warnings;
    warnings.extend(plain_text_tokens(&config.receivers.otlp));
    let loaded = LoadedConfig {
        config,
        otlp,
        warnings,
    };
    if loaded.otlp.is_empty() && !loaded.debug_exporter_enabled() {
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
    serde_norway::from_str(text).map_err(|err| yaml_error(&err.to_string()))
}

/// Parses the document with overrides applied. It goes through YAML text again so errors name
/// their key; the line numbers of that text mean nothing to the user and are left out.
fn parse_overridden(document: &serde_norway::Value) -> Result<Config, ConfigError> {
    let text = serde_norway::to_string(document).map_err(|err| yaml_error(&err.to_string()))?;
    serde_norway::from_str(&text).map_err(|err| {
        let mut message = err.to_string();
        if let Some(location) = err.location() {
            let suffix = format!(" at line {} column {}", location.line(), location.column());
            if let Some(stripped) = message.strip_suffix(&suffix) {
                message = stripped.to_string();
            }
        }
        yaml_error(&format!("after --set overrides: {message}"))
    })
}

/// Warns where bearer tokens would travel in plain text.
fn plain_text_tokens(otlp: &OtlpReceiverConfig) -> Vec<String> {
    otlp.auths()
        .into_iter()
        .filter(|receiver| receiver.enabled && receiver.auth.is_enabled() && !receiver.tls)
        .map(|ReceiverAuth { key, protocol, .. }| format!(
            "{key}: bearer tokens are sent in plain text to the {protocol} receiver; set receivers.otlp.protocols.{protocol}.tls"
        ))
        .collect()
}

/// An error of the YAML reader or the schema, without the values it quotes.
fn yaml_error(message: &str) -> ConfigError {
    ConfigError::Yaml(redact::without_values(message))
}

/// An error of the setting at `key`.
pub fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

impl ConfigError {
    /// The error of a setting of the exporter named `otlp`, as the error of the same setting of
    /// the exporter `name` (`otlp/<name>`).
    pub fn for_exporter(self, name: &str) -> Self {
        match self {
            ConfigError::Invalid { key, message } => ConfigError::Invalid {
                key: key.replacen("exporters.otlp", &format!("exporters.{name}"), 1),
                message,
            },
            other => other,
        }
    }
}

/// The OTLP exporters that have an endpoint. The standard `OTEL_EXPORTER_OTLP_*` variables
/// apply to the exporter named `otlp` only.
fn named_exporters(
    config: &Config,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Vec<NamedExporter>, ConfigError> {
    let mut exporters = Vec::new();
    for (name, exporter) in &config.exporters.otlp {
        let no_env = |_: &str| None;
        let resolved = if name == "otlp" {
            resolve_otlp_exporter(exporter, env)
        } else {
            resolve_otlp_exporter(exporter, &no_env)
        };
        if let Some(settings) = resolved.map_err(|error| error.for_exporter(name))? {
            let takes = |signal| exporter.signals.contains(&signal);
            let has_endpoint = |index: usize| settings.signals[index].target.is_some();
            let signals = [
                takes(SignalName::Traces) && has_endpoint(0),
                takes(SignalName::Metrics) && has_endpoint(1),
                takes(SignalName::Logs) && has_endpoint(2),
            ];
            exporters.push(NamedExporter {
                name: name.clone(),
                settings,
                signals,
            });
        }
    }
    Ok(exporters)
}

/// Checks that span several keys or that the schema cannot express.
fn validate(config: &Config) -> Result<(), ConfigError> {
    validate_pricing(&config.pricing)?;
    if !(1..=1_000_000_000_000).contains(&config.usage.max_tokens_per_call) {
        return Err(invalid(
            "usage.max_tokens_per_call",
            "must be 1 to 1000000000000",
        ));
    }
    if !(1..=1024).contains(&config.service.worker_threads) {
        return Err(invalid("service.worker_threads", "must be 1 to 1024"));
    }
    // The duplicate memory names a remembered call by 32 bits (and takes ~76 bytes a call).
    if !(1..=100_000_000).contains(&config.usage.duplicates.max_entries) {
        return Err(invalid(
            "usage.duplicates.max_entries",
            "must be 1 to 100000000",
        ));
    }
    let otlp = config
        .exporters
        .otlp
        .iter()
        .map(|(name, exporter)| (name.as_str(), &exporter.sending_queue, &exporter.batch));
    let debug = std::iter::once((
        "debug",
        &config.exporters.debug.sending_queue,
        &config.exporters.debug.batch,
    ));
    for (name, queue, batch) in otlp.chain(debug) {
        if queue.queue_size == 0 {
            return Err(invalid(
                &format!("exporters.{name}.sending_queue.queue_size"),
                "must be at least 1",
            ));
        }
        if queue.queue_size_mib == 0 || queue.queue_size_mib > 1 << 20 {
            return Err(invalid(
                &format!("exporters.{name}.sending_queue.queue_size_mib"),
                "must be 1 to 1048576 (1 TiB)",
            ));
        }
        if queue
            .storage
            .as_ref()
            .is_some_and(|dir| dir.as_os_str().is_empty())
        {
            return Err(invalid(
                &format!("exporters.{name}.sending_queue.storage"),
                "must be a directory path (leave it out for a queue in memory)",
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
    for (name, exporter) in &config.exporters.otlp {
        let retry = &exporter.retry_on_failure;
        if !(retry.multiplier.is_finite() && (1.0..=10.0).contains(&retry.multiplier)) {
            return Err(invalid(
                &format!("exporters.{name}.retry_on_failure.multiplier"),
                "must be from 1 to 10",
            ));
        }
        if retry.initial_interval.0.is_zero() || retry.max_interval.0 < retry.initial_interval.0 {
            return Err(invalid(
                &format!("exporters.{name}.retry_on_failure"),
                "needs 0 < initial_interval ≤ max_interval",
            ));
        }
        if exporter.sending_queue.queue_size > 100_000_000 {
            return Err(invalid(
                &format!("exporters.{name}.sending_queue.queue_size"),
                "must be at most 100000000",
            ));
        }
    }
    let intervals = [
        ("metrics.interval", config.metrics.interval.0),
        (
            "exporters.debug.summary_interval",
            config.exporters.debug.summary_interval.0,
        ),
        (
            "metrics.attribution.hold.max_wait",
            config.metrics.attribution.hold.max_wait.0,
        ),
    ];
    for (key, interval) in intervals {
        if interval < std::time::Duration::from_millis(100) {
            return Err(invalid(key, "must be at least 100ms"));
        }
    }
    let protocols = &config.receivers.otlp.protocols;
    if !protocols.grpc.enabled && !protocols.http.enabled {
        return Err(invalid(
            "receivers.otlp.protocols",
            "enable at least one of grpc and http",
        ));
    }
    if let Some(ledger) = &config.exporters.ledger {
        validate_ledger(ledger)?;
    }
    let page = &config.service.telemetry.page;
    if !(1..=1000).contains(&page.top_calls) {
        return Err(invalid(
            "service.telemetry.page.top_calls",
            "must be 1 to 1000",
        ));
    }
    if !(1..=10_000).contains(&page.max_values) {
        return Err(invalid(
            "service.telemetry.page.max_values",
            "must be 1 to 10000",
        ));
    }
    if !page.trace_url.is_empty() && !page.trace_url.contains("{trace_id}") {
        return Err(invalid(
            "service.telemetry.page.trace_url",
            "must contain {trace_id}",
        ));
    }
    if let Some(reconcile) = &config.reconcile {
        validate_reconcile(reconcile)?;
        let kept = config
            .exporters
            .ledger
            .as_ref()
            .filter(|_| config.ledger_directory().is_some())
            .map(|ledger| ledger.retention_days);
        if kept.is_some_and(|kept| kept < reconcile.days) {
            return Err(invalid(
                "reconcile.days",
                "is more than exporters.ledger.retention_days: the oldest days compared would have no ledger",
            ));
        }
    }
    limit_checks::validate_limits(config)
}

impl Config {
    /// Whether anything records model calls: the derived metrics, the ledger, the live page or
    /// the reconciliation with the providers' reports.
    pub fn records_calls(&self) -> bool {
        self.metrics.enabled
            || self.exporters.ledger.is_some()
            || self.service.telemetry.page.enabled
            || self.reconcile.is_some()
    }

    /// The directory of the ledger's JSON-lines files, when it writes them (the form that
    /// `report` and `reconcile` read back).
    pub fn ledger_directory(&self) -> Option<&std::path::Path> {
        let ledger = self.exporters.ledger.as_ref()?;
        ledger
            .formats
            .contains(&LedgerFormat::Jsonl)
            .then_some(ledger.directory.as_deref())
            .flatten()
    }
}

fn validate_reconcile(reconcile: &ReconcileConfig) -> Result<(), ConfigError> {
    if reconcile.anthropic.is_none() && reconcile.openai.is_none() {
        return Err(invalid("reconcile", "set anthropic, openai or both"));
    }
    if reconcile.interval.0 < std::time::Duration::from_secs(1) {
        return Err(invalid("reconcile.interval", "must be at least 1s"));
    }
    if reconcile.timeout.0.is_zero() {
        return Err(invalid("reconcile.timeout", "must be more than 0s"));
    }
    if !(2..=366).contains(&reconcile.days) {
        return Err(invalid(
            "reconcile.days",
            "must be 2 to 366 (today is never a complete day)",
        ));
    }
    Ok(())
}

fn validate_ledger(ledger: &LedgerConfig) -> Result<(), ConfigError> {
    if ledger.directory.is_none() && !ledger.otlp_logs {
        return Err(invalid(
            "exporters.ledger",
            "set a directory, otlp_logs: true, or both",
        ));
    }
    if ledger.formats.is_empty() {
        return Err(invalid(
            "exporters.ledger.formats",
            "name at least one of jsonl and focus_csv",
        ));
    }
    if !(1..=36_500).contains(&ledger.retention_days) {
        return Err(invalid(
            "exporters.ledger.retention_days",
            "must be 1 to 36500",
        ));
    }
    if ledger.queue_records == 0 {
        return Err(invalid(
            "exporters.ledger.queue_records",
            "must be at least 1",
        ));
    }
    Ok(())
}

fn validate_pricing(pricing: &PricingConfig) -> Result<(), ConfigError> {
    let currency = &pricing.currency;
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(invalid(
            "pricing.currency",
            format!(
                "{} is not an ISO 4217 code such as USD",
                redact::given(currency)
            ),
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
