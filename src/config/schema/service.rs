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
    /// Threads running the receivers, the pipeline and the exporters (compression and file
    /// writes run on threads of their own).
    #[serde(default = "one_worker")]
    pub worker_threads: usize,
}

/// One core's worth takes a few hundred thousand spans a second, far beyond a node's LLM
/// traffic, and shares the node's cores with the apps instead of spreading over all of them.
fn one_worker() -> usize {
    1
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            telemetry: TelemetryConfig::default(),
            shutdown_timeout: ten_seconds(),
            worker_threads: one_worker(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Serves `/healthz`, `/readyz` and `/metrics`, and the live page at `/`.
    #[serde(default = "default_telemetry_endpoint")]
    pub endpoint: ListenAddress,
    #[serde(default)]
    pub logs: LogsConfig,
    #[serde(default)]
    pub page: PageConfig,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            endpoint: default_telemetry_endpoint(),
            logs: LogsConfig::default(),
            page: PageConfig::default(),
        }
    }
}

/// The live cost page on the telemetry endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageConfig {
    #[serde(default)]
    pub enabled: bool,
    /// A link to a trace, `{trace_id}` replaced: e.g. `http://jaeger:16686/trace/{trace_id}`.
    #[serde(default)]
    pub trace_url: String,
    /// The most expensive calls kept per window.
    #[serde(default = "default_page_top_calls")]
    pub top_calls: usize,
    /// Values kept per dimension (service, model, provider, each attribution key) and
    /// unpriced reason-model pairs, per minute; more go under `(other)`.
    #[serde(default = "default_page_values")]
    pub max_values: usize,
}

impl Default for PageConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            trace_url: String::new(),
            top_calls: default_page_top_calls(),
            max_values: default_page_values(),
        }
    }
}

fn default_page_top_calls() -> usize {
    20
}

fn default_page_values() -> usize {
    50
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
