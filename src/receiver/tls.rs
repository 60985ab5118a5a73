//! TLS on a receiver (rustls on ring): the server configuration built from the certificate,
//! key and (for mutual TLS) client CA files, and rebuilt when one of them changes — a renewed
//! certificate is used for new connections while open ones carry on. A rotation that cannot be
//! read (a half-written file, a key that does not match) keeps the configuration in force.

use crate::config::{ConfigError, PemFile, ProtocolsConfig, ServerTlsConfig, TlsVersion};
use crate::pem::{ca_roots, certificates, private_key, read};
use rustls::server::WebPkiClientVerifier;
use rustls::ServerConfig;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// The TLS of each receiver, loaded with the configuration (so `validate` reads the files too).
#[derive(Debug, Clone, Default)]
pub struct ReceiverTls {
    pub grpc: Option<Arc<ServerTls>>,
    pub http: Option<Arc<ServerTls>>,
}

impl ReceiverTls {
    pub fn load(protocols: &ProtocolsConfig) -> Result<Self, ConfigError> {
        let grpc = protocols
            .grpc
            .tls
            .as_ref()
            .map(|tls| ServerTls::load(tls, "receivers.otlp.protocols.grpc.tls", &[b"h2"]))
            .transpose()?;
        let http = protocols
            .http
            .tls
            .as_ref()
            .map(|tls| {
                ServerTls::load(
                    tls,
                    "receivers.otlp.protocols.http.tls",
                    &[b"h2", b"http/1.1"],
                )
            })
            .transpose()?;
        Ok(Self { grpc, http })
    }
}

/// What each file looked like when last read: modification time and length.
type Stamps = Vec<Option<(SystemTime, u64)>>;

/// A receiver's TLS: the configuration new connections get, reloaded when its files change.
pub struct ServerTls {
    settings: ServerTlsConfig,
    /// The key the settings are under (`receivers.otlp.protocols.grpc.tls`), for errors.
    origin: String,
    alpn: Vec<Vec<u8>>,
    current: RwLock<(Arc<ServerConfig>, Stamps)>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter
            .debug_struct("ServerTls")
            .field("origin", &self.origin)
            .finish()
    }
}

impl ServerTls {
    /// Reads and checks every file of `settings` (under the key `origin`); the server offers
    /// `alpn` (`h2` for gRPC; `h2` and `http/1.1` for HTTP).
    pub fn load(
        settings: &ServerTlsConfig,
        origin: &str,
        alpn: &[&[u8]],
    ) -> Result<Arc<Self>, ConfigError> {
        let alpn: Vec<Vec<u8>> = alpn.iter().map(|protocol| protocol.to_vec()).collect();
        let stamps = stamps(settings);
        let config = build(settings, origin, &alpn)?;
        Ok(Arc::new(Self {
            settings: settings.clone(),
            origin: origin.to_string(),
            alpn,
            current: RwLock::new((config, stamps)),
        }))
    }

    /// The configuration for a connection accepted now.
    pub fn config(&self) -> Arc<ServerConfig> {
        match self.current.read() {
            Ok(current) => current.0.clone(),
            Err(poisoned) => poisoned.into_inner().0.clone(),
        }
    }

    /// Rebuilds the configuration if a file changed since it was last read. Returns whether a
    /// new configuration is in force.
    pub fn reload_if_changed(&self) -> bool {
        let now = stamps(&self.settings);
        let unchanged = self.current.read().is_ok_and(|current| current.1 == now);
        if unchanged {
            return false;
        }
        match build(&self.settings, &self.origin, &self.alpn) {
            Ok(config) => {
                if let Ok(mut current) = self.current.write() {
                    *current = (config, now);
                }
                tracing::info!("{}: certificate files re-read", self.origin);
                true
            }
            Err(error) => {
                // Remember the stamps, so a bad rotation is logged once, not every interval.
                if let Ok(mut current) = self.current.write() {
                    current.1 = now;
                }
                tracing::warn!("{error}; the certificate in use stays");
                false
            }
        }
    }

    /// Checks the files every `reload_interval` while the agent runs.
    pub fn spawn_reloader(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let tls = Arc::downgrade(self);
        let interval = self
            .settings
            .reload_interval
            .0
            .max(Duration::from_millis(100));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(tls) = tls.upgrade() else { return };
                tls.reload_if_changed();
            }
        })
    }
}

fn files(settings: &ServerTlsConfig) -> Vec<&PathBuf> {
    let mut files = vec![&settings.cert_file, &settings.key_file];
    files.extend(&settings.client_ca_file);
    files
}

fn stamps(settings: &ServerTlsConfig) -> Stamps {
    files(settings)
        .into_iter()
        .map(|path| {
            let meta = std::fs::metadata(path).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        })
        .collect()
}

fn build(
    settings: &ServerTlsConfig,
    origin: &str,
    alpn: &[Vec<u8>],
) -> Result<Arc<ServerConfig>, ConfigError> {
    let file = |path: &PathBuf, field: &str| PemFile {
        path: path.clone(),
        origin: format!("{origin}.{field}"),
    };
    let cert_file = file(&settings.cert_file, "cert_file");
    let key_file = file(&settings.key_file, "key_file");
    let chain = certificates(&cert_file, &read(&cert_file)?)?;
    let key = private_key(&key_file, &read(&key_file)?)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match settings.min_version {
        TlsVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        TlsVersion::Tls13 => &[&rustls::version::TLS13],
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|err| invalid(origin, "min_version", err))?;
    let builder = match &settings.client_ca_file {
        Some(path) => {
            let ca_file = file(path, "client_ca_file");
            let verifier = WebPkiClientVerifier::builder_with_provider(
                Arc::new(ca_roots(&ca_file)?),
                provider,
            )
            .build()
            .map_err(|err| invalid(origin, "client_ca_file", err))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|err| key_file.error(format!("not usable with the certificate: {err}")))?;
    config.alpn_protocols = alpn.to_vec();
    Ok(Arc::new(config))
}

fn invalid(origin: &str, field: &str, error: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        key: format!("{origin}.{field}"),
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;
    use rcgen::{CertificateParams, KeyPair};

    fn self_signed(name: &str) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let certificate = CertificateParams::new(vec![name.to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (certificate.pem(), key.serialize_pem())
    }

    fn settings(directory: &TempDir) -> ServerTlsConfig {
        ServerTlsConfig {
            cert_file: PathBuf::from(directory.path()).join("cert.pem"),
            key_file: PathBuf::from(directory.path()).join("key.pem"),
            client_ca_file: None,
            min_version: TlsVersion::Tls12,
            reload_interval: crate::config::ConfigDuration(Duration::from_secs(1)),
        }
    }

    const ORIGIN: &str = "receivers.otlp.protocols.grpc.tls";

    #[test]
    fn a_missing_key_is_named_by_its_key() {
        let directory = TempDir::new("server-tls-missing");
        let (certificate, _) = self_signed("localhost");
        directory.write("cert.pem", &certificate);
        let error = ServerTls::load(&settings(&directory), ORIGIN, &[b"h2"]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("receivers.otlp.protocols.grpc.tls.key_file: cannot read"),
            "{error}"
        );
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let directory = TempDir::new("server-tls-mismatch");
        let (certificate, _) = self_signed("localhost");
        let (_, other_key) = self_signed("localhost");
        directory.write("cert.pem", &certificate);
        directory.write("key.pem", &other_key);
        let error = ServerTls::load(&settings(&directory), ORIGIN, &[b"h2"]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("not usable with the certificate"),
            "{error}"
        );
    }

    #[test]
    fn a_rotated_certificate_is_taken_and_a_broken_rotation_keeps_the_old_one() {
        let directory = TempDir::new("server-tls-rotate");
        let (certificate, key) = self_signed("localhost");
        directory.write("cert.pem", &certificate);
        directory.write("key.pem", &key);
        let tls = ServerTls::load(&settings(&directory), ORIGIN, &[b"h2"]).unwrap();
        let first = tls.config();
        assert_eq!(first.alpn_protocols, vec![b"h2".to_vec()]);
        assert!(!tls.reload_if_changed(), "nothing changed");

        let (renewed, renewed_key) = self_signed("localhost");
        directory.write("cert.pem", &format!("{renewed}\n"));
        directory.write("key.pem", &renewed_key);
        assert!(tls.reload_if_changed());
        let second = tls.config();
        assert!(!Arc::ptr_eq(&first, &second));

        directory.write("key.pem", "half a key");
        assert!(!tls.reload_if_changed());
        assert!(Arc::ptr_eq(&second, &tls.config()));
    }
}
