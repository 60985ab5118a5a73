//! An OTLP exporter's `tls` section, filled in by the standard variables
//! `OTEL_EXPORTER_OTLP_[<SIGNAL>_]{CERTIFICATE,CLIENT_CERTIFICATE,CLIENT_KEY,INSECURE}`, and the
//! rules that decide which endpoints are TLS. The files themselves are read by
//! `exporter::ClientTls`.

use super::otlp_env::{invalid, variable, KEY};
use super::{ConfigError, TlsConfig};
use std::path::PathBuf;

/// A PEM file and where it was named (a key of the file or a variable), for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemFile {
    pub path: PathBuf,
    pub origin: String,
}

/// A client certificate for mutual TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    pub cert_file: PemFile,
    pub key_file: PemFile,
}

/// TLS to one `https://` endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsSettings {
    /// The CAs to trust; `None`: the built-in Mozilla roots (webpki-roots).
    pub ca_file: Option<PemFile>,
    pub client_certificate: Option<ClientCertificate>,
    /// Checked against the server's certificate and sent as SNI instead of the endpoint's host.
    pub server_name: Option<String>,
    pub insecure_skip_verify: bool,
}

/// A signal's TLS options before its endpoint's scheme is known.
pub(super) struct TlsOptions {
    /// Whether the file has a `tls` section.
    section: bool,
    /// The file's `insecure`.
    file_insecure: Option<bool>,
    /// The file's `insecure`, else the variable's.
    insecure: Option<bool>,
    settings: TlsSettings,
}

impl TlsOptions {
    /// The file's `tls` fields, each else the signal's variable, else the general one.
    pub(super) fn resolve(
        section: Option<&TlsConfig>,
        env: &impl Fn(&str) -> Option<String>,
        signal: &str,
    ) -> Result<Self, ConfigError> {
        let empty = TlsConfig::default();
        let file = section.unwrap_or(&empty);
        let pem = |field: &str, path: &Option<PathBuf>, suffix: &str| match path {
            Some(path) => Some(PemFile {
                path: path.clone(),
                origin: format!("{KEY}.tls.{field}"),
            }),
            None => variable(env, signal, suffix).map(|(name, value)| PemFile {
                path: PathBuf::from(value.trim()),
                origin: name,
            }),
        };
        let cert_file = pem("cert_file", &file.cert_file, "CLIENT_CERTIFICATE");
        let key_file = pem("key_file", &file.key_file, "CLIENT_KEY");
        let client_certificate = match (cert_file, key_file) {
            (Some(cert_file), Some(key_file)) => Some(ClientCertificate {
                cert_file,
                key_file,
            }),
            (None, None) => None,
            (Some(only), None) | (None, Some(only)) => {
                return Err(invalid(
                    "tls",
                    format!(
                        "a client certificate needs both cert_file and key_file; only {} is set",
                        only.origin
                    ),
                ))
            }
        };
        let insecure = match (file.insecure, variable(env, signal, "INSECURE")) {
            (Some(insecure), _) => Some(insecure),
            (None, Some((name, value))) => Some(parse_bool(&name, &value)?),
            (None, None) => None,
        };
        Ok(Self {
            section: section.is_some(),
            file_insecure: file.insecure,
            insecure,
            settings: TlsSettings {
                ca_file: pem("ca_file", &file.ca_file, "CERTIFICATE"),
                client_certificate,
                server_name: file.server_name.clone(),
                insecure_skip_verify: file.insecure_skip_verify,
            },
        })
    }

    /// The scheme of an endpoint written without one: `insecure` decides when set; else TLS
    /// when a `tls` section or a certificate variable asks for it, else plain text.
    pub(super) fn default_scheme(&self) -> &'static str {
        let asks_for_tls = self.section
            || self.settings.ca_file.is_some()
            || self.settings.client_certificate.is_some();
        match self.insecure {
            Some(true) => "http",
            Some(false) => "https",
            None if asks_for_tls => "https",
            None => "http",
        }
    }

    /// The TLS settings for `target`: some for `https://`; none for `http://`, where a `tls`
    /// section is a mistake unless `insecure` says plain text is meant.
    pub(super) fn for_target(self, target: &str) -> Result<Option<TlsSettings>, ConfigError> {
        if target.starts_with("https://") {
            if self.file_insecure == Some(true) {
                return Err(invalid(
                    "tls.insecure",
                    "`true` asks for plain text, but the endpoint is https://",
                ));
            }
            return Ok(Some(self.settings));
        }
        if self.section && self.insecure != Some(true) {
            return Err(invalid(
                "tls",
                "the endpoint is plain text (http://): write https:// for TLS, or set insecure: true",
            ));
        }
        Ok(None)
    }
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(
            "tls.insecure",
            format!(
                "{name}: {} is not true or false",
                super::redact::given(value)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{resolve_otlp_exporter, OtlpExporterConfig, OtlpExporterSettings};
    use crate::test_support::env_of;

    /// Variables and their values.
    type Env = &'static [(&'static str, &'static str)];

    fn exporter(endpoint: &str, tls: Option<TlsConfig>) -> OtlpExporterConfig {
        OtlpExporterConfig {
            endpoint: Some(endpoint.into()),
            tls,
            ..Default::default()
        }
    }

    fn resolve(
        config: &OtlpExporterConfig,
        pairs: Env,
    ) -> Result<OtlpExporterSettings, ConfigError> {
        resolve_otlp_exporter(config, &env_of(pairs)).map(Option::unwrap)
    }

    fn pem(path: &str, origin: &str) -> PemFile {
        PemFile {
            path: path.into(),
            origin: origin.into(),
        }
    }

    /// Each signal's target and whether it is TLS.
    fn routes(settings: &OtlpExporterSettings) -> Vec<(String, bool)> {
        settings
            .signals
            .iter()
            .map(|signal| (signal.target.clone().unwrap(), signal.tls.is_some()))
            .collect()
    }

    #[test]
    fn an_https_endpoint_takes_the_files_tls_section() {
        let section = TlsConfig {
            ca_file: Some("/etc/ca.pem".into()),
            cert_file: Some("/etc/client.pem".into()),
            key_file: Some("/etc/client.key".into()),
            server_name: Some("collector.internal".into()),
            ..Default::default()
        };
        let settings = resolve(&exporter("https://10.0.0.1:4317", Some(section)), &[]).unwrap();
        let expected = TlsSettings {
            ca_file: Some(pem("/etc/ca.pem", "exporters.otlp.tls.ca_file")),
            client_certificate: Some(ClientCertificate {
                cert_file: pem("/etc/client.pem", "exporters.otlp.tls.cert_file"),
                key_file: pem("/etc/client.key", "exporters.otlp.tls.key_file"),
            }),
            server_name: Some("collector.internal".into()),
            insecure_skip_verify: false,
        };
        for signal in &settings.signals {
            assert_eq!(signal.target.as_deref(), Some("https://10.0.0.1:4317"));
            assert_eq!(signal.tls.as_ref(), Some(&expected));
        }
    }

    #[test]
    fn an_https_endpoint_without_a_section_trusts_the_built_in_roots() {
        let settings = resolve(&exporter("https://api.example.com", None), &[]).unwrap();
        assert_eq!(settings.signals[0].tls, Some(TlsSettings::default()));
    }

    #[test]
    fn an_endpoint_without_a_scheme_is_tls_when_something_asks_for_it() {
        let plain = ("http://collector:4317".to_string(), false);
        let tls = ("https://collector:4317".to_string(), true);
        let cases: [(Option<TlsConfig>, Env, _); 6] = [
            (None, &[], &plain),
            (Some(TlsConfig::default()), &[], &tls),
            (
                Some(TlsConfig {
                    insecure: Some(true),
                    ..Default::default()
                }),
                &[],
                &plain,
            ),
            (None, &[("OTEL_EXPORTER_OTLP_INSECURE", "false")], &tls),
            (None, &[("OTEL_EXPORTER_OTLP_CERTIFICATE", "/ca.pem")], &tls),
            (
                Some(TlsConfig::default()),
                &[("OTEL_EXPORTER_OTLP_INSECURE", "TRUE")],
                &plain,
            ),
        ];
        for (section, env, expected) in cases {
            let settings = resolve(&exporter("collector:4317", section.clone()), env).unwrap();
            assert_eq!(
                routes(&settings),
                vec![expected.clone(); 3],
                "{section:?} {env:?}"
            );
        }
    }

    #[test]
    fn a_section_with_a_plain_text_endpoint_is_refused_unless_insecure() {
        assert_eq!(
            resolve(&exporter("http://collector:4317", Some(TlsConfig::default())), &[]).unwrap_err().to_string(),
            "exporters.otlp.tls: the endpoint is plain text (http://): write https:// for TLS, or set insecure: true"
        );
        let insecure = TlsConfig {
            insecure: Some(true),
            ..Default::default()
        };
        let settings = resolve(
            &exporter("http://collector:4317", Some(insecure.clone())),
            &[],
        )
        .unwrap();
        assert_eq!(
            routes(&settings),
            vec![("http://collector:4317".to_string(), false); 3]
        );
        assert_eq!(
            resolve(&exporter("https://collector:4317", Some(insecure)), &[])
                .unwrap_err()
                .to_string(),
            "exporters.otlp.tls.insecure: `true` asks for plain text, but the endpoint is https://"
        );
    }

    #[test]
    fn the_insecure_variable_does_not_override_a_written_scheme() {
        let settings = resolve(
            &exporter("https://collector:4317", None),
            &[("OTEL_EXPORTER_OTLP_INSECURE", "true")],
        )
        .unwrap();
        assert_eq!(
            routes(&settings),
            vec![("https://collector:4317".to_string(), true); 3]
        );
        assert_eq!(
            resolve(
                &exporter("collector:4317", None),
                &[("OTEL_EXPORTER_OTLP_INSECURE", "yes")]
            )
            .unwrap_err().to_string(),
            "exporters.otlp.tls.insecure: OTEL_EXPORTER_OTLP_INSECURE: the value given (3 characters) is not true or false"
        );
    }

    #[test]
    fn certificate_variables_fill_what_the_file_leaves_out_signal_first() {
        let section = TlsConfig {
            ca_file: Some("/file/ca.pem".into()),
            ..Default::default()
        };
        let env: Env = &[
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/env/ca.pem"),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/env/client.pem"),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/env/client.key"),
            ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", " /env/traces.key "),
        ];
        let settings = resolve(&exporter("https://collector:4317", Some(section)), env).unwrap();
        let client = |signal: usize| {
            settings.signals[signal]
                .tls
                .clone()
                .unwrap()
                .client_certificate
                .unwrap()
        };
        assert_eq!(
            client(0).key_file,
            pem("/env/traces.key", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY")
        );
        assert_eq!(
            client(1).key_file,
            pem("/env/client.key", "OTEL_EXPORTER_OTLP_CLIENT_KEY")
        );
        assert_eq!(
            client(2).cert_file,
            pem("/env/client.pem", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")
        );
        for signal in &settings.signals {
            assert_eq!(
                signal.tls.as_ref().unwrap().ca_file,
                Some(pem("/file/ca.pem", "exporters.otlp.tls.ca_file"))
            );
        }
    }

    #[test]
    fn certificate_variables_are_unused_by_a_plain_text_endpoint() {
        let settings = resolve(
            &exporter("http://collector:4317", None),
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", "/env/ca.pem")],
        )
        .unwrap();
        assert_eq!(
            routes(&settings),
            vec![("http://collector:4317".to_string(), false); 3]
        );
    }

    #[test]
    fn a_client_certificate_needs_its_key_and_the_key_its_certificate() {
        let section = TlsConfig {
            cert_file: Some("/etc/client.pem".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve(&exporter("https://collector:4317", Some(section)), &[]).unwrap_err().to_string(),
            "exporters.otlp.tls: a client certificate needs both cert_file and key_file; only exporters.otlp.tls.cert_file is set"
        );
        assert_eq!(
            resolve(
                &exporter("https://collector:4317", None),
                &[("OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY", "/k.pem")]
            )
            .unwrap_err().to_string(),
            "exporters.otlp.tls: a client certificate needs both cert_file and key_file; only OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY is set"
        );
    }
}
