//! PEM files the configuration names (certificates, CA bundles, private keys), read and
//! parsed for the TLS of the exporters and the receivers. Errors ([`PemError`]) name the key (or
//! variable) that gave the file, never its path's text.

use crate::config::redact::given_file;
use crate::config::{ConfigError, PemFile};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::RootCertStore;

/// A PEM file that cannot be read or used, under the key that named it.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {message}")]
pub struct PemError {
    pub key: String,
    pub message: String,
}

/// A PEM file's error is an error of the setting that named it.
impl From<PemError> for ConfigError {
    fn from(error: PemError) -> Self {
        ConfigError::Invalid {
            key: error.key,
            message: error.message,
        }
    }
}

impl PemFile {
    pub(crate) fn error(&self, message: String) -> PemError {
        PemError {
            key: self.origin.clone(),
            message: format!("{}: {message}", given_file(&self.path)),
        }
    }
}

pub fn read(file: &PemFile) -> Result<Vec<u8>, PemError> {
    std::fs::read(&file.path).map_err(|err| PemError {
        key: file.origin.clone(),
        message: format!("cannot read {}: {err}", given_file(&file.path)),
    })
}

/// The certificates of a PEM file; at least one.
pub fn certificates(file: &PemFile, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| file.error(format!("not a PEM certificate bundle: {err}")))?;
    if certificates.is_empty() {
        return Err(file.error("no PEM certificate in it".into()));
    }
    Ok(certificates)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn private_key(file: &PemFile, pem: &[u8]) -> Result<PrivateKeyDer<'static>, PemError> {
    PrivateKeyDer::from_pem_slice(pem)
        .map_err(|err| file.error(format!("no PEM private key in it: {err}")))
}

/// The CAs of a PEM bundle, as a trust store.
pub fn ca_roots(ca_file: &PemFile) -> Result<RootCertStore, PemError> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates(ca_file, &read(ca_file)?)? {
        roots
            .add(certificate)
            .map_err(|err| ca_file.error(format!("not a usable CA certificate: {err}")))?;
    }
    Ok(roots)
}
