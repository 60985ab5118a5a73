//! TLS for the OTLP exporters with rustls on the ring provider: a signal's TLS settings loaded
//! once (PEM files read and parsed, the server verifier built) and applied to the gRPC channel
//! (tonic) and to the HTTP client's connector (hyper-rustls).

use crate::config::redact::{given, given_file};
use crate::config::{
    invalid_exporter_setting as invalid, ConfigError, OtlpExporterSettings, TlsSettings,
};
use crate::pem::{ca_roots, certificates, private_key, read};
use hyper_rustls::{FixedServerNameResolver, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::Arc;
use tonic::transport::{ClientTlsConfig, Endpoint};

/// The TLS settings an exporter's signals use, each loaded once (when the configuration is
/// loaded) and handed to the clients at start.
#[derive(Clone, Default)]
pub struct LoadedTls(Vec<(TlsSettings, Arc<ClientTls>)>);

impl LoadedTls {
    /// Reads and checks the files of every distinct TLS setting of `settings`' signals.
    pub fn load(settings: &OtlpExporterSettings) -> Result<Self, ConfigError> {
        let mut loaded = Self::default();
        for tls in settings
            .signals
            .iter()
            .filter_map(|signal| signal.tls.as_ref())
        {
            if loaded.get(tls).is_none() {
                loaded
                    .0
                    .push((tls.clone(), Arc::new(ClientTls::load(tls)?)));
            }
        }
        Ok(loaded)
    }

    /// The loaded form of `settings`, if it was among those loaded.
    pub fn get(&self, settings: &TlsSettings) -> Option<&ClientTls> {
        self.0
            .iter()
            .find(|(loaded, _)| loaded == settings)
            .map(|(_, client)| client.as_ref())
    }
}

impl std::fmt::Debug for LoadedTls {
    fn fmt(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter
            .debug_list()
            .entries(self.0.iter().map(|(settings, _)| settings))
            .finish()
    }
}

/// TLS settings ready to connect with.
pub struct ClientTls {
    /// Without ALPN; each client sets its own.
    config: ClientConfig,
    verifier: Arc<dyn ServerCertVerifier>,
    /// The client certificate chain and key as read, for tonic, which parses them itself.
    identity_pem: Option<(Vec<u8>, Vec<u8>)>,
    server_name: Option<ServerName<'static>>,
}

impl ClientTls {
    /// Reads and checks every file `settings` names.
    pub fn load(settings: &TlsSettings) -> Result<Self, ConfigError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = verifier(settings, provider.clone())?;
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| setting_error("tls", err))?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone());
        let (config, identity_pem) = match &settings.client_certificate {
            None => (builder.with_no_client_auth(), None),
            Some(client) => {
                let chain_pem = read(&client.cert_file)?;
                let key_pem = read(&client.key_file)?;
                let chain = certificates(&client.cert_file, &chain_pem)?;
                let key = private_key(&client.key_file, &key_pem)?;
                let config = builder.with_client_auth_cert(chain, key).map_err(|err| {
                    client.key_file.error(match err {
                        rustls::Error::InconsistentKeys(_) => format!(
                            "not the key of the certificate in {}",
                            given_file(&client.cert_file.path)
                        ),
                        other => other.to_string(),
                    })
                })?;
                (config, Some((chain_pem, key_pem)))
            }
        };
        let server_name = settings
            .server_name
            .as_ref()
            .map(|name| {
                ServerName::try_from(name.clone()).map_err(|err| {
                    setting_error("tls.server_name", format!("{}: {err}", given(name)))
                })
            })
            .transpose()?;
        Ok(Self {
            config,
            verifier,
            identity_pem,
            server_name,
        })
    }

    /// The gRPC endpoint with this TLS (tonic negotiates HTTP/2 by ALPN).
    pub fn grpc(&self, endpoint: Endpoint) -> Result<Endpoint, tonic::transport::Error> {
        let mut config = ClientTlsConfig::new();
        if let Some((chain, key)) = &self.identity_pem {
            config = config.identity(tonic::transport::Identity::from_pem(chain, key));
        }
        if let Some(name) = &self.server_name {
            config = config.domain_name(name.to_str().into_owned());
        }
        endpoint.tls_config_with_verifier(config, self.verifier.clone())
    }

    /// A connector for HTTP/1.1 over this TLS; it refuses `http://` URLs.
    pub fn https_connector(&self, http: HttpConnector) -> HttpsConnector<HttpConnector> {
        self.connector(http, false)
    }

    /// A connector for HTTP/1.1 over this TLS to `https://` URLs, and without TLS to `http://`
    /// ones (a local proxy).
    pub fn https_or_http_connector(&self, http: HttpConnector) -> HttpsConnector<HttpConnector> {
        self.connector(http, true)
    }

    fn connector(&self, http: HttpConnector, plain_too: bool) -> HttpsConnector<HttpConnector> {
        let builder = HttpsConnectorBuilder::new().with_tls_config(self.config.clone());
        let builder = if plain_too {
            builder.https_or_http()
        } else {
            builder.https_only()
        };
        let builder = match &self.server_name {
            Some(name) => {
                builder.with_server_name_resolver(FixedServerNameResolver::new(name.clone()))
            }
            None => builder,
        };
        builder.enable_http1().wrap_connector(http)
    }
}

/// An error of the file's key `exporters.otlp.<field>`.
fn setting_error(field: &str, message: impl ToString) -> ConfigError {
    invalid(field, message.to_string())
}

/// Checks the server's certificate against `ca_file` or the built-in roots, unless
/// `insecure_skip_verify` (`ca_file` is still read then, so a bad one does not go unnoticed).
fn verifier(
    settings: &TlsSettings,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, ConfigError> {
    let roots = match &settings.ca_file {
        Some(ca_file) => ca_roots(ca_file)?,
        None => RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    if settings.insecure_skip_verify {
        return Ok(Arc::new(AcceptAnyCertificate(provider)));
    }
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|err| setting_error("tls.ca_file", err))?;
    Ok(verifier)
}

/// `insecure_skip_verify`: any certificate for any name is accepted; the handshake's signatures
/// are still checked, so the session is encrypted, but not authenticated.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ClientCertificate, PemFile};
    use crate::test_support::TempDir;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

    /// A scratch directory whose files are named in messages as `exporters.otlp.tls.<field>`.
    struct Scratch(TempDir);

    impl Scratch {
        fn new(test: &str) -> Self {
            Self(TempDir::new(&format!("tls-{test}")))
        }

        /// Writes `contents` to `name`, named in messages as the key `tls.<field>`.
        fn file(&self, name: &str, field: &str, contents: &str) -> PemFile {
            PemFile {
                path: self.0.write(name, contents).into(),
                origin: format!("exporters.otlp.tls.{field}"),
            }
        }

        fn join(&self, name: &str) -> std::path::PathBuf {
            self.0 .0.join(name)
        }
    }

    /// A CA's certificate and a client certificate with its key, in PEM.
    fn ca_and_client() -> (String, String, String) {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let client_key = KeyPair::generate().unwrap();
        let client = CertificateParams::new(vec!["agent".to_string()])
            .unwrap()
            .signed_by(&client_key, &issuer)
            .unwrap();
        (ca.pem(), client.pem(), client_key.serialize_pem())
    }

    fn refusal(settings: &TlsSettings) -> String {
        match ClientTls::load(settings) {
            Ok(_) => panic!("{settings:?} loaded"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn a_ca_file_and_a_client_certificate_load() {
        let scratch = Scratch::new("load");
        let (ca, client, key) = ca_and_client();
        let settings = TlsSettings {
            ca_file: Some(scratch.file("ca.pem", "ca_file", &ca)),
            client_certificate: Some(ClientCertificate {
                cert_file: scratch.file("client.pem", "cert_file", &client),
                key_file: scratch.file("client.key", "key_file", &key),
            }),
            server_name: Some("collector.internal".into()),
            insecure_skip_verify: false,
        };
        let tls = ClientTls::load(&settings).unwrap();
        assert_eq!(
            tls.identity_pem,
            Some((client.into_bytes(), key.into_bytes()))
        );
        assert_eq!(
            tls.server_name,
            Some(ServerName::try_from("collector.internal").unwrap())
        );
        assert!(ClientTls::load(&TlsSettings::default()).is_ok());
    }

    #[test]
    fn a_missing_file_is_named_by_its_key() {
        let settings = TlsSettings {
            ca_file: Some(PemFile {
                path: "/nonexistent/ca.pem".into(),
                origin: "OTEL_EXPORTER_OTLP_CERTIFICATE".into(),
            }),
            ..Default::default()
        };
        let message = "OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read the file it names (19 characters): No such file or directory (os error 2)";
        assert_eq!(refusal(&settings), message);
        let unverified = TlsSettings {
            insecure_skip_verify: true,
            ..settings
        };
        assert_eq!(refusal(&unverified), message, "read even when unused");
    }

    #[test]
    fn files_without_the_expected_pem_are_refused() {
        let scratch = Scratch::new("not-pem");
        let (_, client, key) = ca_and_client();
        let not_pem = scratch.file("ca.pem", "ca_file", "not a certificate\n");
        let settings = TlsSettings {
            ca_file: Some(not_pem.clone()),
            ..Default::default()
        };
        assert_eq!(
            refusal(&settings),
            format!(
                "exporters.otlp.tls.ca_file: {}: no PEM certificate in it",
                given_file(&not_pem.path)
            )
        );
        let swapped = TlsSettings {
            client_certificate: Some(ClientCertificate {
                cert_file: scratch.file("client.pem", "cert_file", &client),
                key_file: scratch.file("client.key", "key_file", &client),
            }),
            ..Default::default()
        };
        assert_eq!(
            refusal(&swapped),
            format!(
                "exporters.otlp.tls.key_file: {}: no PEM private key in it: no items found",
                given_file(&scratch.join("client.key"))
            )
        );
        let (_, other_client, _) = ca_and_client();
        let mismatched = TlsSettings {
            client_certificate: Some(ClientCertificate {
                cert_file: scratch.file("other.pem", "cert_file", &other_client),
                key_file: scratch.file("key.pem", "key_file", &key),
            }),
            ..Default::default()
        };
        assert_eq!(
            refusal(&mismatched),
            format!(
                "exporters.otlp.tls.key_file: {}: not the key of the certificate in {}",
                given_file(&scratch.join("key.pem")),
                given_file(&scratch.join("other.pem"))
            )
        );
    }

    #[test]
    fn a_server_name_that_is_no_name_is_refused() {
        let settings = TlsSettings {
            server_name: Some("not a name".into()),
            ..Default::default()
        };
        assert_eq!(
            refusal(&settings),
            "exporters.otlp.tls.server_name: the value given (10 characters): invalid dns name"
        );
    }
}
