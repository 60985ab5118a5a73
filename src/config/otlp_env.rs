//! The OTLP exporter's effective settings: the config file first, then the standard
//! `OTEL_EXPORTER_OTLP_*` environment variables, then the specification's defaults.

use super::{Compression, ConfigError, OtlpExporterConfig, OtlpProtocol};
use std::time::Duration;

/// Where and how the OTLP exporter sends, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpExporterSettings {
    /// `http://host:port` for gRPC; the base URL for HTTP (`/v1/<signal>` is appended).
    pub endpoint: String,
    pub protocol: OtlpProtocol,
    pub headers: Vec<(String, String)>,
    pub compression: Compression,
    pub timeout: Duration,
    /// Per-signal endpoints (traces, metrics, logs) from `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`:
    /// for HTTP the full URL, used as it is; for gRPC `http://host:port`.
    pub signal_endpoints: [Option<String>; 3],
}

impl OtlpExporterSettings {
    /// Where `signal` (0 traces, 1 metrics, 2 logs) goes: its own endpoint, else the general one
    /// (for HTTP with `/v1/<signal>` appended); `None` when neither is set.
    pub fn target(&self, signal: usize, path: &str) -> Option<String> {
        match &self.signal_endpoints[signal] {
            Some(endpoint) => Some(endpoint.clone()),
            None if self.endpoint.is_empty() => None,
            None if self.protocol == OtlpProtocol::HttpProtobuf => {
                Some(format!("{}{path}", self.endpoint))
            }
            None => Some(self.endpoint.clone()),
        }
    }
}

const KEY: &str = "exporters.otlp";

fn invalid(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: format!("{KEY}.{field}"),
        message: message.into(),
    }
}

/// Resolves the exporter's settings; `None` when no endpoint is configured anywhere.
pub fn resolve_otlp_exporter(
    config: &OtlpExporterConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<OtlpExporterSettings>, ConfigError> {
    let endpoint = match &config.endpoint {
        Some(endpoint) => endpoint.trim().to_string(),
        None => env("OTEL_EXPORTER_OTLP_ENDPOINT")
            .unwrap_or_default()
            .trim()
            .to_string(),
    };
    // Per-signal variables apply when the file names no endpoint, and win over the general one.
    let signal_variable = |name: &str| match &config.endpoint {
        Some(_) => None,
        None => env(name)
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty()),
    };
    let signal_raw = [
        signal_variable("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        signal_variable("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
        signal_variable("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"),
    ];
    if endpoint.is_empty() && signal_raw.iter().all(Option::is_none) {
        return Ok(None);
    }
    let protocol = match config.protocol {
        Some(protocol) => protocol,
        None => match env("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref().map(str::trim) {
            None | Some("") | Some("grpc") => OtlpProtocol::Grpc,
            Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
            Some(other) => {
                return Err(invalid(
                    "protocol",
                    format!("OTEL_EXPORTER_OTLP_PROTOCOL=`{other}` is not grpc or http/protobuf"),
                ))
            }
        },
    };
    let compression = match config.compression {
        Some(compression) => compression,
        None => match env("OTEL_EXPORTER_OTLP_COMPRESSION")
            .as_deref()
            .map(str::trim)
        {
            None | Some("") | Some("gzip") => Compression::Gzip,
            Some("none") => Compression::None,
            Some("zstd") => Compression::Zstd,
            Some(other) => {
                return Err(invalid(
                    "compression",
                    format!("OTEL_EXPORTER_OTLP_COMPRESSION=`{other}` is not gzip, zstd or none"),
                ))
            }
        },
    };
    let timeout = match config.timeout {
        Some(timeout) => timeout.0,
        None => match env("OTEL_EXPORTER_OTLP_TIMEOUT") {
            Some(ms) => Duration::from_millis(ms.trim().parse().map_err(|_| {
                invalid(
                    "timeout",
                    format!("OTEL_EXPORTER_OTLP_TIMEOUT=`{ms}` is not a number of milliseconds"),
                )
            })?),
            None => Duration::from_secs(10),
        },
    };
    if timeout.is_zero() {
        return Err(invalid("timeout", "must be longer than zero"));
    }
    let mut headers = match env("OTEL_EXPORTER_OTLP_HEADERS") {
        Some(list) => parse_header_list(&list)?,
        None => Vec::new(),
    };
    for (name, value) in &config.headers {
        headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        headers.push((name.to_ascii_lowercase(), value.clone()));
    }
    for (name, value) in &headers {
        check_header(name, value)?;
    }
    let endpoint = if endpoint.is_empty() {
        String::new()
    } else {
        normalise_endpoint(&endpoint, protocol)?
    };
    let mut signal_endpoints = [None, None, None];
    for (slot, raw) in signal_endpoints.iter_mut().zip(signal_raw) {
        *slot = raw
            .map(|raw| normalise_signal_endpoint(&raw, protocol))
            .transpose()?;
    }
    Ok(Some(OtlpExporterSettings {
        endpoint,
        protocol,
        headers,
        compression,
        timeout,
        signal_endpoints,
    }))
}

fn normalise_endpoint(endpoint: &str, protocol: OtlpProtocol) -> Result<String, ConfigError> {
    if endpoint.starts_with("https://") {
        return Err(invalid(
            "endpoint",
            format!("`{endpoint}`: TLS is not supported yet; use http://"),
        ));
    }
    let with_scheme = if endpoint.starts_with("http://") {
        endpoint.to_string()
    } else if endpoint.contains("://") {
        return Err(invalid(
            "endpoint",
            format!("`{endpoint}`: the scheme must be http://"),
        ));
    } else {
        format!("http://{endpoint}")
    };
    let uri: http::Uri = with_scheme
        .parse()
        .map_err(|err| invalid("endpoint", format!("`{endpoint}` is not a URL: {err}")))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("endpoint", format!("`{endpoint}` has no host")));
    }
    let trimmed = with_scheme.trim_end_matches('/').to_string();
    if protocol == OtlpProtocol::Grpc && uri.path() != "/" && !uri.path().is_empty() {
        return Err(invalid(
            "endpoint",
            format!("`{endpoint}`: a gRPC endpoint has no path"),
        ));
    }
    Ok(trimmed)
}

/// A per-signal endpoint: for HTTP a full URL kept as it is (the specification's rule).
fn normalise_signal_endpoint(
    endpoint: &str,
    protocol: OtlpProtocol,
) -> Result<String, ConfigError> {
    match protocol {
        OtlpProtocol::Grpc => normalise_endpoint(endpoint, protocol),
        OtlpProtocol::HttpProtobuf => {
            let normalised = normalise_endpoint(endpoint, OtlpProtocol::HttpProtobuf)?;
            Ok(if endpoint.ends_with('/') {
                format!("{normalised}/")
            } else {
                normalised
            })
        }
    }
}

/// Parses `OTEL_EXPORTER_OTLP_HEADERS`: `key=value` pairs separated by commas, values
/// percent-encoded (W3C baggage format, as the specification says).
fn parse_header_list(list: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut headers = Vec::new();
    for pair in list
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
    {
        let (name, value) = pair.split_once('=').ok_or_else(|| {
            invalid(
                "headers",
                format!("OTEL_EXPORTER_OTLP_HEADERS: `{pair}` is not key=value"),
            )
        })?;
        headers.push((
            name.trim().to_ascii_lowercase(),
            percent_decode(value.trim()),
        ));
    }
    Ok(headers)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let decoded = (bytes[index] == b'%' && index + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[index + 1..index + 3]).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn check_header(name: &str, value: &str) -> Result<(), ConfigError> {
    http::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| invalid("headers", format!("`{name}` is not a valid header name")))?;
    http::HeaderValue::from_str(value).map_err(|_| {
        invalid(
            "headers",
            format!("the value of `{name}` is not a valid header value"),
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn no_endpoint_anywhere_means_no_exporter() {
        let resolved = resolve_otlp_exporter(&OtlpExporterConfig::default(), &env_of(&[])).unwrap();
        assert_eq!(resolved, None);
    }

    #[test]
    fn standard_variables_fill_what_the_file_leaves_out() {
        let env = env_of(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318/"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "Authorization=Bearer%20abc, x-team=ml",
            ),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "none"),
        ]);
        let settings = resolve_otlp_exporter(&OtlpExporterConfig::default(), &env)
            .unwrap()
            .unwrap();
        assert_eq!(settings.endpoint, "http://collector:4318");
        assert_eq!(settings.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(
            settings.headers,
            vec![
                ("authorization".into(), "Bearer abc".into()),
                ("x-team".into(), "ml".into())
            ]
        );
        assert_eq!(settings.timeout, Duration::from_millis(2500));
        assert_eq!(settings.compression, Compression::None);
    }

    #[test]
    fn file_headers_override_environment_headers() {
        let env = env_of(&[("OTEL_EXPORTER_OTLP_HEADERS", "x-team=ml,x-a=1")]);
        let config = OtlpExporterConfig {
            endpoint: Some("http://127.0.0.1:4317".into()),
            headers: BTreeMap::from([("X-Team".to_string(), "search".to_string())]),
            ..Default::default()
        };
        let settings = resolve_otlp_exporter(&config, &env).unwrap().unwrap();
        assert_eq!(
            settings.headers,
            vec![
                ("x-a".into(), "1".into()),
                ("x-team".into(), "search".into())
            ]
        );
        assert_eq!(settings.protocol, OtlpProtocol::Grpc);
        assert_eq!(settings.timeout, Duration::from_secs(10));
        assert_eq!(settings.compression, Compression::Gzip);
    }

    #[test]
    fn empty_endpoint_in_file_disables_even_with_environment() {
        let env = env_of(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x:4317")]);
        let config = OtlpExporterConfig {
            endpoint: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(resolve_otlp_exporter(&config, &env).unwrap(), None);
    }

    #[test]
    fn tls_endpoint_is_refused_with_the_key() {
        let config = OtlpExporterConfig {
            endpoint: Some("https://x:4317".into()),
            ..Default::default()
        };
        let err = resolve_otlp_exporter(&config, &env_of(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "exporters.otlp.endpoint: `https://x:4317`: TLS is not supported yet; use http://"
        );
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%20b%2"), "a b%2");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
