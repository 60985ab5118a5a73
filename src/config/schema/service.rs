//! The agent's own service settings: telemetry endpoint, logs, shutdown.

use super::defaults::*;
use crate::config::values::{ConfigDuration, ListenAddress};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// How long SIGTERM may spend flushing queued data before the agent exits.
    #[serde(default = "ten_seconds")]
    pub shutdown_timeout: ConfigDuration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            telemetry: TelemetryConfig::default(),
            shutdown_timeout: ten_seconds(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Serves `/healthz`, `/readyz` and `/metrics`.
    #[serde(default = "default_telemetry_endpoint")]
    pub endpoint: ListenAddress,
    #[serde(default)]
    pub logs: LogsConfig,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            endpoint: default_telemetry_endpoint(),
            logs: LogsConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LogsConfig {
    #[serde(default)]
    pub level: LogLevel,
    #[serde(default)]
    pub format: LogFormat,
}
