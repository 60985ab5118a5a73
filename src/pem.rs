//! PEM files the configuration names (certificates, CA bundles, private keys), read and
//! parsed for the TLS of the exporters and the receivers. Errors name the key (or variable)
//! that gave the file, never its path's text.

use crate::config::redact::given_file;
use crate::config::{ConfigError, PemFile};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::RootCertStore;

impl PemFile {
    pub(crate) fn error(&self, message: String) -> ConfigError {
        ConfigError::Invalid {
            key: self.origin.clone(),
            message: format!("{}: {message}", given_file(&self.path)),
        }
    }
}

pub fn read(file: &PemFile) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(&file.path).map_err(|err| ConfigError::Invalid {
        key: file.origin.clone(),
        message: format!("cannot read {}: {err}", given_file(&file.path)),
    })
}

/// The certificates of a PEM file; at least one.
pub fn certificates(
    file: &PemFile,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| file.error(format!("not a PEM certificate bundle: {err}")))?;
    if certificates.is_empty() {
        return Err(file.error("no PEM certificate in it".into()));
    }
    Ok(certificates)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn private_key(file: &PemFile, pem: &[u8]) -> Result<PrivateKeyDer<'static>, ConfigError> {
    PrivateKeyDer::from_pem_slice(pem)
        .map_err(|err| file.error(format!("no PEM private key in it: {err}")))
}

/// The CAs of a PEM bundle, as a trust store.
pub fn ca_roots(ca_file: &PemFile) -> Result<RootCertStore, ConfigError> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates(ca_file, &read(ca_file)?)? {
        roots
            .add(certificate)
            .map_err(|err| ca_file.error(format!("not a usable CA certificate: {err}")))?;
    }
    Ok(roots)
}
