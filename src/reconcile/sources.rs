//! A provider's admin API as a source of reports: where it is, the admin key (read from the
//! environment; it is never written to a log, an error or a page, and any text the provider
//! sends back is cleaned of it), the requests for a span of UTC days, and how each report's
//! pages are read.

use super::reports::{self, Page, ReportPageError};
use crate::config::{ConfigDate, ProviderReports};
use std::fmt;

/// The providers whose reports can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Anthropic,
    OpenAi,
}

impl Provider {
    /// The name the agent's spend is keyed by (`gen_ai.provider.name`, lowercase).
    pub fn name(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::OpenAi => "openai",
        }
    }

    fn default_base_url(self) -> &'static str {
        match self {
            Provider::Anthropic => "https://api.anthropic.com",
            Provider::OpenAi => "https://api.openai.com",
        }
    }

    pub fn default_key_env(self) -> &'static str {
        match self {
            Provider::Anthropic => "ANTHROPIC_ADMIN_KEY",
            Provider::OpenAi => "OPENAI_ADMIN_KEY",
        }
    }
}

/// Which of a provider's two reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    Usage,
    Cost,
}

/// Why a source cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("reconcile.{provider}.admin_key_env: the environment variable `{variable}` is not set (or is empty)")]
    KeyMissing {
        provider: &'static str,
        variable: String,
    },
    /// The value is not repeated: it may be a key typed into the wrong setting.
    #[error("reconcile.{provider}.admin_key_env: {given} is not an environment variable name (letters, digits and _)")]
    KeyVariable {
        provider: &'static str,
        given: String,
    },
    #[error("reconcile.{0}.base_url: must start with https:// (or http:// to a loopback address: the key would cross the network in clear text)")]
    BaseUrl(&'static str),
}

/// An admin key: shown as `<admin key>` wherever it would be printed.
pub struct AdminKey(String);

impl fmt::Debug for AdminKey {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("<admin key>")
    }
}

/// One provider's admin API.
#[derive(Debug)]
pub struct Source {
    pub provider: Provider,
    base_url: String,
    key: AdminKey,
}

impl Source {
    /// The source `reports` describes, its key read from the environment now.
    pub fn from_config(provider: Provider, reports: &ProviderReports) -> Result<Self, SourceError> {
        let variable = reports
            .admin_key_env
            .clone()
            .unwrap_or_else(|| provider.default_key_env().to_string());
        let well_formed = !variable.is_empty()
            && !variable.starts_with(|c: char| c.is_ascii_digit())
            && variable
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !well_formed {
            return Err(SourceError::KeyVariable {
                provider: provider.name(),
                given: crate::config::redact::given(&variable),
            });
        }
        let key = std::env::var(&variable)
            .ok()
            .map(|key| key.trim().to_string())
            .filter(|key| !key.is_empty())
            .ok_or(SourceError::KeyMissing {
                provider: provider.name(),
                variable,
            })?;
        let base_url = reports
            .base_url
            .as_deref()
            .unwrap_or(provider.default_base_url())
            .trim_end_matches('/')
            .to_string();
        if !(base_url.starts_with("https://") || is_loopback_http(&base_url)) {
            return Err(SourceError::BaseUrl(provider.name()));
        }
        Ok(Self {
            provider,
            base_url,
            key: AdminKey(key),
        })
    }

    /// The URL of one page of `report` for the days from `from` up to (not including) `until`.
    pub fn url(
        &self,
        report: Report,
        from: ConfigDate,
        until: ConfigDate,
        page: Option<&str>,
    ) -> String {
        let buckets = (until.days_since_epoch - from.days_since_epoch).max(1);
        let mut url = match (self.provider, report) {
            (Provider::Anthropic, _) => {
                let path = match report {
                    Report::Usage => "/v1/organizations/usage_report/messages",
                    Report::Cost => "/v1/organizations/cost_report",
                };
                let group = match report {
                    Report::Usage => "model",
                    Report::Cost => "description",
                };
                format!(
                    "{}{path}?starting_at={}T00:00:00Z&ending_at={}T00:00:00Z&bucket_width=1d&group_by%5B%5D={group}&limit={}",
                    self.base_url,
                    from.to_iso(),
                    until.to_iso(),
                    buckets.min(31)
                )
            }
            (Provider::OpenAi, _) => {
                let (path, group) = match report {
                    Report::Usage => ("/v1/organization/usage/completions", "model"),
                    Report::Cost => ("/v1/organization/costs", "line_item"),
                };
                format!(
                    "{}{path}?start_time={}&end_time={}&bucket_width=1d&group_by={group}&limit={}",
                    self.base_url,
                    from.days_since_epoch * 86_400,
                    until.days_since_epoch * 86_400,
                    buckets.min(31)
                )
            }
        };
        if let Some(page) = page {
            url.push_str("&page=");
            url.push_str(&query_escaped(page));
        }
        url
    }

    /// The headers that authenticate a request; the key's value is marked sensitive.
    pub fn headers(&self) -> Vec<(http::HeaderName, http::HeaderValue)> {
        let secret = |text: &str| {
            let mut value = http::HeaderValue::from_str(text)
                .unwrap_or_else(|_| http::HeaderValue::from_static(""));
            value.set_sensitive(true);
            value
        };
        match self.provider {
            Provider::Anthropic => vec![
                (
                    http::HeaderName::from_static("x-api-key"),
                    secret(&self.key.0),
                ),
                (
                    http::HeaderName::from_static("anthropic-version"),
                    http::HeaderValue::from_static("2023-06-01"),
                ),
            ],
            Provider::OpenAi => vec![(
                http::header::AUTHORIZATION,
                secret(&format!("Bearer {}", self.key.0)),
            )],
        }
    }

    /// Reads one page of `report`.
    pub fn read(&self, report: Report, body: &[u8]) -> Result<Page, ReportPageError> {
        match (self.provider, report) {
            (Provider::Anthropic, Report::Usage) => reports::anthropic_usage(body),
            (Provider::Anthropic, Report::Cost) => reports::anthropic_costs(body),
            (Provider::OpenAi, Report::Usage) => reports::openai_usage(body),
            (Provider::OpenAi, Report::Cost) => reports::openai_costs(body),
        }
    }

    /// `text` with the key replaced by `<admin key>`, for errors that repeat what a server said.
    pub fn scrub(&self, text: &str) -> String {
        text.replace(&self.key.0, "<admin key>")
    }
}

/// Whether `url` is `http://` to this machine (a local proxy, a test server).
fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// A query value with everything but unreserved characters percent-encoded.
fn query_escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
