//! TLS on a receiver, named as the Collector's `configtls` server settings: the server's
//! certificate and key, the CAs that sign client certificates (mutual TLS), the lowest
//! protocol version, and how often the files are looked at for a rotation.

use crate::config::values::ConfigDuration;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerTlsConfig {
    /// The server's certificate chain (PEM).
    pub cert_file: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1 PEM).
    pub key_file: PathBuf,
    /// With it, only clients presenting a certificate signed by one of these CAs connect.
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
    /// `"1.2"` (default) or `"1.3"`.
    #[serde(default)]
    pub min_version: TlsVersion,
    /// How often the files are checked for changes (a certificate renewed by cert-manager is
    /// used for new connections; open ones stay).
    #[serde(default = "ten_seconds")]
    pub reload_interval: ConfigDuration,
}

fn ten_seconds() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(10))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum TlsVersion {
    #[default]
    #[serde(rename = "1.2")]
    Tls12,
    #[serde(rename = "1.3")]
    Tls13,
}
